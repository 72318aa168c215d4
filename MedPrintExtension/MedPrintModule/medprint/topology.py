"""Edges, shells, boundary loops and regions of a triangle mesh (index work only, vectorised).

Everything here looks at vertex indices; a mesh read from STL should have coincident vertices
merged first (:func:`merge_coincident`), or every triangle is its own shell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from .mesh import Mesh


def merge_coincident(mesh: Mesh, tolerance_mm: float = 0.0) -> tuple[Mesh, np.ndarray]:
    """The mesh with vertices closer than ``tolerance_mm`` (on a grid of that size; 0: identical)
    merged into one (the first of them kept, in the original order), faces in their order; and the
    new index of each old vertex."""
    n = len(mesh.vertices)
    if n == 0:
        return mesh, np.zeros(0, dtype=np.int64)
    keys = mesh.vertices if tolerance_mm <= 0 else np.round(mesh.vertices / tolerance_mm)
    order = np.lexsort(keys.T[::-1])  # by x, then y, then z (stable: equal keys keep their order)
    ordered = keys[order]
    starts = np.concatenate([[True], (ordered[1:] != ordered[:-1]).any(axis=1)])
    if starts.all():
        return mesh, np.arange(n)
    group = np.cumsum(starts) - 1
    first = order[starts]  # the first vertex (in input order) of each group: stable sort
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = rank[group]
    return Mesh(mesh.vertices[np.sort(first)], inverse[mesh.faces], mesh.space), inverse


def compact(mesh: Mesh) -> Mesh:
    """The mesh without the vertices no face uses."""
    used, inverse = np.unique(mesh.faces, return_inverse=True)
    if len(used) == len(mesh.vertices):
        return mesh
    return Mesh(mesh.vertices[used], inverse.reshape(-1, 3), mesh.space)


@dataclass(frozen=True, eq=False)
class Edges:
    """Undirected edges ``(lo, hi)`` (k, 2) with how many faces use each and how many of those uses
    run lo -> hi; ``edge_of_face_side`` (m, 3) maps face side a->b, b->c, c->a to its edge."""

    vertices: np.ndarray
    uses: np.ndarray
    forward_uses: np.ndarray
    edge_of_face_side: np.ndarray

    @property
    def boundary(self) -> np.ndarray:
        """Mask of edges used by one face only (the rim of a hole)."""
        return self.uses == 1

    @property
    def non_manifold(self) -> np.ndarray:
        """Mask of edges shared by more than two faces."""
        return self.uses > 2

    @property
    def misoriented(self) -> np.ndarray:
        """Mask of two-face edges both faces run the same way (inconsistent winding)."""
        return (self.uses == 2) & (self.forward_uses != 1)


def edges(mesh: Mesh) -> Edges:
    """The undirected edges of ``mesh`` with their use counts."""
    a = mesh.faces.ravel()
    b = mesh.faces[:, [1, 2, 0]].ravel()
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keys = lo * max(len(mesh.vertices), 1) + hi
    unique, inverse, uses = np.unique(keys, return_inverse=True, return_counts=True)
    forward = np.bincount(inverse, weights=(a < b), minlength=len(unique)).astype(np.int64)
    n = max(len(mesh.vertices), 1)
    return Edges(np.stack([unique // n, unique % n], axis=1), uses, forward, inverse.reshape(-1, 3))


def vertex_components(n_vertices: int, pairs: np.ndarray) -> tuple[int, np.ndarray]:
    """Connected components of the graph on ``n_vertices`` with edges ``pairs`` (k, 2):
    ``(count, label per vertex)``."""
    graph = sparse.coo_matrix((np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])),
                              shape=(n_vertices, n_vertices))
    return connected_components(graph, directed=False)


def shells(mesh: Mesh, mesh_edges: Edges) -> tuple[int, np.ndarray]:
    """Connected pieces of the surface: ``(count, shell index per face)`` (vertices shared = joined)."""
    if len(mesh.faces) == 0:
        return 0, np.zeros(0, dtype=np.int64)
    _, label = vertex_components(len(mesh.vertices), mesh_edges.vertices)
    used = np.unique(label[mesh.faces[:, 0]], return_inverse=True)[1]
    return int(used.max()) + 1, used.ravel()


@dataclass(frozen=True)
class Region:
    """A located group of defects: how many items, their centre and bounding box (mm)."""

    count: int
    center_mm: tuple[float, float, float]
    min_mm: tuple[float, float, float]
    max_mm: tuple[float, float, float]
    value: float = 0.0  # a figure of the region (e.g. the thinnest wall, mm; a hole's perimeter, mm)
    area_mm2: float = 0.0  # surface area the region covers, where it is measured

    def to_dict(self) -> dict:
        return {"count": self.count, "center_mm": list(self.center_mm), "min_mm": list(self.min_mm),
                "max_mm": list(self.max_mm), "value": self.value, "area_mm2": self.area_mm2}


def vertex_regions(mesh: Mesh, selected: np.ndarray, pairs: np.ndarray, values: np.ndarray | None = None,
                   areas: np.ndarray | None = None) -> list[Region]:
    """Group the ``selected`` vertices (bool mask) into regions joined by ``pairs`` (k, 2) of vertex
    indices (edges), largest first, counted in vertices; ``value`` is the minimum of ``values`` per
    region, ``area_mm2`` the sum of ``areas`` (per vertex, mm²)."""
    if not selected.any():
        return []
    pairs = pairs[selected[pairs[:, 0]] & selected[pairs[:, 1]]]
    _, label = vertex_components(len(mesh.vertices), pairs)
    index = np.flatnonzero(selected)
    return _regions(label[index], mesh.vertices[index], None if values is None else values[index],
                    None if areas is None else areas[index])


def face_regions(mesh: Mesh, faces: np.ndarray) -> list[Region]:
    """Regions of the faces ``faces`` (indices), counted in faces, joined where they share a vertex;
    centre and box are those of the faces' centroids."""
    if len(faces) == 0:
        return []
    tri = mesh.faces[faces]
    _, label = vertex_components(len(mesh.vertices), np.concatenate([tri[:, [0, 1]], tri[:, [1, 2]]]))
    return _regions(label[tri[:, 0]], mesh.vertices[tri].mean(axis=1))


def _regions(label: np.ndarray, points: np.ndarray, values: np.ndarray | None = None,
             areas: np.ndarray | None = None) -> list[Region]:
    """One region per distinct ``label`` of the items at ``points`` (n, 3), largest first."""
    order = np.argsort(label, kind="stable")
    cuts = np.flatnonzero(np.diff(label[order])) + 1
    regions = []
    for group in np.split(order, cuts):
        p = points[group]
        value = round(float(values[group].min()), 4) if values is not None else 0.0
        area = round(float(areas[group].sum()), 3) if areas is not None else 0.0
        regions.append(Region(len(group), _round(p.mean(axis=0)), _round(p.min(axis=0)),
                              _round(p.max(axis=0)), value, area))
    return sorted(regions, key=lambda r: -r.count)


def _round(point: np.ndarray) -> tuple[float, float, float]:
    return tuple(round(float(x), 3) for x in point)
