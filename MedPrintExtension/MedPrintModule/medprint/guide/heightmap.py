"""Height maps along the insertion direction: the guide's frame, z-buffers of meshes, and solids
bounded by a height map.

The frame's third axis is the insertion direction (pointing away from the bone), so "up" means
"towards where the guide comes off". A height map samples a square grid of columns (step ``step_mm``)
in the frame's first two axes; ``-inf`` marks a column the mesh does not cross.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_CHUNK = 1 << 21  # candidate (triangle, column) pairs per block: bounded temporaries


@dataclass(frozen=True)
class Frame:
    """An orthonormal frame: ``local = (lps - origin) @ axes.T``; ``axes[2]`` is the insertion direction."""

    origin: np.ndarray   # (3,) LPS mm
    axes: np.ndarray     # (3, 3) rows: e1, e2, e3 (unit, right-handed)

    @classmethod
    def along(cls, direction: np.ndarray, origin: np.ndarray) -> "Frame":
        e3 = np.asarray(direction, float) / np.linalg.norm(direction)
        helper = np.eye(3)[int(np.argmin(np.abs(e3)))]
        e1 = np.cross(helper, e3)
        e1 /= np.linalg.norm(e1)
        return cls(np.asarray(origin, float), np.stack([e1, np.cross(e3, e1), e3]))

    def to_local(self, points_lps: np.ndarray) -> np.ndarray:
        return (np.asarray(points_lps, float) - self.origin) @ self.axes.T

    def to_lps(self, points_local: np.ndarray) -> np.ndarray:
        return np.asarray(points_local, float) @ self.axes + self.origin

    def vector_to_local(self, vector_lps) -> np.ndarray:
        return self.axes @ np.asarray(vector_lps, float)

    def matrix_to_lps(self) -> np.ndarray:
        """The 3x4 affine taking local points to LPS (manifold3d's ``transform`` layout)."""
        return np.hstack([self.axes.T, self.origin[:, None]])


@dataclass(frozen=True)
class Grid:
    """Columns at ``(x0 + i * step, y0 + j * step)`` for ``i < nx``, ``j < ny`` (frame mm)."""

    x0: float
    y0: float
    step: float
    nx: int
    ny: int

    @classmethod
    def covering(cls, xy_min, xy_max, step: float) -> "Grid":
        nx, ny = (int(np.ceil((hi - lo) / step)) + 1 for lo, hi in zip(xy_min, xy_max))
        return cls(float(xy_min[0]), float(xy_min[1]), float(step), nx, ny)

    def xy(self) -> tuple[np.ndarray, np.ndarray]:
        """Column coordinates, each (nx, ny)."""
        return np.meshgrid(self.x0 + self.step * np.arange(self.nx), self.y0 + self.step * np.arange(self.ny),
                           indexing="ij")

    def index(self, xy: np.ndarray) -> np.ndarray:
        """Nearest column (i, j) of points (n, 2), clipped to the grid."""
        ij = np.rint((np.asarray(xy, float) - [self.x0, self.y0]) / self.step).astype(np.int64)
        return np.clip(ij, 0, [self.nx - 1, self.ny - 1])


def zbuffer(vertices_local: np.ndarray, faces: np.ndarray, grid: Grid, highest: bool = True) -> np.ndarray:
    """Highest (or lowest) z of the surface in each column, (nx, ny); ``-inf`` (``+inf``) where no
    triangle covers the column. Columns on a triangle's edge count for it, so shared edges leave no gap."""
    fill = -np.inf if highest else np.inf
    out = np.full(grid.nx * grid.ny, fill)
    tri = vertices_local[faces]                           # (m, 3, 3)
    lo = np.ceil((tri[:, :, :2].min(1) - [grid.x0, grid.y0]) / grid.step - 1e-9).astype(np.int64)
    hi = np.floor((tri[:, :, :2].max(1) - [grid.x0, grid.y0]) / grid.step + 1e-9).astype(np.int64)
    lo = np.maximum(lo, 0)
    hi = np.minimum(hi, [grid.nx - 1, grid.ny - 1])
    width, height = hi[:, 0] - lo[:, 0] + 1, hi[:, 1] - lo[:, 1] + 1
    keep = np.flatnonzero((width > 0) & (height > 0))
    counts = width[keep] * height[keep]
    ends = np.cumsum(counts)
    reduce = np.maximum.at if highest else np.minimum.at
    start_tri = 0
    while start_tri < len(keep):  # blocks of triangles whose candidate columns fit in _CHUNK
        base = ends[start_tri - 1] if start_tri else 0
        stop_tri = max(int(np.searchsorted(ends, base + _CHUNK, side="right")), start_tri + 1)
        t = keep[start_tri:stop_tri]
        n = counts[start_tri:stop_tri]
        owner = np.repeat(np.arange(len(t)), n)
        k = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
        w = width[t][owner]
        i = lo[t, 0][owner] + k % w
        j = lo[t, 1][owner] + k // w
        a, b, c = (tri[t][owner, m] for m in range(3))
        px, py = grid.x0 + grid.step * i, grid.y0 + grid.step * j
        # barycentric coordinates of (px, py) in the triangle's projection
        v0x, v0y, v1x, v1y = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1], c[:, 0] - a[:, 0], c[:, 1] - a[:, 1]
        den = v0x * v1y - v1x * v0y
        wx, wy = px - a[:, 0], py - a[:, 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            u = (wx * v1y - v1x * wy) / den
            v = (v0x * wy - wx * v0y) / den
            inside = (np.abs(den) > 1e-12) & (u >= -1e-9) & (v >= -1e-9) & (u + v <= 1 + 1e-9)
            z = a[:, 2] + u * (b[:, 2] - a[:, 2]) + v * (c[:, 2] - a[:, 2])
        reduce(out, (i * grid.ny + j)[inside], z[inside])
        start_tri = stop_tri
    return out.reshape(grid.nx, grid.ny)


def prism(heights: np.ndarray, mask: np.ndarray, grid: Grid, floor) -> tuple[np.ndarray, np.ndarray]:
    """The closed solid over the cells in ``mask`` ((nx-1, ny-1), cell (i, j) spans columns i..i+1,
    j..j+1) from ``floor`` (a number or (nx, ny), below ``heights``) up to ``heights`` ((nx, ny), at
    the columns). Returns (vertices, faces) in frame mm, outward wound. Cells touching only
    diagonally are joined first (no pinched vertices)."""
    mask = no_diagonal_pinches(mask)
    ci, cj = np.nonzero(mask)
    corner = lambda di, dj: (ci + di) * grid.ny + (cj + dj)  # noqa: E731 - column ids of a cell corner
    a, b, c, d = corner(0, 0), corner(1, 0), corner(1, 1), corner(0, 1)  # counter-clockwise seen from +z
    used = np.unique(np.concatenate([a, b, c, d]))
    remap = np.full(grid.nx * grid.ny, -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    x, y = grid.xy()
    top = np.stack([x.ravel()[used], y.ravel()[used], heights.ravel()[used]], 1)
    bottom = top.copy()
    bottom[:, 2] = np.broadcast_to(floor, heights.shape).ravel()[used]
    nt = len(used)
    a, b, c, d = remap[a], remap[b], remap[c], remap[d]
    faces = [np.stack([a, b, c], 1), np.stack([a, c, d], 1),                     # top
             np.stack([a, c, b], 1) + nt, np.stack([a, d, c], 1) + nt]            # bottom
    padded = np.pad(mask, 1)
    for (p, q), (di, dj) in (((a, b), (0, -1)), ((b, c), (1, 0)), ((c, d), (0, 1)), ((d, a), (-1, 0))):
        outside = ~padded[ci + 1 + di, cj + 1 + dj]
        p, q = p[outside], q[outside]
        faces += [np.stack([p + nt, q + nt, q], 1), np.stack([p + nt, q, p], 1)]  # wall, facing out
    return np.vstack([top, bottom]), np.vstack(faces)


def no_diagonal_pinches(mask: np.ndarray) -> np.ndarray:
    """``mask`` (cells) with each pair of cells touching only at a corner joined by a 2x2 block."""
    mask = mask.copy()
    while True:
        a, b, c, d = mask[:-1, :-1], mask[1:, :-1], mask[1:, 1:], mask[:-1, 1:]
        pinch = (a & c & ~b & ~d) | (b & d & ~a & ~c)
        if not pinch.any():
            return mask
        i, j = np.nonzero(pinch)
        mask[i, j] = mask[i + 1, j] = mask[i, j + 1] = mask[i + 1, j + 1] = True
