"""manifold3d solids: conversion from and to vertex/face arrays, and primitives placed along an axis."""

from __future__ import annotations

import numpy as np

from ..errors import MedPrintError

#: Facets of a drill channel or sleeve: a 64-gon's inscribed circle is 0.12 % smaller than the
#: circle through its corners (0.002 mm on a 3.5 mm bore).
CYLINDER_SEGMENTS = 64


def to_manifold(vertices: np.ndarray, faces: np.ndarray, what: str):
    """A ``manifold3d.Manifold`` of a closed, outward-wound triangle mesh; ``what`` names it in errors."""
    import manifold3d

    # fresh, writable, C-ordered copies: the binding refuses read-only views
    mesh = manifold3d.Mesh64(vert_properties=np.array(vertices, dtype=np.float64, order="C"),
                             tri_verts=np.array(faces, dtype=np.uint64, order="C"))
    mesh.merge()
    solid = manifold3d.Manifold(mesh)
    if solid.status() != manifold3d.Error.NoError:
        raise MedPrintError(f"The {what} is not a closed surface, so the guide cannot be cut from it.",
                            hint="repair the model so it is watertight (medprint model makes closed surfaces)",
                            detail=str(solid.status()))
    return solid


def to_arrays(solid) -> tuple[np.ndarray, np.ndarray]:
    """(vertices (n, 3) float64, faces (m, 3) int64) of a Manifold."""
    mesh = solid.to_mesh64()
    return np.asarray(mesh.vert_properties, dtype=np.float64)[:, :3].copy(), \
        np.asarray(mesh.tri_verts, dtype=np.int64).copy()


def basis(axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors completing ``axis`` (unit) to a right-handed frame."""
    helper = np.eye(3)[int(np.argmin(np.abs(axis)))]
    u = np.cross(helper, axis)
    u /= np.linalg.norm(u)
    return u, np.cross(axis, u)


def cylinder(point: np.ndarray, axis: np.ndarray, start: float, stop: float, radius: float):
    """A cylinder of ``radius`` about the line ``point + s * axis`` for ``start <= s <= stop`` (mm)."""
    import manifold3d

    u, v = basis(axis)
    solid = manifold3d.Manifold.cylinder(stop - start, radius, radius, CYLINDER_SEGMENTS)
    origin = point + start * axis
    return solid.transform(np.column_stack([u, v, axis, origin]))


def box(centre: np.ndarray, axes: tuple[np.ndarray, np.ndarray, np.ndarray], size: tuple[float, float, float]):
    """A box centred on ``centre`` with edges ``size`` along the three orthonormal ``axes`` (mm)."""
    import manifold3d

    solid = manifold3d.Manifold.cube(tuple(float(s) for s in size), True)
    return solid.transform(np.column_stack([*axes, centre]))
