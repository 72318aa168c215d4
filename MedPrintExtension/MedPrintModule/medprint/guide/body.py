"""The guide body as height maps in the insertion frame: bone envelope, blocked-out clearance
surface, outer surface, footprint.

Everything here is in frame mm (``heightmap.Frame``: z = insertion direction, away from the bone).
The *blocked-out bone* is everything at or below the bone's highest point in each column (undercuts
filled along z). Dilating it by a ball of radius r gives the surface ``z = h_r(x, y)``; every point
above ``h_r`` is at least r from the bone, and stays so when moved up, so a guide lying above
``h_clearance`` keeps its clearance and slides off along z without touching bone.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .heightmap import Grid, no_diagonal_pinches


def bone_envelope(top: np.ndarray, floor: float) -> np.ndarray:
    """Conservative bone heights: the highest sample of each column's 3x3 neighbourhood, so a wall
    between two samples is not missed; ``floor`` where no bone is near."""
    top = np.where(np.isfinite(top), top, floor)
    return ndimage.maximum_filter(top, size=3, mode="constant", cval=floor)


def ball_dilation(heights: np.ndarray, radius_mm: float, step_mm: float, floor: float) -> np.ndarray:
    """Upper surface of the region below ``heights`` grown by a ball of ``radius_mm`` (a grey
    dilation with a hemispherical structuring element), (nx, ny), mm."""
    if radius_mm <= 0:
        return heights.copy()
    n = int(np.ceil(radius_mm / step_mm))
    di, dj = np.meshgrid(np.arange(-n, n + 1), np.arange(-n, n + 1), indexing="ij")
    rho2 = (di * di + dj * dj) * step_mm * step_mm
    disk = rho2 <= radius_mm * radius_mm
    cap = np.sqrt(np.maximum(radius_mm * radius_mm - rho2, 0.0))
    out = ndimage.grey_dilation(heights, footprint=disk, structure=np.where(disk, cap, 0.0),
                                mode="constant", cval=floor)
    return np.maximum(out, floor)


def footprint(columns: np.ndarray, step_mm: float, close_mm: float, min_width_mm: float) -> np.ndarray:
    """Cells (nx-1, ny-1) of the guide plate: the marked columns closed by ``close_mm`` (gaps between
    contact points and features bridged), holes filled, and opened so no tongue is narrower than
    ``min_width_mm``; a cell counts when all four corners do. Runs of cells shorter than half
    ``min_width_mm`` along either axis (the opening's stair-stepped edges leave some, one or two
    cells wide, that would stand as walls thinner than the minimum) are then lengthened to it, and
    cells touching only diagonally joined."""
    n = max(1, int(round(close_mm / step_mm)))
    ball = disk(n)
    padded = np.pad(columns, n + 1)
    closed = ndimage.binary_erosion(ndimage.binary_dilation(padded, ball), ball)[n + 1:-n - 1, n + 1:-n - 1]
    closed = ndimage.binary_fill_holes(closed | columns)
    half = max(1, int(np.ceil(0.5 * min_width_mm / step_mm)))
    closed = ndimage.binary_opening(closed, disk(half))
    cells = closed[:-1, :-1] & closed[1:, :-1] & closed[1:, 1:] & closed[:-1, 1:]
    while True:
        widened = no_diagonal_pinches(_widened(cells, half))
        if np.array_equal(widened, cells):
            return cells
        cells = widened


def _widened(cells: np.ndarray, n: int) -> np.ndarray:
    """``cells`` with every run shorter than ``n`` cells (along either axis) lengthened to ``n``,
    half on each side where the grid allows."""
    out = cells.copy()
    for axis in (0, 1):
        structure = np.zeros((3, 3), bool)
        structure[(slice(None), 1) if axis == 0 else (1, slice(None))] = True
        labels, _ = ndimage.label(cells, structure)
        for run in ndimage.find_objects(labels):
            box, size = list(run), run[axis].stop - run[axis].start
            if size >= n:
                continue
            start = int(np.clip(box[axis].start - (n - size) // 2, 0, cells.shape[axis] - n))
            box[axis] = slice(start, start + n)
            out[tuple(box)] = True
    return out


def rim_max(heights: np.ndarray, region: np.ndarray, width_mm: float, step_mm: float) -> np.ndarray:
    """``heights`` (nx, ny) raised near the rim of ``region`` (columns): at distance d from the rim,
    the highest height within ``width_mm - d``. That radius shrinks inwards exactly as fast as one
    moves, so the result never rises going inwards within ``width_mm`` of the rim.

    Applied to the clearance surface it gives the guide's underside: any steep bone wall the
    guide's edge meets is at least ``width_mm`` in from the edge (no thin sheet between them).
    Applied to minus the outer surface it lowers a top that would fall away going inwards: no
    tall thin fin stands at the rim.
    """
    k_max = int(np.ceil(width_mm / step_mm))
    padded = np.pad(region, 1)
    depth = ndimage.distance_transform_edt(padded)[1:-1, 1:-1] - 1.0  # 0 on the rim, in steps
    radius = np.clip(np.ceil(k_max - depth), 0, k_max).astype(int)
    out = heights.copy()
    for k in range(1, k_max + 1):
        ring = radius == k
        if ring.any():
            lifted = ndimage.maximum_filter(heights, footprint=disk(k), mode="nearest")
            out[ring] = lifted[ring]
    return out


def lift_across(heights: np.ndarray, grid: Grid, origin: np.ndarray, normal: np.ndarray, half_width_mm: float,
                half_length_mm: float, reach_mm: float) -> np.ndarray:
    """``heights`` (nx, ny) raised beside a slot: the slab within ``half_width_mm`` of the plane
    through ``origin`` (3,) with unit ``normal`` (3,, not along z), within ``half_length_mm`` of
    ``origin`` along the plane's horizontal trace. A column whose surface point (at its own height)
    lies ``d`` from the slab takes the highest height within ``reach_mm - d`` of it straight across
    the slab (along the normal's horizontal part). A step in the surface less than ``reach_mm``
    from the slab moves out to at least half that (no ledge thinner than that beside the slot), and
    the lift fades to nothing at ``reach_mm``, so it leaves no step of its own."""
    x, y = grid.xy()
    level = float(np.hypot(normal[0], normal[1]))
    across_xy = np.asarray(normal[:2]) / level
    dx, dy = x - origin[0], y - origin[1]
    # horizontal distance to the plane at each column's own height
    across = (dx * normal[0] + dy * normal[1] + (heights - origin[2]) * normal[2]) / level
    along = dy * across_xy[0] - dx * across_xy[1]
    radius = np.where(np.abs(along) <= half_length_mm, reach_mm - np.maximum(np.abs(across) - half_width_mm, 0.0), -1.0)
    out = heights.copy()
    for k in range(1, int(np.ceil(reach_mm / grid.step)) + 1):
        for sign in (1.0, -1.0):
            i = np.rint((x + sign * k * grid.step * across_xy[0] - grid.x0) / grid.step).astype(np.int64)
            j = np.rint((y + sign * k * grid.step * across_xy[1] - grid.y0) / grid.step).astype(np.int64)
            reached = (radius >= k * grid.step) & (i >= 0) & (i < grid.nx) & (j >= 0) & (j < grid.ny)
            out[reached] = np.maximum(out[reached], heights[i[reached], j[reached]])
    return out


def cell_columns(cells: np.ndarray) -> np.ndarray:
    """Columns (nx, ny) that are a corner of a cell in ``cells`` (nx-1, ny-1)."""
    columns = np.zeros((cells.shape[0] + 1, cells.shape[1] + 1), bool)
    columns[:-1, :-1] |= cells
    columns[1:, :-1] |= cells
    columns[1:, 1:] |= cells
    columns[:-1, 1:] |= cells
    return columns


def edged_top(outer: np.ndarray, least: np.ndarray, cells: np.ndarray, fillet_mm: float, chamfer_mm: float,
              step_mm: float) -> np.ndarray:
    """Outer heights lowered near the plate's rim, never below ``least``: within ``fillet_mm`` of
    the rim along a quarter circle (a rounded edge), or within ``chamfer_mm`` along a 45° line (a
    chamfer); unchanged when both are 0 (a sharp edge)."""
    size = max(fillet_mm, chamfer_mm)
    if size <= 0:
        return outer
    columns = cell_columns(cells)
    rim = ndimage.distance_transform_edt(np.pad(columns, 1))[1:-1, 1:-1] * step_mm - step_mm
    inset = np.clip(size - rim, 0.0, size)
    drop = inset if chamfer_mm > 0 else size - np.sqrt(size * size - inset * inset)
    return np.maximum(outer - drop, np.minimum(outer, least))


def mark_columns(grid: Grid, xy: np.ndarray) -> np.ndarray:
    """Column mask (nx, ny) with the columns nearest to the points ``xy`` (n, 2) set."""
    mask = np.zeros((grid.nx, grid.ny), bool)
    ij = grid.index(xy)
    mask[ij[:, 0], ij[:, 1]] = True
    return mask


def mark_disk(mask: np.ndarray, grid: Grid, centre_xy, radius_mm: float) -> None:
    """Set the columns within ``radius_mm`` of ``centre_xy`` in ``mask`` (nx, ny)."""
    x, y = grid.xy()
    mask |= (x - centre_xy[0]) ** 2 + (y - centre_xy[1]) ** 2 <= radius_mm * radius_mm


def hull_columns(grid: Grid, corners_xy: np.ndarray) -> np.ndarray:
    """Column mask (nx, ny) of the convex hull of ``corners_xy`` (n, 2)."""
    from scipy.spatial import ConvexHull

    hull = ConvexHull(corners_xy)
    x, y = grid.xy()
    points = np.stack([x.ravel(), y.ravel(), np.ones(x.size)], 1)
    return np.all(points @ hull.equations.T <= 1e-9, axis=1).reshape(grid.nx, grid.ny)


def disk(n: int) -> np.ndarray:
    """Boolean disk of radius ``n`` cells, (2n+1, 2n+1)."""
    di, dj = np.meshgrid(np.arange(-n, n + 1), np.arange(-n, n + 1), indexing="ij")
    return di * di + dj * dj <= n * n
