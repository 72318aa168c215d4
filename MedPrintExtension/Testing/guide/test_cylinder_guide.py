"""A guide on an analytic cylinder "bone": every verification figure measured here independently
(analytic distances to the cylinder, VTK ray casts, trimesh), not by calling the verifier."""

import numpy as np
import pytest
from cylinder_case import RADIUS, LENGTH, top_plan_dict
from measure import Rays, channel_axis, shells_and_closed, slot_walls, surface_samples

from medprint.guide.design import design_guide
from medprint.guide.plan import Plan
from medprint.guide.verify import verify_guide


@pytest.fixture(scope="module")
def designed(cylinder):
    plan = Plan.from_dict(top_plan_dict())
    guide = design_guide(plan, cylinder)
    return plan, guide, surface_samples(guide.mesh, 200_000)


def _radial(points):
    return np.hypot(points[:, 1], points[:, 2])


def test_closed_single_shell(designed):
    _, guide, _ = designed
    pieces, closed = shells_and_closed(guide.mesh)
    assert closed and pieces == 1
    assert guide.mesh.volume_mm3() > 0


def test_insertion_direction_is_the_contact_regions_mean_normal(designed):
    _, guide, _ = designed
    # the region is symmetric about the top of the cylinder: its mean outward normal is +z
    assert np.degrees(np.arccos(guide.insertion_lps @ [0, 0, 1])) < 0.5


def test_clearance_to_bone_and_no_intersection(designed):
    plan, _, points = designed
    over = np.abs(points[:, 0]) < LENGTH / 2
    gap = _radial(points[over]) - RADIUS     # distance to the cylinder's surface, mm
    assert gap.min() >= plan.clearance_mm - 0.05       # 0.25 mm planned (resin)
    assert gap.min() <= plan.clearance_mm + 0.1        # and the guide does reach down to it


def test_guide_sits_on_the_contact_region(designed):
    plan, guide, points = designed
    from scipy.spatial import cKDTree

    # bone surface points of the contact region away from the plate's rim and the features
    angles = np.radians(np.linspace(-18, 18, 9))
    xs = np.array([-22.0, -9.0, 4.0])
    bone = np.array([[x, RADIUS * np.sin(a), RADIUS * np.cos(a)] for x in xs for a in angles])
    distance, _ = cKDTree(points).query(bone)
    assert distance.max() <= plan.clearance_mm + 0.15


def test_slides_off_along_the_insertion_direction(designed):
    plan, _, points = designed
    # moving a guide point up (+z) hits the cylinder iff it lies under the cylinder's top in its column
    column = (np.abs(points[:, 1]) < RADIUS) & (np.abs(points[:, 0]) < LENGTH / 2)
    top = np.sqrt(RADIUS ** 2 - points[column, 1] ** 2)
    assert (points[column, 2] - top).min() >= plan.clearance_mm - 0.05


def test_drill_channels_follow_their_trajectories(designed):
    plan, guide, _ = designed
    rays = Rays(guide.mesh)
    for t in plan.trajectories:
        depths = np.linspace(-t.sleeve.height_mm + 1.0, -1.0, 6)  # inside the sleeve, above the bone
        offset, angle, diameter = channel_axis(rays, t.entry_lps, t.direction_lps, depths)
        assert offset <= 0.1, t.name
        assert angle <= 0.5, t.name
        assert abs(diameter - t.bore_diameter_mm) <= 0.05, t.name


def test_slot_is_centred_on_its_plane_with_the_planned_width(designed):
    plan, guide, _ = designed
    cut = plan.cuts[0]
    rays = Rays(guide.mesh)
    # points on the plane x = 14 inside the slot: across its length (y) and its depth (z)
    points = [[14.0, y, z] for y in np.linspace(-4, 4, 9) for z in np.linspace(RADIUS + 1.0, RADIUS + 7.5, 8)]
    offsets, widths = slot_walls(rays, points, [1.0, 0.0, 0.0])
    assert len(offsets) >= 30
    assert np.abs(offsets).max() <= 0.1
    assert np.abs(widths - plan.slot_width_mm(cut)).max() <= 0.05
    assert abs(plan.slot_width_mm(cut) - 1.1) < 1e-9   # resin: blade + 0.1 mm


