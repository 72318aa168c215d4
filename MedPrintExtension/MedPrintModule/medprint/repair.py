"""Repair what can be fixed without changing anatomy, and say how far the surface moved.

In order: merge close vertices, drop degenerate and duplicate faces, drop debris shells, make the
winding consistent, turn inside-out shells outward, fill small holes (a fan from the hole's centre),
resolve self-intersections (shells crossing each other: boolean union with manifold3d; a shell
crossing itself: its crossing faces cut out and the cuts closed by fans, or where that is not
enough, pymeshfix on that shell alone). The surface kept is measured against the input
(Hausdorff distance, mm, both ways; hole patches and internal surfaces a union removes excluded);
beyond ``tolerance_mm`` the repair is refused.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Optional

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import breadth_first_order, connected_components

from .errors import MedPrintError
from .mesh import Mesh
from .progress import Progress, StageClock, no_progress
from .qa import QAReport, duplicate_faces, face_geometry, odd_shells, self_intersecting_faces, shell_volumes
from .rays import MISS, RayCaster
from .topology import Edges, compact, edges, merge_coincident, shells, vertex_components


@dataclass(frozen=True)
class RepairSettings:
    """Limits of repair: mm, mm³."""

    merge_mm: float = 1e-4         # vertices closer than this become one
    tiny_shell_mm3: float = 10.0   # shells enclosing less are dropped as debris
    max_hole_mm: float = 30.0      # holes with a longer rim are left open
    tolerance_mm: float = 0.1      # the kept surface may move at most this far

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class RepairResult:
    """The repaired mesh, what was done (counts), how far the kept surface moved (mm)."""

    mesh: Mesh
    actions: dict = field(default_factory=dict)
    hausdorff_mm: float = 0.0
    seconds: dict = field(default_factory=dict)

    def summary(self) -> dict:
        return {"actions": self.actions, "hausdorff_mm": self.hausdorff_mm, "seconds": self.seconds,
                "triangles": self.mesh.triangle_count}


class RepairRefused(MedPrintError):
    """Repair would move the surface further than allowed."""


def repair_mesh(mesh: Mesh, settings: RepairSettings = RepairSettings(),
                progress: Optional[Progress] = None, checked: Optional[QAReport] = None) -> RepairResult:
    """Repair ``mesh`` (any space, mm); raises :class:`RepairRefused` beyond ``settings.tolerance_mm``.

    ``checked``, the QA report of this very mesh, saves work: nothing to repair returns the mesh as
    it is, and no self-intersection found is not searched for again (unless holes were filled).
    """
    progress = progress or no_progress
    if checked is not None and not checked.repairable:
        progress(1.0, "nothing to repair")
        return RepairResult(mesh, {}, 0.0, {})
    actions: dict[str, float] = {}
    clock = StageClock(progress)
    lap, seconds = clock.lap, clock.seconds

    progress(0.0, "merging vertices")
    merged, inverse = merge_coincident(mesh, settings.merge_mm)
    moved = float(np.linalg.norm(mesh.vertices - merged.vertices[inverse], axis=1).max()) if len(mesh.vertices) else 0.0
    actions["vertices_merged"] = len(mesh.vertices) - len(merged.vertices)
    mesh = merged
    faces = mesh.faces
    _, _, area = face_geometry(mesh)
    degenerate = (area <= 1e-12) | (faces[:, 0] == faces[:, 1]) | (faces[:, 1] == faces[:, 2]) \
        | (faces[:, 0] == faces[:, 2])
    duplicate = duplicate_faces(faces) & ~degenerate
    actions["degenerate_faces_removed"] = int(degenerate.sum())
    actions["duplicate_faces_removed"] = int(duplicate.sum())
    mesh = Mesh(mesh.vertices, faces[~degenerate & ~duplicate], mesh.space)
    lap("faces", 0.1)

    e = edges(mesh)
    count, shell = shells(mesh, e)
    mesh, actions["tiny_shells_removed"] = _drop_debris(mesh, settings.tiny_shell_mm3, (count, shell))
    if actions["tiny_shells_removed"]:
        e = edges(mesh)
        count, shell = shells(mesh, e)
    lap("debris", 0.2)

    flips = _consistent_winding(mesh, e)  # flipping faces keeps the edges and their use counts
    actions["faces_flipped"] = int(flips.sum())
    faces = mesh.faces.copy()
    faces[flips] = faces[flips][:, ::-1]
    volume = shell_volumes(Mesh(mesh.vertices, faces), shell, count)
    inverted, _ = odd_shells(Mesh(mesh.vertices, faces), shell, volume, 0.0)
    actions["shells_turned_outward"] = len(inverted)
    turn = np.isin(shell, inverted)
    faces[turn] = faces[turn][:, ::-1]
    mesh = Mesh(mesh.vertices, faces, mesh.space)
    lap("winding", 0.3)

    if flips.any() or turn.any():  # the edges are the same, but which face side runs along each is not
        e = edges(mesh)
    mesh, patch, filled = _fill_holes(mesh, e, settings.max_hole_mm)
    actions["holes_filled"] = filled
    actions["patch_area_mm2"] = round(float(face_geometry(Mesh(mesh.vertices, mesh.faces[patch]))[2].sum()), 3)
    lap("holes", 0.5)

    if checked is not None and checked.self_intersecting_faces == 0 and not filled:
        distance, resolved = 0.0, {"shells_united": 0, "shells_remeshed": 0, "self_crossings_refilled": 0}
    else:
        mesh, distance, resolved = _resolve_intersections(mesh, patch, None if filled else e)
    actions.update(resolved)
    if resolved["shells_united"] or resolved["shells_remeshed"]:  # pieces a clean-up may leave behind
        mesh, dropped = _drop_debris(mesh, settings.tiny_shell_mm3)
        actions["tiny_shells_removed"] += dropped
    lap("self-intersections", 0.95)

    result = RepairResult(compact(mesh), actions, round(max(moved, distance), 5), seconds)
    if result.hausdorff_mm > settings.tolerance_mm:
        raise RepairRefused(f"Repair would move the surface by {result.hausdorff_mm:.2f} mm, more than the "
                            f"{settings.tolerance_mm} mm allowed.",
                            hint="fix the model at its source (segmentation) or allow a larger tolerance")
    lap("done", 1.0)
    return result


def _drop_debris(mesh: Mesh, tiny_mm3: float, pieces: Optional[tuple[int, np.ndarray]] = None) -> tuple[Mesh, int]:
    """The mesh without shells enclosing less than ``tiny_mm3`` (either sign), and how many went;
    ``pieces`` is its :func:`shells` when known."""
    count, shell = pieces or shells(mesh, edges(mesh))
    _, tiny = odd_shells(mesh, shell, shell_volumes(mesh, shell, count), tiny_mm3)
    if len(tiny) == 0:
        return mesh, 0
    return Mesh(mesh.vertices, mesh.faces[~np.isin(shell, tiny)], mesh.space), len(tiny)


def _consistent_winding(mesh: Mesh, e: Edges) -> np.ndarray:
    """Mask of faces to flip so that every two-face edge runs opposite ways in its faces.

    Faces are joined across two-face edges (weight: whether they disagree); a breadth-first tree per
    piece gives each face the parity of disagreements on its path to the root (pointer jumping).
    """
    flips = np.zeros(len(mesh.faces), dtype=bool)
    if not e.misoriented.any():
        return flips
    side = np.argsort(e.edge_of_face_side.ravel(), kind="stable")
    first = np.searchsorted(e.edge_of_face_side.ravel()[side], np.arange(len(e.uses)))
    manifold = np.flatnonzero(e.uses == 2)
    f, g = side[first[manifold]] // 3, side[first[manifold] + 1] // 3
    disagree = (e.forward_uses[manifold] != 1).astype(np.int8) + 1  # 1 agree, 2 disagree (no zeros)
    n = len(mesh.faces)
    graph = sparse.csr_matrix((np.concatenate([disagree, disagree]), (np.concatenate([f, g]), np.concatenate([g, f]))),
                              shape=(n, n))
    _, piece = connected_components(graph, directed=False)
    for p in np.unique(piece[np.concatenate([f, g])[np.concatenate([disagree, disagree]) == 2]]):
        root = int(np.flatnonzero(piece == p)[0])
        order, pred = breadth_first_order(graph, root, directed=False, return_predecessors=True)
        parent = pred[order].copy()
        parent[0] = root
        parity = np.zeros(n, dtype=np.int8)
        parity[order[1:]] = np.asarray(graph[parent[1:], order[1:]]).ravel() - 1
        up = np.arange(n)
        up[order] = parent
        for _ in range(64):  # pointer jumping: parity of the whole path to the root
            if (up[order] == root).all():
                break
            parity[order] ^= parity[up[order]]
            up[order] = up[up[order]]
        flips[order] = parity[order] == 1
    return flips


def _fill_holes(mesh: Mesh, e: Edges, max_hole_mm: float) -> tuple[Mesh, np.ndarray, int]:
    """Close each boundary loop with a rim no longer than ``max_hole_mm`` by a fan of triangles to a
    new vertex at its centre. Returns the mesh, the mask of patch faces, the number of holes filled."""
    rim = np.flatnonzero(e.boundary)
    if len(rim) == 0:
        return mesh, np.zeros(len(mesh.faces), dtype=bool), 0
    _, label = vertex_components(len(mesh.vertices), e.vertices[rim])
    loop = label[e.vertices[rim, 0]]
    ends = mesh.vertices[e.vertices[rim]]
    length = np.bincount(loop, weights=np.linalg.norm(ends[:, 1] - ends[:, 0], axis=1))
    fill = np.flatnonzero((length > 0) & (length <= max_hole_mm))
    if len(fill) == 0:
        return mesh, np.zeros(len(mesh.faces), dtype=bool), 0
    # the rim's directed edges as the faces run them: the patch runs each the other way
    side = np.flatnonzero(np.isin(e.edge_of_face_side.ravel(), rim[np.isin(loop, fill)]))
    a = mesh.faces.ravel()[side]
    b = mesh.faces[:, [1, 2, 0]].ravel()[side]
    which = label[a]
    centre_index = {l: len(mesh.vertices) + i for i, l in enumerate(fill)}
    centres = np.array([mesh.vertices[e.vertices[rim[loop == l]].ravel()].mean(axis=0) for l in fill])
    patch = np.stack([b, a, np.vectorize(centre_index.get)(which)], axis=1)
    faces = np.concatenate([mesh.faces, patch])
    mask = np.zeros(len(faces), dtype=bool)
    mask[len(mesh.faces):] = True
    return Mesh(np.concatenate([mesh.vertices, centres]), faces, mesh.space), mask, len(fill)


def _resolve_intersections(mesh: Mesh, patch: np.ndarray, e: Optional[Edges] = None) -> tuple[Mesh, float, dict]:
    """Shells crossing each other are united (manifold3d); a shell crossing itself is refilled where
    it crosses, or cleaned by pymeshfix. Returns the mesh, the Hausdorff distance (mm) over the changed
    shells, and counts; ``e`` is the mesh's :func:`edges` when known."""
    done = {"shells_united": 0, "shells_remeshed": 0, "self_crossings_refilled": 0}
    e = e or edges(mesh)
    caster = RayCaster(mesh)
    crossing = self_intersecting_faces(mesh, e, caster)
    if len(crossing) == 0:
        return mesh, 0.0, done
    count, shell = shells(mesh, e)
    involved = np.unique(shell[crossing])
    # shells that cross another one: which shells does each crossing face's shell touch?
    hits = _crossing_shells(mesh, crossing, shell, caster)
    crosses_other = np.unique(np.concatenate([[a, b] for a, b in hits if a != b] or [np.zeros(0, np.int64)]))
    crosses_self = np.setdiff1d(involved, crosses_other)
    changed = np.isin(shell, involved)
    before = Mesh(mesh.vertices, mesh.faces[changed & ~patch], mesh.space)
    pieces = [Mesh(mesh.vertices, mesh.faces[~changed], mesh.space)]
    if len(crosses_other):
        pieces.append(_union([Mesh(mesh.vertices, mesh.faces[shell == s], mesh.space) for s in crosses_other]))
        done["shells_united"] = len(crosses_other)
    for s in crosses_self:
        own = shell == s
        cut, fixed = _excise_and_fill(Mesh(mesh.vertices, mesh.faces[own], mesh.space), np.isin(
            np.flatnonzero(own), crossing))
        if cut:
            done["self_crossings_refilled"] += cut
        else:
            fixed = _meshfix(compact(Mesh(mesh.vertices, mesh.faces[own], mesh.space)))
            done["shells_remeshed"] += 1
        pieces.append(fixed)
    after = _join([compact(p) for p in pieces[1:]], mesh.space)
    return _join([compact(pieces[0]), after], mesh.space), surface_distance(before, after), done


