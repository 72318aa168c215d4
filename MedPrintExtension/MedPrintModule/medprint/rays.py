"""Ray casting against a triangle mesh (Embree through ``embreex``), many rays per call.

Used by the QA checks: wall thickness (rays from each face inward) and self-intersections (each
edge as a short segment). Coordinates are the mesh's own (mm); Embree works in float32, so
distances are good to about 1e-5 of the mesh's extent. Large batches are cast in chunks on every
core the process may use (embreex releases the GIL while it traces); each ray's result does not
depend on the chunking.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .errors import MedPrintError
from .mesh import Mesh

MISS = -1  # primitive id of a ray that hit nothing
CHUNK_RAYS = 1 << 16  # rays per chunk handed to one thread


def _cores() -> int:
    """The number of CPU cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class RayCaster:
    """An Embree scene of one mesh (built here, BVH included); :meth:`first_hits` casts many rays
    at once."""

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
        # embreex commits the scene (builds the BVH) on its first query: do it here, in one thread
        self._scene.run(np.zeros((0, 3), dtype=np.float32), np.zeros((0, 3), dtype=np.float32))

    def _cast(self, origins: np.ndarray, directions: np.ndarray, near: np.ndarray | float,
              far: np.ndarray | float, **query) -> list:
        """Embree's answers, chunk by chunk, for rays starting ``near`` along ``directions`` from
        ``origins`` and running to ``far`` (mm); ``query``: arguments of ``EmbreeScene.run``."""
        n = len(origins)
        directions = np.broadcast_to(directions, (n, 3))
        near = np.broadcast_to(np.asarray(near, dtype=np.float64), (n,))
        far = np.broadcast_to(np.asarray(far, dtype=np.float64), (n,))

        def chunk(part: slice):
            # Embree has no tnear argument here: start each ray at ``near`` and shorten it to match.
            start = origins[part] - self._center + directions[part] * near[part, None]
            return self._scene.run(start.astype(np.float32), directions[part].astype(np.float32),
                                   dists=(far[part] - near[part]).astype(np.float32), **query)

        parts = [slice(i, i + CHUNK_RAYS) for i in range(0, n, CHUNK_RAYS)]
        if len(parts) == 1 or _cores() == 1:
            return [chunk(part) for part in parts]
        with ThreadPoolExecutor(min(_cores(), len(parts))) as pool:
            return list(pool.map(chunk, parts))

    def any_hits(self, origins: np.ndarray, directions: np.ndarray, near: float, far: np.ndarray | float
                 ) -> np.ndarray:
        """Whether each ray meets any face within ``[near, far]`` (cheaper than :meth:`first_hits`)."""
        if len(origins) == 0:
            return np.zeros(0, dtype=bool)
        return np.concatenate(self._cast(origins, directions, near, far, query="OCCLUDED")) != MISS

    def first_hits(self, origins: np.ndarray, directions: np.ndarray, near: np.ndarray | float,
                   far: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """First face hit by each ray within ``[near, far]`` along a unit ``direction`` (mm).

        Returns ``(face, distance)``: the face index (``MISS`` for none) and the distance from the
        origin (``far`` for a miss), both shape (n,).
        """
        n = len(origins)
        if n == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        results = self._cast(origins, directions, near, far, output=1)
        face = np.concatenate([r["primID"] for r in results]).astype(np.int64)
        tfar = np.concatenate([r["tfar"] for r in results]).astype(np.float64)
        near = np.broadcast_to(np.asarray(near, dtype=np.float64), (n,))
        far = np.broadcast_to(np.asarray(far, dtype=np.float64), (n,))
        return face, np.where(face == MISS, far, tfar + near)
