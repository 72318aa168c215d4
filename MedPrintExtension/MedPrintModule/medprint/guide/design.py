"""Plan + bone surface -> the guide's closed surface (LPS mm).

Stages, in the insertion frame (z away from the bone):

1. contact: points sampled on the contact region; the insertion direction (plan's, or their
   mean outward normal); refuses a region that is mostly hidden under undercuts.
2. heights: the bone's highest point per column (undercuts blocked out), dilated by a ball of the
   clearance (inner surface) and of clearance + thickness (outer surface), narrow gaps bridged.
3. body: the plate over the footprint (contact region + features), between those surfaces; thin
   tabs its vertical rim leaves where it crosses steep ground obliquely (read with the export QA's
   wall measure) are cut off (:mod:`.rim`).
4. csg (manifold3d): plate ∪ sleeves ∪ slot housings, minus the blocked-out bone dilated by the
   clearance, minus drill channels and saw slots, minus the engraved label.

Everything left lies above the dilated blocked-out bone, so the guide keeps its clearance from the
bone and slides off along the insertion direction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..errors import InputError, MedPrintError
from ..mesh import Mesh
from ..progress import Progress, no_progress
from . import body
from .contact import Contact, insertion_direction, seated_part, select_contact
from .heightmap import Frame, Grid, prism, zbuffer
from .label import MARGIN_MM, Label, dot_sizes, engraving, text_size
from .plan import Plan
from .rim import trim_thin_tabs
from .sleeves import RUN_OUT_MM, SleeveGeometry
from .slots import SlotGeometry
from .solids import to_arrays, to_manifold

#: Column spacing of the height maps, mm (the inner surface is exact at the columns).
STEP_MM = 0.2
#: The clearance surface is grown by this share of the column step beyond the clearance: between
#: columns it is interpolated linearly, which cuts a little into the ball-shaped offset.
CLEARANCE_MARGIN = 0.25
#: Gaps in the bone narrower than twice this are bridged by the plate, mm.
BRIDGE_MM = 3.0
#: The contact points and features are joined into one plate across gaps up to twice this, mm.
JOIN_MM = 3.0
#: Least share of the contact region's area that must face and be reachable along the insertion
#: direction; below it the region is mostly undercut.
MIN_REACHABLE = 0.5
#: Pieces smaller than this are numerical debris of the booleans, dropped, mm³.
DEBRIS_MM3 = 0.01
#: A sleeve must keep at least this share of its tube above the (clearance-dilated) bone.
MIN_SLEEVE_OUTSIDE = 0.5
#: Edges shorter than this are collapsed after the booleans (surfaces move less than it), mm: a
#: binary STL holds float32 coordinates, in which the booleans' shortest edges would fold over.
WELD_MM = 1e-3
#: The plate is lifted beside saw slots standing at most this far off the insertion direction, °.
MAX_LEAN_DEG = 10.0


class GuideDesignError(MedPrintError):
    """The plan cannot be built into a guide (the message names the feature and the number)."""


@dataclass(frozen=True, eq=False)
class Guide:
    """A designed guide: its surface (LPS mm), the insertion direction (unit, LPS) and figures."""

    mesh: Mesh
    insertion_lps: np.ndarray
    frame: Frame
    contact: Contact
    stats: dict = field(default_factory=dict)
    operands: Optional["Operands"] = None   # the solids it was cut from (frame mm), for comparisons
    label: Optional[Label] = None           # the engraved label (frame mm), or None


def design_guide(plan: Plan, bone: Mesh, *, step_mm: float = STEP_MM,
                 progress: Optional[Progress] = None) -> Guide:
    """Design the guide of ``plan`` on ``bone`` (a closed surface, LPS mm); see the module docstring."""
    progress = progress or no_progress
    plan = plan.validated()
    bone = bone.in_space("LPS")
    times = {}
    clock = time.perf_counter()

    def lap(stage: str, fraction: float) -> None:
        nonlocal clock
        now = time.perf_counter()
        times[stage] = now - clock
        clock = now
        progress(fraction, f"{stage} done")

    progress(0.0, "contact region")
    contact = select_contact(bone, plan.contact)
    bone = seated_part(bone, contact)
    direction = np.asarray(plan.insertion_direction_lps) if plan.insertion_direction_lps else \
        insertion_direction(contact)
    frame = Frame.along(direction, contact.points.mean(0))
    local = frame.to_local(bone.vertices)
    sleeves = [SleeveGeometry.of(t, frame) for t in plan.trajectories]
    slots = [SlotGeometry.of(c, plan, frame) for c in plan.cuts]
    lap("contact", 0.05)

    c, t = plan.clearance_mm, plan.thickness_mm
    contact_xy = frame.to_local(contact.points)[:, :2]
    feature_xy = [s.footprint_points() for s in sleeves] + [s.footprint_points() for s in slots]
    xy = np.vstack([contact_xy, *feature_xy])
    pad = c + t + BRIDGE_MM + 2 * step_mm
    grid = Grid.covering(xy.min(0) - pad, xy.max(0) + pad, step_mm)
    near = _faces_over(local, bone.faces, grid)
    top = zbuffer(local, near, grid, highest=True)
    if not np.isfinite(top).any():
        raise InputError("The bone surface does not lie under the contact region.")
    _check_reachable(contact, frame, top, grid, direction)
    feature_z = [s.entry[2] for s in sleeves] + [s.origin[2] for s in slots]
    floor = min([float(top[np.isfinite(top)].min()), *feature_z]) - RUN_OUT_MM - 5.0
    envelope = body.bone_envelope(top, floor)
    bridged = np.maximum(envelope, _grey_closing(envelope, BRIDGE_MM, step_mm, floor))
    inner = body.ball_dilation(envelope, c + CLEARANCE_MARGIN * step_mm, step_mm, floor)
    outer = body.ball_dilation(bridged, c + t, step_mm, floor)
    lap("heights", 0.3)

    # the plate reaches a wall's width past each sleeve and housing, so its rim never runs a hair
    # beside theirs (a sliver of plate between the two)
    min_wall = plan.tech.min_wall_mm
    columns = body.mark_columns(grid, contact_xy)
    for s in sleeves:
        body.mark_disk(columns, grid, s.entry[:2], s.outer_radius + min_wall + step_mm)
    for s in slots:
        columns |= _grow(body.hull_columns(grid, s.footprint_points()), int(np.ceil(min_wall / step_mm)) + 1)
    # what the features stand on (half a wall past them) stays when thin rim tabs are cut off
    under_features = np.zeros_like(columns)
    for s in sleeves:
        body.mark_disk(under_features, grid, s.entry[:2], s.outer_radius + 0.5 * min_wall + step_mm)
    for s in slots:
        under_features |= _grow(body.hull_columns(grid, s.footprint_points()),
                                int(np.ceil(0.5 * min_wall / step_mm)) + 1)
    columns &= bridged > floor + 1.0   # only over bone
    cells = body.footprint(columns, step_mm, JOIN_MM, 2 * min_wall)
    if not cells.any():
        raise InputError("The contact region is too small to seat a guide on.",
                         hint=f"make it at least {2 * min_wall:g} mm across")
    # near the plate's rim: the underside lifted, the top lowered (each to its extreme within a
    # wall's width), so no sheet or fin thinner than the minimum wall stands at the rim
    rim = body.cell_columns(cells)
    bottom = body.rim_max(_lift_beside_slots(inner, slots, grid, min_wall), rim, min_wall + step_mm, step_mm)
    plate_floor = np.maximum(bottom, bridged - 0.5) - 0.5
    underside = np.maximum(plate_floor, bottom)
    outer = np.maximum(outer, bottom + t)
    # at least a wall's thickness across the plate, measured square to its underside (on steep
    # ground a wall's height over the underside says nothing about its thickness; a steep face
    # spans a column step, hence the step's margin)
    least_top = body.ball_dilation(np.where(rim, underside, floor), min_wall + step_mm + 2 * WELD_MM, step_mm, floor)
    outer = _lift_beside_slots(outer, slots, grid, min_wall)
    outer = np.maximum(-body.rim_max(-outer, rim, min_wall + step_mm, step_mm), least_top)
    outer = body.edged_top(outer, least_top, cells, plan.fillet_mm, plan.chamfer_mm, step_mm)
    # solids below a height map, each only as wide as what it cuts (small meshes, fast booleans)
    blocked = _below(bottom, grid, floor, "blocked-out bone", _grow(cells, 2))
    untrimmed = int(cells.sum())
    plate, cells = trim_thin_tabs(cells, under_features, blocked, grid, min_wall, c + t,
                                  lambda k: to_manifold(*prism(outer, k, grid, plate_floor), "guide plate"))
    near = lambda xy: _cells_round(grid, xy, 2)  # noqa: E731
    seats = [_below(outer - 0.5 * t, grid, floor, "plate", near(f.footprint_points())) for f in [*sleeves, *slots]]
    lap("body", 0.4)

    for sleeve in sleeves:
        _check_sleeve_outside(sleeve, _below(bottom, grid, floor, "bone", near(sleeve.footprint_points())))
    label = engraving(plan.label_text, grid, outer, cells, sleeves, slots, underside, min_wall, plan.tech.min_detail_mm)
    operands = Operands(plate, blocked, seats, [s.tube() for s in sleeves], [s.housing() for s in slots],
                        [s.channel() for s in sleeves], [s.slot() for s in slots],
                        None if label is None else label.pits, sleeves, slots, min_wall)
    cut = cut_guide(operands).simplify(WELD_MM)
    lap("csg", 0.9)

    vertices, faces = to_arrays(cut)
    mesh = Mesh(frame.to_lps(vertices), faces, "LPS")
    lap("mesh", 1.0)
    stats = {
        "triangles": mesh.triangle_count,
        "volume_cm3": mesh.volume_mm3() / 1000.0,
        "insertion_direction_lps": [round(float(v), 6) for v in direction],
        "contact_area_mm2": float(contact.areas.sum()),
        "grid": [grid.nx, grid.ny],
        "step_mm": step_mm,
        "rim_trimmed_mm2": round((untrimmed - int(cells.sum())) * step_mm * step_mm, 2),   # in plan view
        "label": plan.label_text if label is not None else "",
        "label_place": "" if label is None else label.place,
        "label_centre_lps": [] if label is None else [round(float(v), 3) for v in frame.to_lps([label.centre])[0]],
        "label_dot_mm": 0.0 if label is None else label.dot_mm,
        "warnings": [] if label is not None or not plan.label_text else [
            f"label '{plan.label_text}' left off: no flat area of the plate or of a slot housing holds it "
            f"(at its smallest letters for {plan.technology} it needs {_label_size(plan)} mm)"],
        "seconds": times,
    }
    return Guide(mesh, direction, frame, contact, stats, operands, label)


def _label_size(plan: Plan) -> str:
    """'width x height' of the plan's label on one line at its smallest dots, with margins (mm)."""
    width, height = text_size([plan.label_text], dot_sizes(plan.tech.min_detail_mm)[-1])
    return f"{width + 2 * MARGIN_MM:.1f} x {height + 2 * MARGIN_MM:.1f}"