def _excise_and_fill(shell: Mesh, crossing: np.ndarray) -> tuple[int, Mesh]:
    """Cut the crossing faces (mask) out of a shell and close the cuts with fans; ``(holes closed,
    shell)`` when that leaves no crossing, else ``(0, shell unchanged)``."""
    cut = Mesh(shell.vertices, shell.faces[~crossing], shell.space)
    filled, _, count = _fill_holes(cut, edges(cut), np.inf)
    e = edges(filled)
    if count and not e.boundary.any() and len(self_intersecting_faces(filled, e, RayCaster(filled))) == 0:
        return count, filled
    return 0, shell


def _crossing_shells(mesh: Mesh, crossing: np.ndarray, shell: np.ndarray, caster: RayCaster) -> list[tuple[int, int]]:
    """Pairs (shell, shell) that the crossing faces' edges reach (a shell paired with itself: it
    crosses itself)."""
    tri = mesh.vertices[mesh.faces[crossing]]
    pairs = []
    for i, j in ((0, 1), (1, 2), (2, 0)):
        vector = tri[:, j] - tri[:, i]
        length = np.linalg.norm(vector, axis=1)
        ok = length > 1e-6
        face, _ = caster.first_hits(tri[ok, i], vector[ok] / length[ok, None], 1e-4, length[ok] - 1e-4)
        hit = face != MISS
        pairs += list(zip(shell[crossing[ok][hit]].tolist(), shell[face[hit]].tolist()))
    return sorted(set(pairs))


