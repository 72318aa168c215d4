"""Print QA of a closed triangle mesh: topology, shells, holes, self-intersections, size, wall
thickness, and a verdict (printable / printable after repair / not printable) with reasons.

All figures are millimetres in the mesh's own space (LPS or RAS); locations are reported as
:class:`~medprint.topology.Region` (count, centre, bounding box).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Optional

import numpy as np

from .build_volume import PrinterProfile, printer_profile
from .mesh import Mesh, _cross
from .progress import Progress, StageClock, no_progress
from .rays import MISS, RayCaster
from .topology import Edges, Region, edges, face_regions, merge_coincident, shells, vertex_components, \
    vertex_regions

PRINTABLE = "printable"
AFTER_REPAIR = "printable after repair"
NOT_PRINTABLE = "not printable"


@dataclass(frozen=True)
class QASettings:
    """What counts as a defect: mm, mm³."""

    printer: PrinterProfile = field(default_factory=printer_profile)
    tiny_shell_mm3: float = 10.0       # shells enclosing less are debris
    max_hole_mm: float = 30.0          # holes with a longer rim are not filled by repair
    max_wall_mm: float = 10.0          # wall thickness is measured up to this
    thin_area_mm2: float = 4.0         # thin regions smaller than this are listed, not fatal

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class QAReport:
    """The QA figures of one mesh; ``verdict`` is one of the three constants above."""

    space: str
    vertices: int
    triangles: int
    watertight: bool
    shells: int
    volume_mm3: float
    area_mm2: float
    bbox_min_mm: list
    bbox_max_mm: list
    size_mm: list
    printer: dict
    fits_build_volume: bool
    degenerate_faces: int
    duplicate_faces: int
    boundary_edges: int
    holes: list            # Region per boundary loop: count = edges, value = rim length (mm)
    non_manifold_edges: int
    non_manifold: list
    misoriented_edges: int
    misoriented: list
    inverted_shells: list  # Region per inside-out shell: count = faces, value = volume (mm³)
    tiny_shells: list      # Region per shell under the debris limit: count = faces, value = volume
    self_intersecting_faces: int
    self_intersections: list
    min_wall_mm: float
    wall_limit_mm: float
    thin_regions: list     # Region per thin place: count = vertices, value = thinnest wall (mm), area of
                           # the faces reading thin (mm², see thin_regions)
    verdict: str = PRINTABLE
    reasons: list = field(default_factory=list)
    repairable: list = field(default_factory=list)  # the reasons :mod:`medprint.repair` can fix
    seconds: dict = field(default_factory=dict)
    # the mesh checked (coincident vertices merged) and its wall thickness per vertex (mm), for pictures
    mesh: Optional[Mesh] = field(default=None, repr=False)
    thickness_mm: Optional[np.ndarray] = field(default=None, repr=False)

    def to_dict(self) -> dict:
        """The figures as plain data (JSON), without the mesh and thickness arrays."""
        data = asdict(replace(self, mesh=None, thickness_mm=None))
        del data["mesh"], data["thickness_mm"]
        return data


def face_geometry(mesh: Mesh) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per face: centroid (m, 3) mm, unit normal (m, 3) (zero for degenerate faces), area (m,) mm²."""
    a, b, c = (mesh.vertices[mesh.faces[:, n]] for n in range(3))
    normal = _cross(b - a, c - a)
    length = np.sqrt(np.einsum("ij,ij->i", normal, normal))
    unit = np.divide(normal, length[:, None], out=np.zeros_like(normal), where=length[:, None] > 0)
    return (a + b + c) / 3.0, unit, length / 2.0


#: A ray counts as crossing a wall only where the face it leaves through looks back at the face it
#: started from, within this angle of straight opposite. Two faces meeting at a sharp edge of a
#: wider interior angle are an edge, not a wall: a ray from a point ``d`` from such an edge leaves
#: after ``d * tan(angle)``, which reads any sharp edge as thin however thick the part is.
WALL_FACING_DEG = 30.0