@dataclass(frozen=True, eq=False)
class Operands:
    """The solids a guide is cut from (manifold3d, frame mm): the plate, the blocked-out bone grown
    by the clearance (under the plate), the solid below the plate's mid-surface under each sleeve
    and housing (they stand on it; tubes first), sleeve tubes, slot housings, drill channels, saw
    slots as planned and the label's pits (or None); with ``min_wall`` the saw slots are lengthened
    below their housings where their planned ends would leave a skin of plate (see
    :meth:`SlotGeometry.end_skins`)."""

    plate: object
    blocked: object
    seats: list
    tubes: list
    housings: list
    channels: list
    slots: list
    label: object
    sleeve_shapes: list
    slot_shapes: list
    min_wall: float = 0.0   # > 0: slots lengthened below their housings where they would leave a skin


def cut_guide(o: Operands):
    """(plate - blocked) + (tubes - seats) + (housings - seats) - channels - slots - label, checking
    that the guide stays in one piece (naming the feature that does not)."""
    import manifold3d

    tubes = [tube - seat for tube, seat in zip(o.tubes, o.seats)]
    housings = [housing - seat for housing, seat in zip(o.housings, o.seats[len(o.tubes):])]
    plate_body = o.plate - o.blocked
    solid = manifold3d.Manifold.batch_boolean([plate_body, *tubes, *housings], manifold3d.OpType.Add)
    solid = _check_one_piece(solid, o.sleeve_shapes, tubes, o.slot_shapes, housings)
    slots = o.slots
    if o.slot_shapes and o.min_wall:
        uncut = Mesh(*to_arrays(solid), "LPS")   # frame mm
        slots = [s.slot(s.end_skins(uncut, o.min_wall)) for s in o.slot_shapes]
    cut = manifold3d.Manifold.batch_boolean([solid, *o.channels, *slots], manifold3d.OpType.Subtract)
    cut = _check_slots_keep_one_piece(cut, plate_body, o.slot_shapes)
    return cut if o.label is None else cut - o.label