def _union(shells_: list[Mesh]) -> Mesh:
    """Boolean union of closed shells (manifold3d); a shell that is not closed cannot take part."""
    import manifold3d

    solids = []
    for s in shells_:
        s = compact(s)
        solid = manifold3d.Manifold(manifold3d.Mesh(vert_properties=s.vertices.astype(np.float32),
                                                    tri_verts=s.faces.astype(np.uint32)))
        if solid.status() != manifold3d.Error.NoError:
            raise MedPrintError("Two pieces of the model cross each other and one of them is not closed.",
                                hint="fill its holes first, or fix the segmentation",
                                detail=str(solid.status()))
        solids.append(solid)
    result = manifold3d.Manifold.batch_boolean(solids, manifold3d.OpType.Add).to_mesh()
    return Mesh(np.asarray(result.vert_properties)[:, :3], np.asarray(result.tri_verts), shells_[0].space)


def _meshfix(shell: Mesh) -> Mesh:
    """pymeshfix's clean-up of one shell (removes self-intersections and the degeneracies they leave)."""
    import pymeshfix

    fixer = pymeshfix.PyTMesh()
    fixer.set_quiet(1)
    fixer.load_array(shell.vertices, shell.faces.astype(np.int32))
    fixer.clean(max_iters=10, inner_loops=3)
    vertices, faces = fixer.return_arrays()
    return Mesh(vertices, faces, shell.space)


