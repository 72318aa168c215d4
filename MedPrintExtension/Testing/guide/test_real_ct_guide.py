"""The demo plan (two laminar sleeves, a spinous-process slot on one lumbar vertebra) on the bone
surface of the real shared CT: every verification figure measured here independently (VTK distance
and ray casts, trimesh), not by calling the verifier."""

import numpy as np
import pytest
import trimesh
from measure import Rays, channel_axis, shells_and_closed, slot_walls, surface_samples
from vtkmodules.vtkFiltersCore import vtkImplicitPolyDataDistance

from medprint.guide.design import design_guide
from medprint.guide.plan import load_plan
from medprint.guide.step import DEMO_PLAN
from medprint.guide.verify import verify_guide
from medprint.mesh import Mesh
from medprint.pipeline import make_model
from medprint.volume import load_volume


@pytest.fixture(scope="module")
def case(ct_dir):
    bone = make_model(load_volume(ct_dir / "abdomen-pancreas-ctcb001")).mesh
    plan = load_plan(DEMO_PLAN)
    guide = design_guide(plan, bone)
    return plan, bone, guide


@pytest.fixture(scope="module")
def vertebra(case):
    """The bone piece under the contact points (the scan's table, also above the threshold, is another piece)."""
    plan, bone, _ = case
    pieces = trimesh.Trimesh(bone.vertices, bone.faces, process=False).split(only_watertight=False)
    contact = np.asarray(plan.contact.points_lps)
    piece = min(pieces, key=lambda p: np.linalg.norm(p.vertices[:, None] - contact[None], axis=2).min())
    return Mesh(piece.vertices, piece.faces)


def test_closed_single_shell(case):
    pieces, closed = shells_and_closed(case[2].mesh)
    assert closed and pieces == 1


def test_no_intersection_and_clearance(case):
    plan, bone, guide = case
    distance = vtkImplicitPolyDataDistance()
    distance.SetInput(bone.to_polydata())
    points = surface_samples(guide.mesh, 40_000)
    signed = np.array([distance.EvaluateFunction(*p) for p in points])   # < 0 inside the bone
    assert signed.min() >= plan.clearance_mm - 0.05                       # 0.25 mm planned, resin
    assert signed.min() <= plan.clearance_mm + 0.15                       # and it is seated


def test_insertion_direction_is_the_mean_normal_of_the_contact_region(case, vertebra):
    plan, _, guide = case
    tm = trimesh.Trimesh(vertebra.vertices, vertebra.faces, process=False)
    contact = np.asarray(plan.contact.points_lps)
    near = np.linalg.norm(tm.triangles_center[:, None] - contact[None], axis=2).min(1) <= plan.contact.radius_mm
    mean = (tm.face_normals[near] * tm.area_faces[near, None]).sum(0)
    mean /= np.linalg.norm(mean)
    assert np.degrees(np.arccos(mean @ guide.insertion_lps)) < 2.0
    assert guide.insertion_lps[1] > 0.95   # posterior: the guide comes off the back of the spine


def test_slides_off_along_the_insertion_direction(case, vertebra):
    _, _, guide = case
    rays = Rays(vertebra)
    points = surface_samples(guide.mesh, 3000, seed=1)[-3000:]
    hits = [rays.first(p, guide.insertion_lps, 200.0)[0] for p in points]
    assert np.isinf(hits).all()                  # nothing of the vertebra above any guide point
    # and no bone point below the guide is lifted into it: rays from the vertebra up hit no guide
    guide_rays = Rays(guide.mesh)
    lo, hi = guide.mesh.vertices.min(0), guide.mesh.vertices.max(0)
    under = vertebra.vertices[np.all((vertebra.vertices >= lo - 1) & (vertebra.vertices <= hi + 1), axis=1)]
    inward = [guide_rays.first(p, -guide.insertion_lps, 200.0)[0] for p in under[::5]]
    assert np.isinf(inward).all()


def test_drill_channels_follow_their_trajectories(case):
    plan, _, guide = case
    rays = Rays(guide.mesh)
    for t in plan.trajectories:
        depths = np.linspace(-t.sleeve.height_mm + 1.0, -2.0, 5)
        offset, angle, diameter = channel_axis(rays, t.entry_lps, t.direction_lps, depths)
        assert offset <= 0.1 and angle <= 0.5, t.name
        assert abs(diameter - t.bore_diameter_mm) <= 0.05, t.name


def test_slot_is_centred_on_its_plane(case):
    plan, _, guide = case
    cut = plan.cuts[0]
    rays = Rays(guide.mesh)
    origin = np.asarray(cut.origin_lps)
    # the slot runs across (x) the spinous process; the blade goes in from behind (-y)
    points = [origin + [a, s, 0.0] for a in np.linspace(-5, 5, 11) for s in np.linspace(1.0, 5.5, 6)]
    offsets, widths = slot_walls(rays, points, np.asarray(cut.normal_lps))
    assert len(offsets) >= 30
    assert np.abs(offsets).max() <= 0.1
    assert np.abs(widths - plan.slot_width_mm(cut)).max() <= 0.05


def test_walls_are_at_least_the_technologys_minimum(case):
    plan, _, guide = case
    tm = trimesh.Trimesh(guide.mesh.vertices, guide.mesh.faces, process=False)
    rays = Rays(guide.mesh)
    facing_bone = np.flatnonzero(tm.face_normals @ guide.insertion_lps < -0.5)
    up_faces = tm.face_normals @ guide.insertion_lps > 0.3
    rng = np.random.default_rng(3)
    thickness = []
    label = np.asarray(guide.stats["label_centre_lps"])
    for f in rng.choice(facing_bone, 1500, replace=False):
        start = tm.triangles_center[f] + 1e-4 * guide.insertion_lps
        t, hit = rays.first(start, guide.insertion_lps, 60.0)
        if hit >= 0 and up_faces[hit]:
            thickness.append(t)
            # thinner only between the label's strokes (on the slot housing's side, 27 x 5 dots of 0.6 mm)
            assert t >= plan.tech.min_wall_mm or (t >= plan.tech.min_detail_mm and np.linalg.norm(start - label) < 9.0)
    assert len(thickness) > 1000


def test_verifier_agrees(case):
    plan, bone, guide = case
    report = verify_guide(guide, plan, bone)
    assert report.passed, report.failures()