def _lift_beside_slots(heights: np.ndarray, slots, grid: Grid, min_wall: float) -> np.ndarray:
    """``heights`` lifted beside each slot standing within ``MAX_LEAN_DEG`` of the insertion
    direction (:func:`body.lift_across`, reaching two walls' widths past its faces): no step of the
    plate's surfaces lies closer than a wall's width to a slot's face, so the cut leaves no thin
    ledge."""
    for s in slots:
        if abs(float(s.normal[2])) > np.sin(np.radians(MAX_LEAN_DEG)):
            continue
        reach = 2 * min_wall + grid.step
        heights = body.lift_across(heights, grid, s.origin, s.normal, 0.5 * s.width, 0.5 * s.length + reach, reach)
    return heights


def _below(heights: np.ndarray, grid: Grid, floor: float, what: str, cells: np.ndarray):
    """The solid below ``heights`` (nx, ny) over ``cells`` (nx-1, ny-1), down to under ``floor``."""
    return to_manifold(*prism(np.maximum(heights, floor + 1.0), cells, grid, floor - 5.0), what)


def _grow(cells: np.ndarray, n: int) -> np.ndarray:
    from scipy import ndimage

    return ndimage.binary_dilation(cells, iterations=n)


def _cells_round(grid: Grid, xy: np.ndarray, n: int) -> np.ndarray:
    """Cells (nx-1, ny-1) of the bounding box of ``xy`` (k, 2), grown by ``n`` cells."""
    lo = np.clip(np.floor((xy.min(0) - [grid.x0, grid.y0]) / grid.step).astype(int) - n, 0, None)
    hi = np.clip(np.ceil((xy.max(0) - [grid.x0, grid.y0]) / grid.step).astype(int) + n, None,
                 [grid.nx - 1, grid.ny - 1])
    cells = np.zeros((grid.nx - 1, grid.ny - 1), bool)
    cells[lo[0]:hi[0], lo[1]:hi[1]] = True
    return cells