def test_walls_are_at_least_the_technologys_minimum(designed):
    plan, guide, points = designed
    # the plate between the sleeves and the slot: inner surface at R + clearance, outer at R + c + t
    plate = (np.abs(points[:, 0] + 22) < 3) & (np.abs(points[:, 1]) < 4)
    radial = _radial(points[plate])
    assert radial.max() - radial.min() >= plan.thickness_mm - 0.05
    # sleeve walls: from the channel wall outwards, across the tube
    rays = Rays(guide.mesh)
    for t in plan.trajectories:
        axis = np.asarray(t.direction_lps)
        centre = np.asarray(t.entry_lps) - 0.5 * t.sleeve.height_mm * axis
        u, _ = np.linalg.svd(np.eye(3) - np.outer(axis, axis))[0][:, :2].T
        start = centre + (t.bore_diameter_mm / 2 + 0.01) * u
        wall, _ = rays.first(start, u, 10.0)
        assert wall + 0.01 >= plan.tech.min_wall_mm
        assert abs(wall + 0.01 - (t.sleeve.outer_diameter_mm - t.bore_diameter_mm) / 2) <= 0.05


def test_label_is_engraved(designed):
    plan, guide, _ = designed
    assert guide.stats["label"] == plan.label_text == "CYL L V2"
    # the pits: points of the guide's top below the plate's outer radius by about the pit depth
    from medprint.guide.label import DEPTH_MM

    mesh = guide.mesh
    top = mesh.vertices[(np.abs(mesh.vertices[:, 0]) < LENGTH / 2) & (mesh.vertices[:, 2] > 0)]
    radial = _radial(top)
    outer = RADIUS + plan.clearance_mm + plan.thickness_mm
    pit_floor = np.abs(radial - (outer - DEPTH_MM)) < 0.1
    assert pit_floor.sum() >= 40


def test_metal_sleeve_gets_a_stepped_seat(cylinder):
    """A 4 mm metal sleeve, 6 mm long, in the straight 10 mm sleeve (axis -z at x = -14, entry on the
    bone at z = 15): a 4 mm seat from the sleeve's top (z = 25) down to its floor at z = 19, the
    2.6 mm drill channel below; measured with rays, then the verifier's figures."""
    t = dict(top_plan_dict()["trajectories"][0])
    t["sleeve"] = dict(t["sleeve"], metal_sleeve_diameter_mm=4.0, metal_sleeve_length_mm=6.0)
    plan = Plan.from_dict(top_plan_dict(trajectories=[t], engrave_label=False))
    guide = design_guide(plan, cylinder)
    rays = Rays(guide.mesh)
    entry, axis = np.array(t["entry_lps"]), np.array(t["direction_lps"])
    top = entry[2] + 10.0
    seat = channel_axis(rays, entry, axis, [top - z - 10.0 for z in (24.5, 23.0, 21.5, 20.0)])
    channel = channel_axis(rays, entry, axis, [top - z - 10.0 for z in (18.5, 17.0, 16.0)])
    assert seat[0] <= 0.1 and seat[1] <= 0.5 and abs(seat[2] - 4.0) <= 0.05
    assert channel[0] <= 0.1 and channel[1] <= 0.5 and abs(channel[2] - 2.6) <= 0.05
    # depth: rays down the sleeve onto the seat's floor (between the two bores) and onto its top
    angles = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    ring = lambda r: [entry + [r * np.cos(a), r * np.sin(a), 20.0] for a in angles]  # noqa: E731
    floor = [35.0 - rays.first(p, [0, 0, -1.0])[0] for p in ring(1.65)]
    rim = [35.0 - rays.first(p, [0, 0, -1.0])[0] for p in ring(2.75)]
    assert np.ptp(floor) < 0.01 and np.ptp(rim) < 0.01
    assert abs(np.mean(rim) - top) <= 0.05 and abs(np.mean(rim) - np.mean(floor) - 6.0) <= 0.05
    report = verify_guide(guide, plan, cylinder)
    assert report.passed, report.failures()
    seat_checks = {c.name: c.value for c in report.checks if c.feature == "metal sleeve seat 'straight'"}
    assert set(seat_checks) == {"diameter error", "depth error"} and max(seat_checks.values()) <= 0.05


@pytest.mark.parametrize("edge", ["sharp", "fillet", "chamfer"])
def test_rim_edge_profile(cylinder, edge):
    """The plate's top near its end (x = 25.8 mm) from rays straight down: flat to the rim when sharp,
    a 45° line over the last 1 mm with a chamfer, a quarter circle (steepening outwards) with a fillet."""
    sizes = {"sharp": {}, "fillet": {"fillet_mm": 1.0}, "chamfer": {"chamfer_mm": 1.0}}[edge]
    plan = Plan.from_dict(top_plan_dict(trajectories=[], cuts=[], engrave_label=False, **sizes))
    rays = Rays(design_guide(plan, cylinder).mesh)
    xs = np.arange(20.0, 30.0, 0.05)
    top = np.array([40.0 - rays.first([x, 0.0, 40.0], [0.0, 0.0, -1.0], 30.0)[0] for x in xs])
    end = xs[np.isfinite(top)].max()
    flat = top[np.argmin(np.abs(xs - (end - 3.0)))]
    drop = {d: flat - top[np.argmin(np.abs(xs - (end - d)))] for d in (0.05, 0.25, 0.5, 0.75, 1.5)}
    assert abs(drop[1.5]) < 0.01   # the top is flat a chamfer's width in
    if edge == "sharp":
        assert max(abs(v) for v in drop.values()) < 0.01
    elif edge == "chamfer":
        slope = np.degrees(np.arctan((drop[0.25] - drop[0.75]) / 0.5))
        assert 42.0 <= slope <= 48.0 and 0.8 <= drop[0.05] <= 1.0
    else:
        inner, outer = (drop[0.5] - drop[0.75]) / 0.25, (drop[0.05] - drop[0.25]) / 0.2
        assert outer > 1.5 * inner and 0.6 <= drop[0.05] <= 0.8   # 1 - sqrt(1 - 0.95²) = 0.69


