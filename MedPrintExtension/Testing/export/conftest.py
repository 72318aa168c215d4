"""Known meshes for the export tests (trimesh primitives, millimetres, outward winding)."""

import numpy as np
import pytest
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


@pytest.fixture
def ball() -> Mesh:
    return sphere()