def _faces_over(local: np.ndarray, faces: np.ndarray, grid: Grid) -> np.ndarray:
    """The faces with a vertex over the grid (the others cannot touch its columns... unless huge)."""
    lo = np.array([grid.x0, grid.y0]) - grid.step
    hi = lo + grid.step * (np.array([grid.nx, grid.ny]) + 1)
    tri = local[faces, :2]
    keep = (tri.max(1) >= lo).all(1) & (tri.min(1) <= hi).all(1)
    return faces[keep]


def _grey_closing(heights: np.ndarray, radius_mm: float, step_mm: float, floor: float) -> np.ndarray:
    """Grey closing with a flat disk: pits and gaps narrower than 2 x ``radius_mm`` filled."""
    from scipy import ndimage

    n = max(1, int(round(radius_mm / step_mm)))
    di, dj = np.meshgrid(np.arange(-n, n + 1), np.arange(-n, n + 1), indexing="ij")
    disk = di * di + dj * dj <= n * n
    padded = np.pad(heights, n, mode="constant", constant_values=floor)
    closed = ndimage.grey_erosion(ndimage.grey_dilation(padded, footprint=disk), footprint=disk)
    return closed[n:-n, n:-n]


def _check_reachable(contact: Contact, frame: Frame, top: np.ndarray, grid: Grid,
                     direction: np.ndarray) -> None:
    """Refuse a contact region whose area mostly faces away or lies under undercuts."""
    points = frame.to_local(contact.points)
    ij = grid.index(points[:, :2])
    seen = points[:, 2] >= top[ij[:, 0], ij[:, 1]] - max(0.5, 2 * grid.step)
    facing = contact.normals @ direction > 0.0
    share = float(contact.areas[seen & facing].sum() / contact.areas.sum())
    if share < MIN_REACHABLE:
        raise InputError(f"Only {100 * share:.0f}% of the contact region can be reached along the insertion "
                         f"direction (at least {100 * MIN_REACHABLE:.0f}% is needed); the rest is undercut.",
                         hint="take the contact region from one side of the bone, or change the insertion direction")


