"""The contact region on the bone and the insertion direction it implies (LPS mm)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..mesh import Mesh
from .plan import ContactRegion

#: Below this length of the area-weighted mean unit normal, the region faces every way (it wraps
#: round the bone) and no single direction seats a guide on it.
MIN_MEAN_NORMAL = 0.3


@dataclass(frozen=True, eq=False)
class Contact:
    """Bone vertices of the contact region: indices, their normals (outward, unit) and areas (mm²)."""

    vertices: np.ndarray   # (n,) indices into the bone's vertices
    normals: np.ndarray    # (n, 3)
    areas: np.ndarray      # (n,)

    def mean_normal(self) -> np.ndarray:
        """Area-weighted mean of the unit normals (its length is 1 for a flat region, ~0 for a closed one)."""
        return (self.normals * self.areas[:, None]).sum(0) / self.areas.sum()


def vertex_normals(bone: Mesh) -> tuple[np.ndarray, np.ndarray]:
    """Unit outward vertex normals (n, 3) and vertex areas (n,) (a third of each adjacent face), mm²."""
    tri = bone.vertices[bone.faces]
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normals = np.zeros_like(bone.vertices)
    for corner in range(3):
        np.add.at(normals, bone.faces[:, corner], cross)
    areas = np.zeros(len(bone.vertices))
    np.add.at(areas, bone.faces.ravel(), np.repeat(np.linalg.norm(cross, axis=1) / 6.0, 3))
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    return np.divide(normals, length, out=np.zeros_like(normals), where=length > 0), areas


def select_contact(bone: Mesh, region: ContactRegion) -> Contact:
    """The bone vertices of ``region``: within ``radius_mm`` of a contact point, or enclosed by the
    closed curve (projected on the curve's best-fit plane, within the curve's height band + radius)."""
    from scipy.spatial import cKDTree

    vertices = bone.vertices
    chosen = np.zeros(len(vertices), bool)
    if region.points_lps:
        tree = cKDTree(vertices)
        for hits in tree.query_ball_point(np.asarray(region.points_lps), region.radius_mm):
            chosen[hits] = True
    if region.curve_lps:
        curve = np.asarray(region.curve_lps)
        centre = curve.mean(0)
        _, _, vt = np.linalg.svd(curve - centre)
        local = (vertices - centre) @ vt.T
        polygon = (curve - centre) @ vt.T
        band = np.abs(polygon[:, 2]).max() + region.radius_mm
        chosen |= _inside_polygon(local[:, :2], polygon[:, :2]) & (np.abs(local[:, 2]) <= band)
    if not chosen.any():
        raise InputError("The contact region does not touch the bone surface.",
                         hint="place the contact points or curve on the bone model, in LPS millimetres")
    normals, areas = vertex_normals(bone)
    index = np.flatnonzero(chosen)
    return Contact(index, normals[index], areas[index])


def insertion_direction(contact: Contact) -> np.ndarray:
    """The mean outward normal of the contact region (unit, LPS); refuses a region facing every way."""
    mean = contact.mean_normal()
    length = float(np.linalg.norm(mean))
    if length < MIN_MEAN_NORMAL:
        raise InputError(f"The contact region has an undercut in every direction: it wraps round the bone "
                         f"(mean normal length {length:.2f}, a seatable region needs at least {MIN_MEAN_NORMAL}).",
                         hint="take the contact region from one side of the bone only")
    return mean / length


def _inside_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Even-odd rule: which of ``points`` (n, 2) lie inside the closed ``polygon`` (m, 2)."""
    inside = np.zeros(len(points), bool)
    x, y = points[:, 0], points[:, 1]
    for (x1, y1), (x2, y2) in zip(polygon, np.roll(polygon, -1, axis=0)):
        crosses = (y1 > y) != (y2 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (x < at)
    return inside