def test_label_that_fits_nowhere_is_left_off_with_a_warning(cylinder):
    plan = Plan.from_dict(top_plan_dict(case_label="ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", trajectories=[]))
    guide = design_guide(plan, cylinder)
    # 37 letters 4 dots apart at 0.6 mm (resin: ridges of 0.99 dot >= 0.5 mm): 88.2 mm + 1 mm margins; the
    # plate is 52 mm long, the slot housing 16 mm
    assert guide.stats["label"] == "" and guide.stats["label_place"] == ""
    assert guide.stats["warnings"] == [f"label '{plan.label_text}' left off: no flat area of the plate or of a "
                                       "slot housing holds it (at its smallest letters for resin it needs 90.2 x 5.0 mm)"]
    # nothing was cut for it: the top carries no pit floor DEPTH_MM below the plate's outer radius
    from medprint.guide.label import DEPTH_MM

    top = guide.mesh.vertices[guide.mesh.vertices[:, 2] > 0]
    outer = RADIUS + plan.clearance_mm + plan.thickness_mm
    assert (np.abs(_radial(top) - (outer - DEPTH_MM)) < 0.1).sum() == 0


def test_verifier_agrees(designed, cylinder):
    plan, guide, _ = designed
    report = verify_guide(guide, plan, cylinder)
    assert report.passed, report.failures()
    names = {(c.feature, c.name) for c in report.checks}
    assert ("channel 'tilted'", "axis angle") in names and ("slot 'osteotomy'", "width error") in names


def test_fdm_uses_wider_clearances(cylinder):
    plan = Plan.from_dict(top_plan_dict(technology="fdm", trajectories=[], engrave_label=False))
    guide = design_guide(plan, cylinder)
    points = surface_samples(guide.mesh, 50_000)
    over = np.abs(points[:, 0]) < LENGTH / 2
    gap = _radial(points[over]) - RADIUS
    assert plan.clearance_mm == 0.4 and abs(plan.slot_width_mm(plan.cuts[0]) - 1.4) < 1e-9
    assert plan.clearance_mm - 0.05 <= gap.min() <= plan.clearance_mm + 0.1
    offsets, widths = slot_walls(Rays(guide.mesh), [[14.0, y, RADIUS + 4.0] for y in np.linspace(-4, 4, 9)],
                                 [1.0, 0.0, 0.0])
    assert len(widths) == 9 and np.abs(widths - 1.4).max() <= 0.05


def test_closed_curve_contact_region(cylinder):
    # a closed curve on the cylinder's top: x from -20 to 20, ±30° round the axis
    angles = np.radians(30.0)
    corners = [(-20, -angles), (20, -angles), (20, angles), (-20, angles)]
    curve = []
    for (x0, a0), (x1, a1) in zip(corners, corners[1:] + corners[:1]):
        for f in np.linspace(0, 1, 10, endpoint=False):
            x, a = x0 + f * (x1 - x0), a0 + f * (a1 - a0)
            curve.append([x, RADIUS * np.sin(a), RADIUS * np.cos(a)])
    plan = Plan.from_dict(top_plan_dict(contact={"curve_lps": curve, "radius_mm": 2.0}, trajectories=[], cuts=[],
                                        engrave_label=False))
    guide = design_guide(plan, cylinder)
    vertices = guide.mesh.vertices
    # the plate covers the enclosed surface: x to ±20 mm (+ thickness), 30° round each way
    assert -21.5 < vertices[:, 0].min() < -19.5 and 19.5 < vertices[:, 0].max() < 21.5
    inner = vertices[_radial(vertices) < RADIUS + 1.0]
    half_angle = np.degrees(np.abs(np.arctan2(inner[:, 1], inner[:, 2]))).max()
    assert 28.0 < half_angle < 32.0
    gap = _radial(surface_samples(guide.mesh, 50_000)) - RADIUS
    assert plan.clearance_mm - 0.05 <= gap.min() <= plan.clearance_mm + 0.1
