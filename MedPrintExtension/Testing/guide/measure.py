"""Independent measurements of a guide for the tests: VTK ray casts (vtkOBBTree) and trimesh, never
``medprint.guide.verify``. All in LPS mm."""

from __future__ import annotations

import numpy as np
import trimesh
from vtkmodules.vtkCommonCore import vtkIdList, vtkPoints
from vtkmodules.vtkFiltersGeneral import vtkOBBTree

from medprint.mesh import Mesh


class Rays:
    """First hits of rays against a mesh, one ray at a time (VTK's OBB tree)."""

    def __init__(self, mesh: Mesh):
        self.polydata = mesh.to_polydata()
        self.tree = vtkOBBTree()
        self.tree.SetDataSet(self.polydata)
        self.tree.BuildLocator()
        self.normals = trimesh.Trimesh(mesh.vertices, mesh.faces, process=False).face_normals

    def first(self, origin, direction, length=60.0):
        """(distance, face) of the nearest hit along ``direction`` within ``length``, or (inf, -1)."""
        points, cells = vtkPoints(), vtkIdList()
        end = np.asarray(origin) + length * np.asarray(direction)
        self.tree.IntersectWithLine(tuple(origin), tuple(end), points, cells)
        if points.GetNumberOfPoints() == 0:
            return np.inf, -1
        hits = np.array([points.GetPoint(i) for i in range(points.GetNumberOfPoints())])
        distance = np.linalg.norm(hits - origin, axis=1)
        k = int(np.argmin(distance))
        return float(distance[k]), int(cells.GetId(k))


def perpendicular(axis):
    helper = np.eye(3)[int(np.argmin(np.abs(axis)))]
    u = np.cross(helper, axis)
    u /= np.linalg.norm(u)
    return u, np.cross(axis, u)


def channel_axis(rays: Rays, entry, axis, depths, spokes=24):
    """Fit a channel from rays cast outwards from points of the planned axis: circle per depth
    (algebraic fit), then a line through the centres. Returns (offset of the fitted axis from the
    planned entry point mm, angle to the planned axis in degrees, mean diameter mm)."""
    entry, axis = np.asarray(entry, float), np.asarray(axis, float)
    u, v = perpendicular(axis)
    centres, radii = [], []
    for s in depths:
        p = entry + s * axis
        wall = []
        for a in np.linspace(0, 2 * np.pi, spokes, endpoint=False):
            d = np.cos(a) * u + np.sin(a) * v
            t, _ = rays.first(p, d, 20.0)
            assert np.isfinite(t), f"no channel wall at depth {s} mm"
            wall.append([t * np.cos(a), t * np.sin(a)])
        wall = np.array(wall)
        # algebraic circle fit: x² + y² + D x + E y + F = 0
        A = np.column_stack([wall, np.ones(len(wall))])
        D, E, F = np.linalg.lstsq(A, -(wall ** 2).sum(1), rcond=None)[0]
        cx, cy = -D / 2, -E / 2
        radii.append(np.sqrt(cx * cx + cy * cy - F))
        centres.append(p + cx * u + cy * v)
    centres = np.array(centres)
    mean = centres.mean(0)
    direction = np.linalg.svd(centres - mean)[2][0]
    direction *= np.sign(direction @ axis)
    rel = entry - mean
    offset = np.linalg.norm(rel - (rel @ direction) * direction)
    angle = np.degrees(np.arccos(min(1.0, float(direction @ axis))))
    return float(offset), float(angle), float(2 * np.mean(radii))


def slot_walls(rays: Rays, points, normal, reach=5.0):
    """Distances to the two slot walls from points of the planned plane, along ± ``normal``:
    (centre offsets (a - b) / 2, widths a + b), for the points where both walls are within reach."""
    offsets, widths = [], []
    for p in points:
        a, _ = rays.first(p, normal, reach)
        b, _ = rays.first(p, -np.asarray(normal), reach)
        if np.isfinite(a) and np.isfinite(b):
            offsets.append((a - b) / 2)
            widths.append(a + b)
    return np.array(offsets), np.array(widths)


def surface_samples(mesh: Mesh, count: int, seed: int = 0) -> np.ndarray:
    """The mesh's vertices plus ``count`` points spread over its faces by area."""
    tm = trimesh.Trimesh(mesh.vertices, mesh.faces, process=False)
    points, _ = trimesh.sample.sample_surface(tm, count, seed=seed)
    return np.vstack([mesh.vertices, points])


def shells_and_closed(mesh: Mesh) -> tuple[int, bool]:
    """(connected pieces, closed and consistently wound) by trimesh, after merging vertices."""
    tm = trimesh.Trimesh(mesh.vertices, mesh.faces, process=True)
    return len(tm.split(only_watertight=False)), bool(tm.is_watertight and tm.is_winding_consistent)