def wall_thickness(mesh: Mesh, *, max_mm: float = 10.0, progress: Progress | None = None) -> np.ndarray:
    """Local wall thickness (mm) at each vertex of a closed mesh (any space; mm): the least reading
    of its faces (see :func:`face_walls`). Vertices with no counted reading read ``max_mm``.
    """
    progress = progress or no_progress
    progress(0.0, "building the ray scene")
    caster = RayCaster(mesh)
    progress(0.4, "casting rays")
    return vertex_walls(mesh, face_walls(mesh, caster, max_mm, face_geometry(mesh)), max_mm)


def _ray_start(mesh: Mesh) -> float:
    """Rays start this far (mm) from their origin surface: above float32 round-off of the extent."""
    extent = float(np.ptp(mesh.vertices, axis=0).max()) if len(mesh.vertices) else 0.0
    return max(1e-4, 4e-6 * extent)


def face_walls(mesh: Mesh, caster: RayCaster, max_mm: float, geometry) -> np.ndarray:
    """The wall thickness read at each face (m,), mm: from its centroid a ray goes inward (against
    the outward normal) to the first surface it meets. Flat walls read exactly (a 0.3 mm plate
    reads 0.3 mm). Not counted (read ``max_mm``): degenerate faces, rays that meet nothing within
    ``max_mm``, rays leaving through a face that shares a vertex with their own (they only cut the
    corner of an edge), and rays leaving through a face not within :data:`WALL_FACING_DEG` of
    facing their own (a sharp edge, not a wall). ``geometry``: :func:`face_geometry` of ``mesh``.
    """
    centroid, normal, area = geometry
    face, distance = caster.first_hits(centroid, -normal, _ray_start(mesh), max_mm)
    hit = np.where(face == MISS, 0, face)
    corner = (face != MISS) & (mesh.faces[hit][:, :, None] == mesh.faces[:, None, :]).any(axis=(1, 2))
    edge = (face != MISS) & (np.einsum("ij,ij->i", normal, normal[hit]) > -np.cos(np.radians(WALL_FACING_DEG)))
    distance[corner | edge | (area <= 0)] = max_mm
    return np.minimum(distance, max_mm)


def vertex_walls(mesh: Mesh, walls: np.ndarray, max_mm: float) -> np.ndarray:
    """Per vertex (n,), mm: the least of its faces' ``walls`` readings, at most ``max_mm``."""
    thickness = np.full(len(mesh.vertices), float(max_mm))
    np.minimum.at(thickness, mesh.faces.ravel(), np.repeat(walls, 3))
    return thickness


def thin_regions(mesh: Mesh, walls: np.ndarray, limit_mm: float, area: np.ndarray, pairs: np.ndarray,
                 faces: np.ndarray | None = None) -> list[Region]:
    """The places whose wall reads below ``limit_mm``: the vertices of the faces reading thin
    (``walls`` per face, mm; only among ``faces``, a mask, when given), joined along ``pairs`` (edges);
    value = the thinnest reading, area_mm2 = the area of the faces reading thin (not the whole fans
    of their vertices: a sliver reading thin beside large faces is a sliver's area)."""
    thin = walls < limit_mm
    if faces is not None:
        thin &= faces
    corners = mesh.faces[thin].ravel()
    selected = np.zeros(len(mesh.vertices), dtype=bool)
    selected[corners] = True
    thickness = np.full(len(mesh.vertices), np.inf)
    np.minimum.at(thickness, corners, np.repeat(walls[thin], 3))
    vertex_area = np.bincount(corners, weights=np.repeat(area[thin] / 3.0, 3), minlength=len(mesh.vertices))
    return vertex_regions(mesh, selected, pairs, thickness, vertex_area)