def _check_sleeve_outside(sleeve: SleeveGeometry, blocked) -> None:
    from .solids import cylinder

    above = cylinder(sleeve.entry, sleeve.axis, -sleeve.height, 0.0, sleeve.outer_radius) - blocked
    share = above.volume() / sleeve.outside_volume()
    if share < MIN_SLEEVE_OUTSIDE:
        raise GuideDesignError(f"The sleeve of trajectory '{sleeve.name}' lies inside the bone: only "
                               f"{100 * share:.0f}% of it stands clear of the bone (at least "
                               f"{100 * MIN_SLEEVE_OUTSIDE:.0f}% must).",
                               hint="put the entry point on the bone surface and the direction into the bone")


def _pieces(solid) -> list:
    """The pieces of a solid larger than ``DEBRIS_MM3``, largest first (booleans of near-tangent
    faces can leave specks of a few µm³)."""
    pieces = [p for p in solid.decompose() if p.volume() >= DEBRIS_MM3]
    return sorted(pieces, key=lambda p: -p.volume())


def _check_one_piece(solid, sleeves, tubes, slots, housings):
    """The solid without debris; refuses one that falls apart, naming the loose features."""
    pieces = _pieces(solid)
    if len(pieces) == 1:
        return pieces[0]
    main = pieces[0]
    loose = [s.name for s, tube in zip(sleeves, tubes) if (main ^ tube).volume() < 1e-6] + \
            [s.name for s, housing in zip(slots, housings) if (main ^ housing).volume() < 1e-6]
    named = f": {', '.join(loose)} not joined to the plate" if loose else ""
    raise GuideDesignError(f"The guide would fall apart into {len(pieces)} pieces{named}.",
                           hint="move the features onto the contact region or enlarge the region")


def _check_slots_keep_one_piece(cut, plate_body, slots):
    """The cut guide without debris; refuses a slot that cuts through the whole plate (even if its
    housing's ends bridge the cut), and channels and slots that together cut the guide apart."""
    for s in slots:
        pieces = len(_pieces(plate_body - s.slot()))
        if pieces > 1:
            raise GuideDesignError(f"The slot of cut '{s.name}' ({s.length:g} mm long) cuts through the whole "
                                   f"guide plate, into {pieces} pieces.",
                                   hint="shorten the slot or widen the contact region around it")
    pieces = _pieces(cut)
    if len(pieces) > 1:
        raise GuideDesignError(f"The drill channels and slots cut the guide into {len(pieces)} pieces.",
                               hint="move the trajectories apart or enlarge the contact region")
    return pieces[0]
