"""Engraved label text (case label, side, plan version) on the guide's top, in the guide's frame (mm).

Letters are a 5 x 7 dot-matrix font; each lit dot is a square pit ``DEPTH_MM`` deep below the top
surface at that spot. The label goes where the plate is flattest, away from sleeves and slots, and
only where the wall under it stays at least the technology's minimum; if it fits nowhere it is left
off (the design's figures say so).
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from .heightmap import Grid

DEPTH_MM = 0.6
#: Dot sizes tried, largest first (letter height = 7 dots), mm.
DOT_MM = (0.6, 0.45, 0.35)
#: Free border round the text and round sleeves and slots, mm.
MARGIN_MM = 1.0
#: Largest height change of the top under the text, mm.
MAX_RELIEF_MM = 1.5

_FONT = {  # 7 rows of 5 dots, top row first
    "A": "01110 10001 10001 11111 10001 10001 10001", "B": "11110 10001 10001 11110 10001 10001 11110",
    "C": "01110 10001 10000 10000 10000 10001 01110", "D": "11110 10001 10001 10001 10001 10001 11110",
    "E": "11111 10000 10000 11110 10000 10000 11111", "F": "11111 10000 10000 11110 10000 10000 10000",
    "G": "01110 10001 10000 10111 10001 10001 01111", "H": "10001 10001 10001 11111 10001 10001 10001",
    "I": "01110 00100 00100 00100 00100 00100 01110", "J": "00111 00010 00010 00010 00010 10010 01100",
    "K": "10001 10010 10100 11000 10100 10010 10001", "L": "10000 10000 10000 10000 10000 10000 11111",
    "M": "10001 11011 10101 10101 10001 10001 10001", "N": "10001 10001 11001 10101 10011 10001 10001",
    "O": "01110 10001 10001 10001 10001 10001 01110", "P": "11110 10001 10001 11110 10000 10000 10000",
    "Q": "01110 10001 10001 10001 10101 10010 01101", "R": "11110 10001 10001 11110 10100 10010 10001",
    "S": "01111 10000 10000 01110 00001 00001 11110", "T": "11111 00100 00100 00100 00100 00100 00100",
    "U": "10001 10001 10001 10001 10001 10001 01110", "V": "10001 10001 10001 10001 10001 01010 00100",
    "W": "10001 10001 10001 10101 10101 10101 01010", "X": "10001 10001 01010 00100 01010 10001 10001",
    "Y": "10001 10001 01010 00100 00100 00100 00100", "Z": "11111 00001 00010 00100 01000 10000 11111",
    "0": "01110 10001 10011 10101 11001 10001 01110", "1": "00100 01100 00100 00100 00100 00100 01110",
    "2": "01110 10001 00001 00010 00100 01000 11111", "3": "11111 00010 00100 00010 00001 10001 01110",
    "4": "00010 00110 01010 10010 11111 00010 00010", "5": "11111 10000 11110 00001 00001 10001 01110",
    "6": "00110 01000 10000 11110 10001 10001 01110", "7": "11111 00001 00010 00100 01000 01000 01000",
    "8": "01110 10001 10001 01110 10001 10001 01110", "9": "01110 10001 10001 01111 00001 00010 01100",
    "-": "00000 00000 00000 11111 00000 00000 00000", ".": "00000 00000 00000 00000 00000 01100 01100",
    " ": "00000 00000 00000 00000 00000 00000 00000",
}


def dots(text: str) -> np.ndarray:
    """Lit dots of ``text`` on one line, (n, 2) as (column, row) with row 0 at the bottom; letters
    are 5 dots wide and 6 apart."""
    out = []
    for k, char in enumerate(text):
        for row, bits in enumerate(_FONT[char].split()):
            out += [(6 * k + col, 6 - row) for col, bit in enumerate(bits) if bit == "1"]
    return np.array(out, dtype=float).reshape(-1, 2)


def engraving(text: str, grid: Grid, outer: np.ndarray, cells: np.ndarray, sleeves, slots,
              inner: Optional[np.ndarray] = None, min_wall_mm: float = 0.0):
    """The pits to subtract from the guide (a manifold3d solid, frame mm), or None when the text is
    empty or fits nowhere. ``outer``/``inner`` are the top and bottom heights at the columns."""
    if not text:
        return None
    free = _free_columns(grid, cells, sleeves, slots)
    if inner is not None:
        free &= outer - inner >= DEPTH_MM + min_wall_mm
    words = text.split(" ")
    layouts = [[text]] + [[" ".join(words[:k]), " ".join(words[k:])] for k in range(1, len(words))] + [words]
    for dot in DOT_MM:
        for lines in layouts:
            for turned in (False, True):
                place = _place(lines, dot, grid, outer, free, turned)
                if place is not None:
                    return _pits(lines, dot, place, grid, outer, turned)
    return None


def _free_columns(grid: Grid, cells: np.ndarray, sleeves, slots) -> np.ndarray:
    from scipy import ndimage

    columns = np.zeros((grid.nx, grid.ny), bool)
    columns[:-1, :-1] = cells
    columns &= np.pad(cells, ((1, 0), (1, 0)))  # all four cells round a column on the plate
    columns &= np.pad(cells, ((0, 1), (1, 0))) & np.pad(cells, ((1, 0), (0, 1)))
    n = int(np.ceil(MARGIN_MM / grid.step))
    columns = ndimage.binary_erosion(columns, iterations=n)
    x, y = grid.xy()
    for s in sleeves:
        for end in (s.entry, s.entry - s.height * s.axis):
            columns &= (x - end[0]) ** 2 + (y - end[1]) ** 2 > (s.outer_radius + MARGIN_MM) ** 2
    for s in slots:
        from scipy.spatial import Delaunay

        hull = Delaunay(s.footprint_points())
        near = hull.find_simplex(np.stack([x.ravel(), y.ravel()], 1)) >= 0
        columns &= ~ndimage.binary_dilation(near.reshape(columns.shape), iterations=n)
    return columns


def _size(lines: list[str], dot: float) -> tuple[float, float]:
    width = max(6 * len(line) - 1 for line in lines) * dot
    return width, (9 * len(lines) - 2) * dot


def _place(lines, dot, grid, outer, free, turned) -> Optional[tuple[int, int]]:
    """The flattest free window for the text (read along x, or along y when ``turned``): (i, j) of
    its lowest column, or None."""
    from numpy.lib.stride_tricks import sliding_window_view

    width, height = _size(lines, dot)
    if turned:
        width, height = height, width
    wi, wj = int(np.ceil(width / grid.step)) + 1, int(np.ceil(height / grid.step)) + 1
    if wi > grid.nx or wj > grid.ny:
        return None
    fits = sliding_window_view(free, (wi, wj)).all(axis=(2, 3))
    if not fits.any():
        return None
    windows = sliding_window_view(outer, (wi, wj))
    relief = windows.max(axis=(2, 3)) - windows.min(axis=(2, 3))
    relief = np.where(fits, relief, np.inf)
    i, j = np.unravel_index(int(np.argmin(relief)), relief.shape)
    return (int(i), int(j)) if relief[i, j] <= MAX_RELIEF_MM else None


def _pits(lines, dot, place, grid, outer, turned):
    """One square pit per lit dot, ``DEPTH_MM`` below the top under it (frame mm)."""
    import manifold3d

    from .solids import box

    x0 = grid.x0 + grid.step * place[0]
    y0 = grid.y0 + grid.step * place[1]
    _, height = _size(lines, dot)
    axes = (np.array([1.0, 0, 0]), np.array([0, 1.0, 0]), np.array([0, 0, 1.0]))
    pits = []
    for k, line in enumerate(reversed(lines)):
        for col, row in dots(line):
            u, v = (col + 0.5) * dot, (row + 0.5 + 9 * k) * dot   # along and up the text
            cx, cy = (x0 + height - v, y0 + u) if turned else (x0 + u, y0 + v)  # turned: 90° anticlockwise
            i0, j0 = grid.index(np.array([[cx - dot / 2, cy - dot / 2]]))[0]
            i1, j1 = grid.index(np.array([[cx + dot / 2, cy + dot / 2]]))[0]
            patch = outer[i0:i1 + 1, j0:j1 + 1]
            bottom, top = patch.min() - DEPTH_MM, patch.max() + 1.0
            # dots of one letter overlap by 1 %, so a stroke is one pit, not touching squares
            pits.append(box(np.array([cx, cy, 0.5 * (bottom + top)]), axes, (dot * 1.01, dot * 1.01, top - bottom)))
    return manifold3d.Manifold.batch_boolean(pits, manifold3d.OpType.Add)
