"""Verification of a finished guide against its plan and the bone (LPS mm): every figure measured
on the guide's surface, each check naming its feature and its number.

Checks: closed and one shell; least gap to the bone >= clearance - ``TOLERANCE_MM`` and no overlap;
removal: along the insertion direction no column of the guide has bone above it; each drill channel
(cylinder fitted to the channel's wall vertices) within 0.1 mm / 0.5° of its trajectory, diameter
within 0.05 mm, and a metal sleeve's seat within 0.05 mm of its diameter and depth; each slot (rays across it from points on its plane) centred within 0.1 mm, width
within 0.05 mm; the plate, each sleeve and each slot housing at least the technology's minimum
wall thick, read by the export QA's wall measure (see ``least_walls``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional

import numpy as np

from ..mesh import Mesh
from ..progress import Progress, no_progress
from .contact import seated_part, select_contact
from .design import Guide
from .heightmap import Frame, Grid, zbuffer
from .plan import Plan
from .sleeves import SleeveGeometry
from .slots import SlotGeometry
from .solids import basis, to_manifold

TOLERANCE_MM = 0.05          # clearance may fall short of the plan by this much (height-map sampling)
AXIS_OFFSET_MM = 0.1
AXIS_ANGLE_DEG = 0.5
DIAMETER_MM = 0.05
SLOT_CENTRE_MM = 0.1
SLOT_WIDTH_MM = 0.05
SEAT_DEPTH_MM = 0.05


@dataclass(frozen=True)
class Check:
    """One verification figure: ``value`` against ``limit`` (``kind`` ">=" or "<=")."""

    name: str
    feature: str
    value: float
    limit: float
    kind: str
    unit: str

    @property
    def passed(self) -> bool:
        return bool(self.value >= self.limit if self.kind == ">=" else self.value <= self.limit)

    def message(self) -> str:
        verdict = "ok" if self.passed else "FAILED"
        return f"{self.feature}: {self.name} {self.value:.3f} {self.unit} (must be {self.kind} {self.limit:g}) {verdict}"

    def to_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


@dataclass(frozen=True)
class Report:
    checks: tuple

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def failures(self) -> list[str]:
        return [c.message() for c in self.checks if not c.passed]

    def to_dict(self) -> dict:
        return {"passed": self.passed, "checks": [c.to_dict() for c in self.checks]}


def verify_guide(guide: Guide, plan: Plan, bone: Mesh, progress: Optional[Progress] = None) -> Report:
    """Measure ``guide`` (designed from ``plan`` on ``bone``) and compare with the plan."""
    from ..topology import edges, shells

    progress = progress or no_progress
    plan = plan.validated()
    mesh, bone = guide.mesh.in_space("LPS"), bone.in_space("LPS")
    bone = seated_part(bone, select_contact(bone, plan.contact))
    c = plan.clearance_mm
    checks = [Check("closed surface", "guide", float(mesh.is_watertight()), 1, ">=", "(1 = yes)"),
              Check("shells", "guide", float(shells(mesh, edges(mesh))[0]), 1, "<=", "")]
    progress(0.05, "gap to bone")
    gap, overlap = _gap_and_overlap(mesh, bone, c + 1.0)
    checks += [Check("least gap to bone", "guide", gap, c - TOLERANCE_MM, ">=", "mm"),
               Check("overlap with bone", "guide", overlap, 0.001, "<=", "mm³")]
    progress(0.4, "removal along the insertion direction")
    checks.append(Check("removal clearance along insertion", "guide",
                        _removal_clearance(mesh, bone, guide.insertion_lps), c - TOLERANCE_MM, ">=", "mm"))
    frame = guide.frame
    sleeves = [SleeveGeometry.of(t, frame) for t in plan.trajectories]
    slots = [SlotGeometry.of(c, plan, frame) for c in plan.cuts]
    for sleeve in sleeves:
        checks += _channel_checks(mesh, sleeve, frame)
    for slot in slots:
        checks += _slot_checks(mesh, slot, frame)
    progress(0.7, "wall thickness")
    walls = least_walls(mesh, plan.tech.min_wall_mm, sleeves, slots, frame, guide.label, plan.tech.min_detail_mm)
    for feature, (wall, at) in walls.items():
        where = "" if at is None else " near (" + ", ".join(f"{x:.1f}" for x in at) + ") mm"
        limit = plan.tech.min_detail_mm if feature == "label" else plan.tech.min_wall_mm
        checks.append(Check("least wall thickness" + where, feature, wall, limit, ">=", "mm"))
    progress(1.0, "verified")
    return Report(tuple(checks))


def least_walls(mesh: Mesh, min_wall_mm: float, sleeves, slots, frame: Frame, label=None,
                min_detail_mm: float = 0.0) -> dict:
    """Per feature (``plate``, ``sleeve 'name'``, ``slot 'name'``, ``label 'text'``): (least wall
    mm, where or None), read by the export QA's own wall measure (:func:`medprint.qa.face_walls`,
    inward rays) on the faces of that feature: a sleeve's faces lie within its tube, a slot's within
    its housing, the label's within its relief (its ridges are detail, held to ``min_detail_mm``,
    the rest to ``min_wall_mm``), the plate's are the rest. As in the QA, a place thinner than the
    limit counts only if it covers the QA's thin area (:class:`~medprint.qa.QASettings`); the
    figure is then its thinnest reading and its centre (LPS mm), otherwise the least reading
    elsewhere (smaller thin spots aside)."""
    from ..qa import QASettings, face_geometry, face_walls, thin_regions
    from ..rays import RayCaster
    from ..topology import edges, merge_coincident

    settings = QASettings()
    mesh, _ = merge_coincident(mesh)  # as the QA reads it
    geometry = face_geometry(mesh)
    walls = face_walls(mesh, RayCaster(mesh), settings.max_wall_mm, geometry)
    centroid = frame.to_local(geometry[0])
    owner = np.zeros(len(walls), dtype=object)
    owner[:] = "plate"
    for s in sleeves:
        rel = centroid - s.entry
        along = rel @ s.axis
        radial = np.linalg.norm(rel - np.outer(along, s.axis), axis=1)
        owner[(radial <= s.outer_radius + 0.05) & (along >= -s.height - 0.05) & (along <= 0.05)] = f"sleeve '{s.name}'"
    for s in slots:
        rel = centroid - (s.origin - 0.5 * s.depth * s.saw_axis)
        half = (0.5 * s.length + s.wall, 0.5 * s.width + s.wall, 0.5 * s.depth)
        inside = np.ones(len(walls), dtype=bool)
        for axis, h in zip((s.length_axis, s.normal, s.saw_axis), half):
            inside &= np.abs(rel @ axis) <= h + 0.05
        owner[inside] = f"slot '{s.name}'"
    features = ["plate", *(f"sleeve '{s.name}'" for s in sleeves), *(f"slot '{s.name}'" for s in slots)]
    if label is not None:
        features.append("label")
        owner[label.holds(centroid)] = "label"
    pairs = edges(mesh).vertices
    out = {}
    for feature in features:
        mine = owner == feature
        limit = min_detail_mm if feature == "label" else min_wall_mm
        big = [r for r in thin_regions(mesh, walls, limit, geometry[2], pairs, mine)
               if r.area_mm2 >= settings.thin_area_mm2]
        if big:
            thinnest = min(big, key=lambda r: r.value)
            out[feature] = (float(thinnest.value), thinnest.center_mm)
        else:
            rest = walls[mine & (walls >= limit)]
            out[feature] = (float(rest.min()) if len(rest) else settings.max_wall_mm, None)
    return out


def _gap_and_overlap(mesh: Mesh, bone: Mesh, search_mm: float) -> tuple[float, float]:
    """Least distance between guide and bone (up to ``search_mm``) and their overlap volume (mm³)."""
    guide_solid = to_manifold(mesh.vertices, mesh.faces, "guide")
    bone_solid = to_manifold(bone.vertices, bone.faces, "bone model")
    overlap = (guide_solid ^ bone_solid).volume()
    return float(guide_solid.min_gap(bone_solid, search_mm)), float(overlap)


def _removal_clearance(mesh: Mesh, bone: Mesh, direction: np.ndarray, step_mm: float = 0.1) -> float:
    """Least height of the guide above the bone over the columns along ``direction`` (mm): the guide
    slides off along ``direction`` without touching bone when this is positive."""
    frame = Frame.along(direction, mesh.vertices.mean(0))
    guide_local, bone_local = frame.to_local(mesh.vertices), frame.to_local(bone.vertices)
    grid = Grid.covering(guide_local[:, :2].min(0), guide_local[:, :2].max(0), step_mm)
    low = zbuffer(guide_local, mesh.faces, grid, highest=False)
    high = zbuffer(bone_local, bone.faces, grid, highest=True)
    both = np.isfinite(low) & np.isfinite(high)
    return float((low - high)[both].min()) if both.any() else float("inf")


def _channel_checks(mesh: Mesh, sleeve: SleeveGeometry, frame: Frame) -> list[Check]:
    """The channel's axis and diameter (below a metal sleeve's seat), and the seat's diameter and
    depth (from the sleeve's top face to the seat's floor, both found on the surface)."""
    entry, axis = frame.to_lps([sleeve.entry])[0], frame.axes.T @ sleeve.axis
    below_seat = -sleeve.height + sleeve.seat_depth - 0.05 if sleeve.seat_radius else -np.inf   # from the seat's floor
    wall = _near_cylinder(mesh.vertices, entry, axis, sleeve.bore_radius, 0.3, (below_seat, np.inf))
    name = f"channel '{sleeve.name}'"
    if len(wall) < 12:
        return [Check("wall points found", name, float(len(wall)), 12, ">=", "")]
    point, direction, radius = fit_cylinder(wall, entry, axis, sleeve.bore_radius)
    offset = np.linalg.norm(np.cross(entry - point, direction))
    angle = np.degrees(np.arccos(min(1.0, abs(float(direction @ axis)))))
    checks = [Check("axis offset at entry", name, float(offset), AXIS_OFFSET_MM, "<=", "mm"),
              Check("axis angle", name, float(angle), AXIS_ANGLE_DEG, "<=", "°"),
              Check("diameter error", name, float(abs(2 * radius - 2 * sleeve.bore_radius)), DIAMETER_MM, "<=", "mm")]
    if sleeve.seat_radius:
        checks += _seat_checks(mesh, sleeve, entry, direction)
    return checks


def _seat_checks(mesh: Mesh, sleeve: SleeveGeometry, entry: np.ndarray, axis: np.ndarray) -> list[Check]:
    """The seat's wall (vertices on its cylinder, searched a millimetre past both planned ends): its
    fitted diameter, and its depth from its top rim (on the sleeve's top) to its floor."""
    name = f"metal sleeve seat '{sleeve.name}'"
    top, floor = -sleeve.height, -sleeve.height + sleeve.seat_depth
    wall = _near_cylinder(mesh.vertices, entry, axis, sleeve.seat_radius, 0.3, (top - 1.0, floor + 1.0))
    if len(wall) < 12:
        return [Check("wall points found", name, float(len(wall)), 12, ">=", "")]
    _, _, radius = fit_cylinder(wall, entry, axis, sleeve.seat_radius)
    along = (wall - entry) @ axis
    depth = float(along.max() - along.min())
    return [Check("diameter error", name, float(abs(2 * radius - 2 * sleeve.seat_radius)), DIAMETER_MM, "<=", "mm"),
            Check("depth error", name, abs(depth - sleeve.seat_depth), SEAT_DEPTH_MM, "<=", "mm")]


def _near_cylinder(points, point, axis, radius, band, span=(-np.inf, np.inf)) -> np.ndarray:
    """The ``points`` within ``band`` of the cylinder (``radius`` about ``point`` + s ``axis``),
    with s within ``span`` (mm)."""
    rel = points - point
    along = rel @ axis
    distance = np.linalg.norm(rel - np.outer(along, axis), axis=1)
    return points[(np.abs(distance - radius) <= band) & (along >= span[0]) & (along <= span[1])]


def fit_cylinder(points: np.ndarray, point: np.ndarray, axis: np.ndarray, radius: float):
    """Least-squares cylinder through ``points`` (n, 3) starting from a guess: (point on the axis
    nearest the guess point, unit axis, radius). A robust first fit picks the points on the
    cylinder (within 0.02 mm), a plain least-squares fit on those gives the result."""
    from scipy.optimize import least_squares

    u, v = basis(axis)

    def unpack(p):
        centre = point + p[0] * u + p[1] * v
        direction = axis + p[2] * u + p[3] * v
        return centre, direction / np.linalg.norm(direction), p[4]

    def residual(p):
        centre, direction, r = unpack(p)
        rel = points - centre
        return np.linalg.norm(rel - np.outer(rel @ direction, direction), axis=1) - r

    scale = [0.1, 0.1, 0.01, 0.01, 0.1]
    fit = least_squares(residual, np.array([0, 0, 0, 0, radius]), x_scale=scale, loss="soft_l1", f_scale=0.01)
    inliers = np.abs(residual(fit.x)) <= 0.02  # the wall; drop points of faces meeting it
    if inliers.sum() >= 12:
        points = points[inliers]
        fit = least_squares(residual, fit.x, x_scale=scale)
    centre, direction, r = unpack(fit.x)
    centre = centre + ((point - centre) @ direction) * direction
    return centre, direction, float(r)


def _slot_checks(mesh: Mesh, slot: SlotGeometry, frame: Frame) -> list[Check]:
    """Rays along ± the cut's normal from points of the plane inside the slot: width = the two hit
    distances' sum, centring error = half their difference."""
    from ..rays import RayCaster

    name = f"slot '{slot.name}'"
    normal = frame.axes.T @ slot.normal
    along = np.linspace(-0.4, 0.4, 9) * slot.length
    down = np.linspace(-slot.depth + 0.2, -0.2, 12)   # inside the housing, off its top and bottom edges
    origin = frame.to_lps([slot.origin])[0]
    points = np.array([origin + a * (frame.axes.T @ slot.length_axis) + s * (frame.axes.T @ slot.saw_axis)
                       for a in along for s in down])
    caster = RayCaster(mesh)
    reach = slot.width + 2 * slot.wall + 1.0
    face_p, plus = caster.first_hits(points, np.tile(normal, (len(points), 1)), 0.0, reach)
    face_m, minus = caster.first_hits(points, np.tile(-normal, (len(points), 1)), 0.0, reach)
    walls = (face_p >= 0) & (face_m >= 0) & (plus + minus <= slot.width + 0.5)
    if walls.sum() < 3:
        return [Check("wall pairs found", name, float(walls.sum()), 3, ">=", "")]
    width = plus[walls] + minus[walls]
    centre = 0.5 * (plus[walls] - minus[walls])
    return [Check("centre offset from plane", name, float(np.abs(centre).max()), SLOT_CENTRE_MM, "<=", "mm"),
            Check("width error", name, float(np.abs(width - slot.width).max()), SLOT_WIDTH_MM, "<=", "mm")]