def self_intersecting_faces(mesh: Mesh, mesh_edges: Edges, caster: RayCaster) -> np.ndarray:
    """Indices of faces that cross another face they share no vertex with.

    Two triangles that intersect (and are not coplanar) have an edge of one crossing the other: each
    edge is cast as a segment (its end points excluded), hits on faces sharing one of its vertices
    (grazing along a flat fan) are stepped past.
    """
    ends = mesh_edges.vertices
    origin = mesh.vertices[ends[:, 0]]
    vector = mesh.vertices[ends[:, 1]] - origin
    length = np.sqrt(np.einsum("ij,ij->i", vector, vector))
    eps = _ray_start(mesh)
    live = np.flatnonzero(length > 4 * eps)
    direction = vector[live] / length[live, None]
    blocked = caster.any_hits(origin[live], direction, eps, length[live] - eps)  # cheap first pass
    live, direction = live[blocked], direction[blocked]
    near = np.full(len(live), eps)
    crossing = []
    for _ in range(4):  # a few steps past grazing hits on the edge's own fan
        face, distance = caster.first_hits(origin[live], direction, near, length[live] - eps)
        hit = face != MISS
        tri = mesh.faces[np.where(hit, face, 0)]
        shares = ((tri == ends[live, 0, None]) | (tri == ends[live, 1, None])).any(axis=1)
        real = hit & ~shares
        crossing.append(np.stack([live[real], face[real]], axis=1))
        again = hit & shares
        live, direction, near = live[again], direction[again], distance[again] + eps
        if len(live) == 0:
            break
    pairs = np.concatenate(crossing) if crossing else np.zeros((0, 2), dtype=np.int64)
    flagged = np.zeros(len(ends), dtype=bool)
    flagged[pairs[:, 0]] = True
    faces = np.zeros(len(mesh.faces), dtype=bool)
    faces[flagged[mesh_edges.edge_of_face_side].any(axis=1)] = True
    faces[pairs[:, 1]] = True
    return np.flatnonzero(faces)


def check_mesh(mesh: Mesh, settings: QASettings = QASettings(),
               progress: Optional[Progress] = None) -> QAReport:
    """QA of ``mesh`` (coincident vertices are merged first, as a printer's software does)."""
    progress = progress or no_progress
    clock = StageClock(progress)
    lap, seconds = clock.lap, clock.seconds

    progress(0.0, "topology")
    mesh, _ = merge_coincident(mesh)
    faces = mesh.faces
    e = edges(mesh)
    geometry = face_geometry(mesh)
    centroids, _, area = geometry
    degenerate = (area <= 1e-12) | (faces[:, 0] == faces[:, 1]) | (faces[:, 1] == faces[:, 2]) \
        | (faces[:, 0] == faces[:, 2])
    duplicate = duplicate_faces(faces)
    n_shells, shell = shells(mesh, e)
    lap("topology", 0.2)

    shell_volume = shell_volumes(mesh, shell, n_shells)
    inverted, tiny = odd_shells(mesh, shell, shell_volume, settings.tiny_shell_mm3)
    inverted, tiny = ([_shell_region(centroids[shell == s], shell_volume[s]) for s in ids] for ids in (inverted, tiny))
    holes = _holes(mesh, e)
    lap("shells and holes", 0.3)

    caster = RayCaster(mesh)
    lap("ray scene", 0.5)
    crossing = self_intersecting_faces(mesh, e, caster)
    lap("self-intersections", 0.7)
    walls = face_walls(mesh, caster, settings.max_wall_mm, geometry)
    thickness = vertex_walls(mesh, walls, settings.max_wall_mm)
    thin = thin_regions(mesh, walls, settings.printer.min_wall_mm, area, e.vertices)
    lap("wall thickness", 0.95)

    lo = mesh.vertices.min(axis=0) if len(mesh.vertices) else np.zeros(3)
    hi = mesh.vertices.max(axis=0) if len(mesh.vertices) else np.zeros(3)
    report = QAReport(
        space=mesh.space, vertices=len(mesh.vertices), triangles=len(faces),
        watertight=bool(len(faces) and not e.boundary.any() and not e.non_manifold.any()
                        and not e.misoriented.any()),
        shells=n_shells, volume_mm3=round(float(shell_volume.sum()), 3), area_mm2=round(float(area.sum()), 3),
        bbox_min_mm=_r(lo), bbox_max_mm=_r(hi), size_mm=_r(hi - lo), printer=settings.printer.to_dict(),
        fits_build_volume=settings.printer.fits(hi - lo),
        degenerate_faces=int(degenerate.sum()), duplicate_faces=int(duplicate.sum()),
        boundary_edges=int(e.boundary.sum()), holes=[h.to_dict() for h in holes],
        non_manifold_edges=int(e.non_manifold.sum()),
        non_manifold=[r.to_dict() for r in _edge_regions(mesh, e, e.non_manifold)],
        misoriented_edges=int(e.misoriented.sum()),
        misoriented=[r.to_dict() for r in _edge_regions(mesh, e, e.misoriented)],
        inverted_shells=[r.to_dict() for r in inverted], tiny_shells=[r.to_dict() for r in tiny],
        self_intersecting_faces=len(crossing),
        self_intersections=[r.to_dict() for r in face_regions(mesh, crossing)],
        min_wall_mm=round(float(thickness.min()), 4) if len(thickness) else 0.0,
        wall_limit_mm=settings.printer.min_wall_mm, thin_regions=[r.to_dict() for r in thin],
        mesh=mesh, thickness_mm=thickness)
    report.verdict, report.reasons, report.repairable = _verdict(report, settings)
    lap("verdict", 1.0)
    report.seconds = seconds
    return report


