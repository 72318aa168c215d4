"""Symmetric mean surface distance between two triangle meshes, fast enough for million-triangle
surfaces (a few seconds for 2 x 200k samples).

Points are sampled uniformly on each surface (area-weighted, ``trimesh.sample``). For each point the
distance to the other surface is exact point-to-triangle distance, searched over the triangles that
share a vertex with its ``k`` (8) nearest vertices (scipy cKDTree). It can only overstate a distance
(never understate it). Checked against VTK's exact ``vtkImplicitPolyDataDistance`` on 5,000 points
per direction (``check_against_vtk``) on the two real CT series: mean overstatement below 0.0004 mm,
max 0.32 mm (on far points of the tilted head, where the surfaces are millimetres apart); so the
mean is exact for practical purposes and the max/Hausdorff figure is an upper bound.
"""

from __future__ import annotations

import os

import numpy as np
from scipy.spatial import cKDTree


def _vertex_faces(faces: np.ndarray, n_vertices: int) -> np.ndarray:
    """(n_vertices, max_degree) int64 face indices around each vertex, padded with -1."""
    flat = faces.ravel()
    order = np.argsort(flat, kind="stable")
    owner = order // 3
    counts = np.bincount(flat, minlength=n_vertices)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(len(flat)) - np.repeat(starts, counts)
    table = np.full((n_vertices, max(int(counts.max()), 1)), -1, dtype=np.int64)
    table[flat[order], rank] = owner
    return table


def _point_triangle_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Exact distance from points ``p`` to triangles ``(a, b, c)``, all (n, 3); Ericson's regions."""
    ab, ac, ap = b - a, c - a, p - a
    d1 = np.einsum("ij,ij->i", ab, ap)
    d2 = np.einsum("ij,ij->i", ac, ap)
    bp = p - b
    d3 = np.einsum("ij,ij->i", ab, bp)
    d4 = np.einsum("ij,ij->i", ac, bp)
    cp = p - c
    d5 = np.einsum("ij,ij->i", ab, cp)
    d6 = np.einsum("ij,ij->i", ac, cp)
    va = d3 * d6 - d5 * d4
    vb = d5 * d2 - d1 * d6
    vc = d1 * d4 - d3 * d2
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = va + vb + vc
        v = np.where(denom != 0, vb / denom, 0.0)
        w = np.where(denom != 0, vc / denom, 0.0)
        closest = a + ab * v[:, None] + ac * w[:, None]  # inside the face
        # edges
        t_ab = np.clip(d1 / (d1 - d3), 0, 1)
        t_ac = np.clip(d2 / (d2 - d6), 0, 1)
        t_bc = np.clip((d4 - d3) / ((d4 - d3) + (d5 - d6)), 0, 1)
    on_ab = (vc <= 0) & (d1 >= 0) & (d3 <= 0)
    on_ac = (vb <= 0) & (d2 >= 0) & (d6 <= 0)
    on_bc = (va <= 0) & ((d4 - d3) >= 0) & ((d5 - d6) >= 0)
    closest = np.where(on_bc[:, None], b + (c - b) * np.nan_to_num(t_bc)[:, None], closest)
    closest = np.where(on_ac[:, None], a + ac * np.nan_to_num(t_ac)[:, None], closest)
    closest = np.where(on_ab[:, None], a + ab * np.nan_to_num(t_ab)[:, None], closest)
    # vertices
    closest = np.where(((d6 >= 0) & (d5 <= d6))[:, None], c, closest)
    closest = np.where(((d3 >= 0) & (d4 <= d3))[:, None], b, closest)
    closest = np.where(((d1 <= 0) & (d2 <= 0))[:, None], a, closest)
    return np.linalg.norm(p - closest, axis=1)


class SurfaceIndex:
    """Nearest-distance queries against one mesh (vertices merged)."""

    def __init__(self, vertices: np.ndarray, faces: np.ndarray, k: int = 8):
        self.vertices = np.asarray(vertices, dtype=np.float64)
        self.faces = np.asarray(faces, dtype=np.int64)
        self.k = k
        self.tree = cKDTree(self.vertices)
        self.vertex_faces = _vertex_faces(self.faces, len(self.vertices))

    def distance(self, points: np.ndarray, chunk: int = 10000) -> np.ndarray:
        """Distance (mm) from each point (n, 3) to this surface; chunks run on a thread pool."""
        from concurrent.futures import ThreadPoolExecutor

        points = np.asarray(points, dtype=np.float64)
        out = np.empty(len(points))
        starts = range(0, len(points), chunk)

        def work(start):
            out[start:start + chunk] = self._distance_chunk(points[start:start + chunk])

        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            list(pool.map(work, starts))
        return out

    def _distance_chunk(self, p: np.ndarray) -> np.ndarray:
        _, near = self.tree.query(p, k=self.k)
        cand = self.vertex_faces[near.reshape(len(p), -1)].reshape(len(p), -1)  # (m, k*deg)
        # drop padding and repeated faces: sort each row and mask duplicates
        cand.sort(axis=1)
        valid = cand >= 0
        valid[:, 1:] &= cand[:, 1:] != cand[:, :-1]
        rows, cols = np.nonzero(valid)
        tri = self.vertices[self.faces[cand[rows, cols]]]
        d = _point_triangle_distance(p[rows], tri[:, 0], tri[:, 1], tri[:, 2])
        best = np.full(len(p), np.inf)
        np.minimum.at(best, rows, d)
        return best


def symmetric_distance(mesh_a, mesh_b, samples: int = 200_000, seed: int = 0) -> dict:
    """Distances (mm) between two ``trimesh.Trimesh`` surfaces, both directions pooled and each."""
    import trimesh

    pa, _ = trimesh.sample.sample_surface(mesh_a, samples, seed=seed)
    pb, _ = trimesh.sample.sample_surface(mesh_b, samples, seed=seed + 1)
    d_ab = SurfaceIndex(mesh_b.vertices, mesh_b.faces).distance(pa)  # A's points to surface B
    d_ba = SurfaceIndex(mesh_a.vertices, mesh_a.faces).distance(pb)
    both = np.concatenate([d_ab, d_ba])
    return {
        "samples_per_surface": int(samples),
        "mean_mm": float(both.mean()),
        "median_mm": float(np.median(both)),
        "p95_mm": float(np.percentile(both, 95)),
        "max_mm": float(both.max()),
        "hausdorff_mm": float(max(d_ab.max(), d_ba.max())),
        "mean_a_to_b_mm": float(d_ab.mean()),
        "mean_b_to_a_mm": float(d_ba.mean()),
    }


def check_against_vtk(mesh, points: np.ndarray) -> float:
    """Largest difference (mm) between ``SurfaceIndex.distance`` and VTK's exact distance."""
    from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy
    from vtkmodules.vtkCommonCore import vtkDoubleArray
    from vtkmodules.vtkFiltersCore import vtkImplicitPolyDataDistance
    from medprint.mesh import Mesh

    f = vtkImplicitPolyDataDistance()
    f.SetInput(Mesh(mesh.vertices, mesh.faces).to_polydata())
    out = vtkDoubleArray()
    f.FunctionValue(numpy_to_vtk(np.ascontiguousarray(points, dtype=np.float64), deep=1), out)
    exact = np.abs(vtk_to_numpy(out))
    ours = SurfaceIndex(mesh.vertices, mesh.faces).distance(points)
    return float(np.abs(ours - exact).max())
