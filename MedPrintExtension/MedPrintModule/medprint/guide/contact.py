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
    """Points sampled on the contact region (LPS mm, about one per ``spacing_mm``²), with their
    faces' outward unit normals and the area each stands for (mm²)."""

    points: np.ndarray     # (n, 3)
    normals: np.ndarray    # (n, 3)
    areas: np.ndarray      # (n,)
    faces: np.ndarray      # (n,) the bone face each point lies on

    def mean_normal(self) -> np.ndarray:
        """Area-weighted mean of the unit normals (its length is 1 for a flat region, ~0 for a closed one)."""
        return (self.normals * self.areas[:, None]).sum(0) / self.areas.sum()


def select_contact(bone: Mesh, region: ContactRegion, spacing_mm: float = 0.25) -> Contact:
    """The bone surface of ``region``: within ``radius_mm`` of a contact point, or enclosed by the
    closed curve (projected on the curve's best-fit plane, within the curve's height band + radius).

    The faces near the region are sampled about every ``spacing_mm`` (so long, thin triangles count
    as much as small ones) and the samples inside the region kept."""
    lo, hi = _region_box(region)
    tri = bone.vertices[bone.faces]
    near = np.flatnonzero((tri.max(1) >= lo).all(1) & (tri.min(1) <= hi).all(1))
    points, normals, areas, owner = _sample_faces(tri[near], spacing_mm)
    inside = np.zeros(len(points), bool)
    if region.points_lps:
        from scipy.spatial import cKDTree

        distance, _ = cKDTree(np.asarray(region.points_lps)).query(points)
        inside |= distance <= region.radius_mm
    if region.curve_lps:
        curve = np.asarray(region.curve_lps)
        centre = curve.mean(0)
        _, _, vt = np.linalg.svd(curve - centre)
        local = (points - centre) @ vt.T
        polygon = (curve - centre) @ vt.T
        band = np.abs(polygon[:, 2]).max() + region.radius_mm
        inside |= _inside_polygon(local[:, :2], polygon[:, :2]) & (np.abs(local[:, 2]) <= band)
    if not inside.any():
        raise InputError("The contact region does not touch the bone surface.",
                         hint="place the contact points or curve on the bone model, in LPS millimetres")
    return Contact(points[inside], normals[inside], areas[inside], near[owner[inside]])


def _region_box(region: ContactRegion) -> tuple[np.ndarray, np.ndarray]:
    """A box (LPS mm) holding the whole region."""
    boxes = []
    if region.points_lps:
        points = np.asarray(region.points_lps)
        boxes += [points - region.radius_mm, points + region.radius_mm]
    if region.curve_lps:
        curve = np.asarray(region.curve_lps)
        reach = np.ptp(curve, axis=0).max() + region.radius_mm
        boxes += [curve - reach, curve + reach]
    stacked = np.vstack(boxes)
    return stacked.min(0), stacked.max(0)


def _sample_faces(tri: np.ndarray, spacing_mm: float):
    """About one point per ``spacing_mm``² on triangles (m, 3, 3) (at least one each, a fixed random
    draw so the result repeats): (points, their triangle's unit normal, area share, triangle index)."""
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    area = 0.5 * np.linalg.norm(cross, axis=1)
    keep = area > 0
    tri, cross, area = tri[keep], cross[keep], area[keep]
    count = np.maximum(1, np.ceil(area / spacing_mm ** 2).astype(np.int64))
    owner = np.repeat(np.arange(len(tri)), count)
    r1, r2 = np.random.default_rng(0).random((2, len(owner)))
    root = np.sqrt(r1)
    a, b = 1 - root, root * (1 - r2)   # uniform barycentric sampling
    t = tri[owner]
    points = a[:, None] * t[:, 0] + b[:, None] * t[:, 1] + (1 - a - b)[:, None] * t[:, 2]
    normals = cross[owner] / (2 * area[owner, None])
    return points, normals, (area / count)[owner], np.flatnonzero(keep)[owner]


def seated_part(bone: Mesh, contact: Contact) -> Mesh:
    """The pieces of ``bone`` the contact region lies on (other pieces, such as a CT table that the
    threshold kept, neither carry nor block the guide)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    f = bone.faces
    edges = np.concatenate([f[:, [0, 1]], f[:, [1, 2]]])
    n = len(bone.vertices)
    graph = coo_matrix((np.ones(len(edges), np.int8), (edges[:, 0], edges[:, 1])), shape=(n, n))
    count, label = connected_components(graph, directed=False)
    if count == 1:
        return bone
    keep = np.isin(label[f[:, 0]], np.unique(label[f[contact.faces, 0]]))
    used, faces = np.unique(f[keep], return_inverse=True)
    return Mesh(bone.vertices[used], faces.reshape(-1, 3), bone.space)


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