def duplicate_faces(faces: np.ndarray) -> np.ndarray:
    """Mask of faces with the same three vertices as an earlier face (any order or winding)."""
    if len(faces) == 0:
        return np.zeros(0, dtype=bool)
    ordered = np.sort(faces, axis=1)
    head = ordered[:, 0] * (int(ordered.max()) + 1) + ordered[:, 1]  # first two vertices as one key
    order = np.lexsort((ordered[:, 2], head))  # stable: the earliest of equal faces comes first
    same = (head[order][1:] == head[order][:-1]) & (ordered[order, 2][1:] == ordered[order, 2][:-1])
    duplicate = np.zeros(len(faces), dtype=bool)
    duplicate[order[1:][same]] = True
    return duplicate


def shell_volumes(mesh: Mesh, shell: np.ndarray, count: int) -> np.ndarray:
    """Signed volume (mm³) enclosed by each of ``count`` shells (``shell``: index per face)."""
    a, b, c = (mesh.vertices[mesh.faces[:, n]] for n in range(3))
    return np.bincount(shell, weights=np.einsum("ij,ij->i", a, _cross(b, c)) / 6.0, minlength=count)


def odd_shells(mesh: Mesh, shell: np.ndarray, volume: np.ndarray, tiny_mm3: float
               ) -> tuple[np.ndarray, np.ndarray]:
    """Indices of inside-out shells (negative volume and not a cavity: no larger outward shell's
    box holds them) and of debris shells (|volume| below ``tiny_mm3``)."""
    tiny = np.flatnonzero(np.abs(volume) < tiny_mm3)
    negative = np.flatnonzero((volume < 0) & (np.abs(volume) >= tiny_mm3))
    if len(negative) == 0:
        return np.zeros(0, dtype=np.int64), tiny
    order = np.argsort(shell, kind="stable")
    starts = np.searchsorted(shell[order], np.arange(len(volume)))
    corners = mesh.vertices[mesh.faces[order, 0]]  # one vertex per face is enough for a shell's box
    lo, hi = np.minimum.reduceat(corners, starts), np.maximum.reduceat(corners, starts)
    inverted = [s for s in negative
                if not np.any((volume > -volume[s]) & np.all(lo <= lo[s], axis=1) & np.all(hi >= hi[s], axis=1))]
    return np.array(inverted, dtype=np.int64), tiny