def _join(meshes: list[Mesh], space: str) -> Mesh:
    meshes = [m for m in meshes if len(m.faces)]
    if not meshes:
        return Mesh(np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64), space)
    offsets = np.cumsum([0] + [len(m.vertices) for m in meshes[:-1]])
    return Mesh(np.concatenate([m.vertices for m in meshes]),
                np.concatenate([m.faces + o for m, o in zip(meshes, offsets)]), space)


def surface_distance(before: Mesh, after: Mesh, inside_mm: float = 1e-3) -> float:
    """Hausdorff distance (mm) between two surfaces, from their vertices and face centres to the other
    surface (exact point-to-triangle, VTK). Points of ``before`` more than ``inside_mm`` inside
    ``after`` are internal surfaces a union removed and are not counted."""
    if len(before.faces) == 0 or len(after.faces) == 0:
        return 0.0
    there = _distances(_samples(after), before)
    back = _distances(_samples(before), after, signed=True)
    back = np.abs(back[back > -inside_mm])
    return float(max(np.abs(there).max(), back.max() if len(back) else 0.0))


def _samples(mesh: Mesh) -> np.ndarray:
    return np.concatenate([compact(mesh).vertices, mesh.vertices[mesh.faces].mean(axis=1)])


def _distances(points: np.ndarray, surface: Mesh, signed: bool = False) -> np.ndarray:
    """Distance (mm) of each point to ``surface``; signed: negative inside a closed outward surface."""
    from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy
    from vtkmodules.vtkCommonCore import vtkDoubleArray
    from vtkmodules.vtkFiltersCore import vtkImplicitPolyDataDistance

    field_ = vtkImplicitPolyDataDistance()
    field_.SetInput(surface.to_polydata())
    out = vtkDoubleArray()
    field_.FunctionValue(numpy_to_vtk(np.ascontiguousarray(points), deep=True), out)
    values = vtk_to_numpy(out).copy()
    return values if signed else np.abs(values)
