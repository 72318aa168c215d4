"""Known meshes for the export tests (trimesh primitives, millimetres, outward winding) and an
independent point-to-surface distance."""

import numpy as np
import trimesh

from medprint.mesh import Mesh


def sphere(radius: float = 10.0, center=(0.0, 0.0, 0.0), subdivisions: int = 4) -> Mesh:
    tm = trimesh.creation.icosphere(subdivisions=subdivisions, radius=radius)
    tm.apply_translation(center)
    return Mesh.from_trimesh(tm)


def plate(thickness: float, size: float = 20.0, subdivisions: int = 3) -> Mesh:
    """A square plate ``size`` x ``size`` x ``thickness`` mm centred on the origin, finely meshed."""
    tm = trimesh.creation.box((size, size, thickness))
    for _ in range(subdivisions):
        tm = tm.subdivide()
    return Mesh.from_trimesh(tm)


def join(*meshes: Mesh) -> Mesh:
    """Meshes side by side in one (vertex indices offset; nothing merged)."""
    offsets = np.cumsum([0] + [len(m.vertices) for m in meshes[:-1]])
    return Mesh(np.concatenate([m.vertices for m in meshes]),
                np.concatenate([m.faces + o for m, o in zip(meshes, offsets)]))


def surface_distances(points: np.ndarray, mesh: Mesh, candidates: int = 24) -> np.ndarray:
    """Exact distance (mm) of each point to the triangles of ``mesh`` (numpy; independent of VTK and
    Embree), searched among the ``candidates`` triangles with the nearest centroids."""
    from scipy.spatial import cKDTree

    tri = mesh.vertices[mesh.faces]
    _, near = cKDTree(tri.mean(axis=1)).query(points, k=min(candidates, len(tri)))
    a, b, c = (tri[near][..., i, :] for i in range(3))
    p = points[:, None, :]
    normal = np.cross(b - a, c - a)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    height = np.einsum("...i,...i->...", p - a, normal)
    foot = p - height[..., None] * normal
    inside = np.ones(height.shape, dtype=bool)
    for u, v in ((a, b), (b, c), (c, a)):
        inside &= np.einsum("...i,...i->...", np.cross(v - u, foot - u), normal) >= 0
    best = np.where(inside, np.abs(height), np.inf)
    for u, v in ((a, b), (b, c), (c, a)):
        t = np.clip(np.einsum("...i,...i->...", p - u, v - u) / np.einsum("...i,...i->...", v - u, v - u), 0, 1)
        best = np.minimum(best, np.linalg.norm(p - (u + t[..., None] * (v - u)), axis=-1))
    return best.min(axis=1)
