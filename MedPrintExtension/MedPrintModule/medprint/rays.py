"""Ray casting against a triangle mesh (Embree through ``embreex``), many rays per call.

Used by the QA checks: wall thickness (rays from each face inward) and self-intersections (each
edge as a short segment). Coordinates are the mesh's own (mm); Embree works in float32, so
distances are good to about 1e-5 of the mesh's extent.
"""

from __future__ import annotations

import numpy as np

from .errors import MedPrintError
from .mesh import Mesh

MISS = -1  # primitive id of a ray that hit nothing


class RayCaster:
    """An Embree scene of one mesh; :meth:`first_hits` casts many rays at once."""

    def __init__(self, mesh: Mesh):
        try:
            from embreex import rtcore_scene
            from embreex.mesh_construction import TriangleMesh
        except ImportError as exc:
            raise MedPrintError("The ray engine MedPrint measures meshes with is not installed.",
                                hint="install the Python package 'embreex' (pip install embreex)",
                                detail=str(exc)) from exc
        self._center = mesh.vertices.mean(axis=0) if len(mesh.vertices) else np.zeros(3)
        self._scene = rtcore_scene.EmbreeScene()
        TriangleMesh(scene=self._scene, vertices=(mesh.vertices - self._center).astype(np.float32),
                     indices=mesh.faces.astype(np.int32))

    def any_hits(self, origins: np.ndarray, directions: np.ndarray, near: float, far: np.ndarray | float
                 ) -> np.ndarray:
        """Whether each ray meets any face within ``[near, far]`` (cheaper than :meth:`first_hits`)."""
        n = len(origins)
        if n == 0:
            return np.zeros(0, dtype=bool)
        far = np.broadcast_to(np.asarray(far, dtype=np.float64), (n,))
        start = origins - self._center + directions * near
        hit = self._scene.run(start.astype(np.float32), directions.astype(np.float32),
                              dists=(far - near).astype(np.float32), query="OCCLUDED")
        return np.asarray(hit) != MISS

    def first_hits(self, origins: np.ndarray, directions: np.ndarray, near: np.ndarray | float,
                   far: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """First face hit by each ray within ``[near, far]`` along a unit ``direction`` (mm).

        Returns ``(face, distance)``: the face index (``MISS`` for none) and the distance from the
        origin (``far`` for a miss), both shape (n,).
        """
        n = len(origins)
        if n == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        near = np.broadcast_to(np.asarray(near, dtype=np.float64), (n,))
        far = np.broadcast_to(np.asarray(far, dtype=np.float64), (n,))
        # Embree has no tnear argument here: start each ray at ``near`` and shorten it to match.
        start = origins - self._center + directions * near[:, None]
        result = self._scene.run(start.astype(np.float32), directions.astype(np.float32),
                                 dists=(far - near).astype(np.float32), output=1)
        face = result["primID"].astype(np.int64)
        distance = np.where(face == MISS, far, result["tfar"].astype(np.float64) + near)
        return face, distance
