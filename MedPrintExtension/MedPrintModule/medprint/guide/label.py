"""Engraved label text (case label, side, plan version) on the guide, in the guide's frame (mm).

Letters are a 5 x 7 dot-matrix font; each lit dot is a square pit ``DEPTH_MM`` deep. The label goes
where the plate's top is flattest, away from sleeves and slots, and only where the wall under it
stays at least the technology's minimum; where the plate has no such room (a plate hugging a narrow
bone is steep nearly everywhere), on the outer side face of a slot housing (flat, ``thickness``
thick), above the plate; if it fits nowhere it is left off and the design says so in a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from .heightmap import Grid

DEPTH_MM = 0.6
#: Dot sizes tried, largest first (letter height = 5 dots), mm; only those at least the technology's
#: finest printable detail are used (a dot is also the width of the ridge between two strokes).
DOT_MM = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)
#: A pit's side over the dot pitch: lit neighbours overlap into one stroke, and the ridge between
#: two strokes is ``2 - PIT`` dots wide.
PIT = 1.01
#: Free border round the text and round sleeves and slots, mm.
MARGIN_MM = 1.0
#: Largest height change of the top under the text, mm.
MAX_RELIEF_MM = 1.5
#: Dots per letter across and up; letters and lines advance by one and two more.
COLS, ROWS = 3, 5
PITCH, LINE = COLS + 1, ROWS + 2

_FONT = {  # 5 rows of 3 dots, top row first
    "A": "010 101 111 101 101", "B": "110 101 110 101 110", "C": "011 100 100 100 011",
    "D": "110 101 101 101 110", "E": "111 100 110 100 111", "F": "111 100 110 100 100",
    "G": "011 100 101 101 011", "H": "101 101 111 101 101", "I": "111 010 010 010 111",
    "J": "001 001 001 101 010", "K": "101 101 110 101 101", "L": "100 100 100 100 111",
    "M": "101 111 111 101 101", "N": "110 101 101 101 101", "O": "010 101 101 101 010",
    "P": "110 101 110 100 100", "Q": "010 101 101 111 011", "R": "110 101 110 101 101",
    "S": "011 100 010 001 110", "T": "111 010 010 010 010", "U": "101 101 101 101 111",
    "V": "101 101 101 101 010", "W": "101 101 111 111 101", "X": "101 101 010 101 101",
    "Y": "101 101 010 010 010", "Z": "111 001 010 100 111",
    "0": "111 101 101 101 111", "1": "010 110 010 010 111", "2": "110 001 010 100 111",
    "3": "110 001 010 001 110", "4": "101 101 111 001 001", "5": "111 100 110 001 110",
    "6": "011 100 111 101 111", "7": "111 001 001 010 010", "8": "111 101 111 101 111",
    "9": "111 101 111 001 110", "-": "000 000 111 000 000", ".": "000 000 000 000 010",
    " ": "000 000 000 000 000",
}


def dots(text: str) -> np.ndarray:
    """Lit dots of ``text`` on one line, (n, 2) as (column, row) with row 0 at the bottom; letters
    are ``COLS`` dots wide and ``PITCH`` apart."""
    out = []
    for k, char in enumerate(text):
        for row, bits in enumerate(_FONT[char].split()):
            out += [(PITCH * k + col, ROWS - 1 - row) for col, bit in enumerate(bits) if bit == "1"]
    return np.array(out, dtype=float).reshape(-1, 2)


@dataclass(frozen=True, eq=False)
class Label:
    """Engraved text: its pits (manifold3d solid, frame mm), where it is ("plate" or "slot 'name'
    housing"), its centre on that surface (frame mm), its dot size (mm), and the box holding its
    relief (pits and the ridges between them, a dot round): centre ``centre``, unit ``axes`` (3, 3,
    rows), half sizes ``half`` (frame mm)."""

    pits: object
    place: str
    centre: np.ndarray
    dot_mm: float
    axes: np.ndarray
    half: np.ndarray

    def holds(self, points: np.ndarray) -> np.ndarray:
        """Which of ``points`` (n, 3, frame mm) lie in the label's relief box."""
        return np.all(np.abs((points - self.centre) @ self.axes.T) <= self.half, axis=1)


def engraving(text: str, grid: Grid, outer: np.ndarray, cells: np.ndarray, sleeves, slots,
              inner: Optional[np.ndarray] = None, min_wall_mm: float = 0.0,
              min_dot_mm: float = 0.0) -> Optional[Label]:
    """The label, or None when the text is empty or fits nowhere: on the plate's top if it fits
    there, else on a slot housing's side, with dots of at least ``min_dot_mm``. ``outer``/``inner``
    are the plate's top and bottom heights at the columns."""
    if not text:
        return None
    sizes = dot_sizes(min_dot_mm)
    free = _free_columns(grid, cells, sleeves, slots)
    if inner is not None:
        free &= outer - inner >= DEPTH_MM + min_wall_mm
    words = text.split(" ")
    layouts = [[text]] + [[" ".join(words[:k]), " ".join(words[k:])] for k in range(1, len(words))] + [words]
    for dot in sizes:
        for lines in layouts:
            for turned in (False, True):
                place = _place(lines, dot, grid, outer, free, turned)
                if place is not None:
                    return _pits(lines, dot, place, grid, outer, turned)
    for dot in sizes:
        for slot in slots:
            for side in (1.0, -1.0):
                label = _on_housing(text, dot, slot, side, grid, outer, min_wall_mm)
                if label is not None:
                    return label
    return None


def dot_sizes(min_detail_mm: float) -> list[float]:
    """The dot sizes (mm, largest first) whose ridges between strokes are at least ``min_detail_mm``."""
    return [dot for dot in DOT_MM if (2 - PIT) * dot >= min_detail_mm]


def _on_housing(text: str, dot: float, slot, side: float, grid: Grid, outer: np.ndarray,
                min_wall_mm: float) -> Optional[Label]:
    """The text on one line along the outer face of ``slot``'s housing on ``side`` (+-1 along its
    normal), read from outside with its top towards the housing's top, ``MARGIN_MM`` below that top
    and clear of the plate's top (``outer``) by ``MARGIN_MM``; None if it does not fit."""
    from .solids import box

    width, height = text_size([text], dot)
    face_length = slot.length + 2 * slot.wall
    if width + 2 * MARGIN_MM > face_length or slot.wall - DEPTH_MM < min_wall_mm:
        return None
    normal = side * slot.normal
    up = -slot.saw_axis                                   # away from the bone
    along = np.cross(up, normal)                          # reading direction seen from outside
    face = slot.origin + (0.5 * slot.width + slot.wall) * normal
    # the text's top edge, along ``up`` from the origin: a wall's width below the housing's top
    top = slot.depth - max(MARGIN_MM, min_wall_mm) - 0.5 * (PIT - 1) * dot
    centre = face + (top - 0.5 * height) * up
    # the plate's top must stay a margin below the text's bottom edge, along the whole line
    below = centre - (0.5 * height + MARGIN_MM) * up + np.outer(np.linspace(-0.5, 0.5, 41) * (width + 2 * MARGIN_MM), along)
    ij = grid.index(below[:, :2])
    if top - height < MARGIN_MM or np.any(below[:, 2] < outer[ij[:, 0], ij[:, 1]]):
        return None
    pits = []
    for col, row in dots(text):
        u, v = (col + 0.5) * dot - 0.5 * width, (row + 0.5) * dot - 0.5 * height
        # from DEPTH_MM inside the face to a little outside it
        at = centre + u * along + v * up + 0.5 * (0.2 - DEPTH_MM) * normal
        pits.append(box(at, (along, up, normal), (dot * PIT, dot * PIT, DEPTH_MM + 0.2)))
    import manifold3d

    return Label(manifold3d.Manifold.batch_boolean(pits, manifold3d.OpType.Add), f"slot '{slot.name}' housing",
                 centre, dot, np.stack([along, up, normal]),
                 np.array([0.5 * width + dot, 0.5 * height + dot, DEPTH_MM + 0.1]))


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


def text_size(lines: list[str], dot: float) -> tuple[float, float]:
    """Width and height (mm) of ``lines`` of text at dots of ``dot`` mm, margins excluded."""
    width = max(PITCH * len(line) - 1 for line in lines) * dot
    return width, (LINE * len(lines) - 2) * dot


def _place(lines, dot, grid, outer, free, turned) -> Optional[tuple[int, int]]:
    """The flattest free window for the text (read along x, or along y when ``turned``): (i, j) of
    its lowest column, or None."""
    from numpy.lib.stride_tricks import sliding_window_view

    width, height = text_size(lines, dot)
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
    _, height = text_size(lines, dot)
    axes = (np.array([1.0, 0, 0]), np.array([0, 1.0, 0]), np.array([0, 0, 1.0]))
    pits = []
    for k, line in enumerate(reversed(lines)):
        for col, row in dots(line):
            u, v = (col + 0.5) * dot, (row + 0.5 + LINE * k) * dot   # along and up the text
            cx, cy = (x0 + height - v, y0 + u) if turned else (x0 + u, y0 + v)  # turned: 90° anticlockwise
            i0, j0 = grid.index(np.array([[cx - dot / 2, cy - dot / 2]]))[0]
            i1, j1 = grid.index(np.array([[cx + dot / 2, cy + dot / 2]]))[0]
            patch = outer[i0:i1 + 1, j0:j1 + 1]
            bottom, top = patch.min() - DEPTH_MM, patch.max() + 1.0
            pits.append(box(np.array([cx, cy, 0.5 * (bottom + top)]), axes, (dot * PIT, dot * PIT, top - bottom)))
    width, _ = text_size(lines, dot)
    w, h = (height, width) if turned else (width, height)
    i0, j0 = grid.index(np.array([[x0 - dot, y0 - dot]]))[0]
    i1, j1 = grid.index(np.array([[x0 + w + dot, y0 + h + dot]]))[0]
    patch = outer[i0:i1 + 1, j0:j1 + 1]
    low, high = patch.min() - DEPTH_MM - 0.1, patch.max() + 0.1
    centre = np.array([x0 + 0.5 * w, y0 + 0.5 * h, 0.5 * (low + high)])
    return Label(manifold3d.Manifold.batch_boolean(pits, manifold3d.OpType.Add), "plate", centre, dot,
                 np.eye(3), np.array([0.5 * w + dot, 0.5 * h + dot, 0.5 * (high - low)]))