def _shell_region(points: np.ndarray, volume: float) -> Region:
    return Region(len(points), tuple(_r(points.mean(axis=0))), tuple(_r(points.min(axis=0))),
                  tuple(_r(points.max(axis=0))), round(float(volume), 3))


def _holes(mesh: Mesh, e: Edges) -> list[Region]:
    """One region per boundary loop: count = rim edges, value = rim length (mm), largest first."""
    rim = e.vertices[e.boundary]
    if len(rim) == 0:
        return []
    _, label = vertex_components(len(mesh.vertices), rim)
    loop = label[rim[:, 0]]
    length = np.linalg.norm(mesh.vertices[rim[:, 1]] - mesh.vertices[rim[:, 0]], axis=1)
    holes = []
    for l in np.unique(loop):
        ends = mesh.vertices[rim[loop == l].ravel()]
        holes.append(Region(int((loop == l).sum()), tuple(_r(ends.mean(axis=0))), tuple(_r(ends.min(axis=0))),
                            tuple(_r(ends.max(axis=0))), round(float(length[loop == l].sum()), 3)))
    return sorted(holes, key=lambda r: -r.count)


def _edge_regions(mesh: Mesh, e: Edges, mask: np.ndarray) -> list[Region]:
    """Regions of the vertices of the edges in ``mask``, joined along those edges."""
    selected = np.zeros(len(mesh.vertices), dtype=bool)
    selected[e.vertices[mask].ravel()] = True
    return vertex_regions(mesh, selected, e.vertices[mask])


def _verdict(r: QAReport, settings: QASettings) -> tuple[str, list[str], list[str]]:
    """The verdict, all its reasons, and those :mod:`medprint.repair` fixes, in plain words."""
    fatal, fixable = [], []
    if r.triangles == 0:
        fatal.append("the mesh has no triangles")
    if not r.fits_build_volume:
        size = " × ".join(f"{s:.0f}" for s in r.size_mm)
        build = " × ".join(f"{s:.0f}" for s in settings.printer.size_mm)
        fatal.append(f"the part ({size} mm) does not fit the {settings.printer.name} build volume ({build} mm)")
    thin = sorted((t for t in r.thin_regions if t["area_mm2"] >= settings.thin_area_mm2), key=lambda t: t["value"])
    if thin:
        fatal.append(f"walls thinner than {r.wall_limit_mm} mm over {len(thin)} area(s) of "
                     f"{settings.thin_area_mm2} mm² or more (thinnest {thin[0]['value']:.2f} mm near {_at(thin[0])})")
    big = [h for h in r.holes if h["value"] > settings.max_hole_mm]
    if big:
        fatal.append(f"{len(big)} hole(s) with a rim longer than {settings.max_hole_mm} mm "
                     f"(largest {big[0]['value']:.0f} mm near {_at(big[0])})")
    if len(r.holes) > len(big):
        fixable.append(f"{len(r.holes) - len(big)} small hole(s)")
    for count, what in ((r.degenerate_faces, "degenerate face(s)"), (r.duplicate_faces, "duplicate face(s)"),
                        (len(r.tiny_shells), f"shell(s) under {settings.tiny_shell_mm3} mm³"),
                        (r.misoriented_edges, "edge(s) with inconsistent winding"),
                        (len(r.inverted_shells), "inside-out shell(s)"),
                        (r.non_manifold_edges, "non-manifold edge(s)"),
                        (r.self_intersecting_faces, "self-intersecting face(s)")):
        if count:
            fixable.append(f"{count} {what}")
    if fatal:
        return NOT_PRINTABLE, fatal + fixable, fixable
    return (AFTER_REPAIR if fixable else PRINTABLE), fixable, fixable


def _at(region: dict) -> str:
    return "(" + ", ".join(f"{x:.1f}" for x in region["center_mm"]) + ") mm"


def _r(values) -> list:
    return [round(float(v), 3) for v in values]
