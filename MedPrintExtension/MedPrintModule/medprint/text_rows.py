"""Numeric tables as text, fast: one line per row from a template, built with numpy (no per-number
Python formatting), for the text mesh formats (3MF XML, OBJ, ASCII STL).

A template is literal text with ``{}`` where the row's numbers go; integer columns are written in
full, float columns with a fixed number of decimals (rounded half to even on the scaled value, and
never ``-0``). Each row is laid out at a fixed width with NUL padding, which is then squeezed out.
"""

from __future__ import annotations

import numpy as np

_PAD = 0  # the padding byte (never part of the text)


def format_rows(template: str, columns: np.ndarray, decimals: int | None = None) -> bytes:
    """``template`` filled with each row of ``columns`` (n, k): integers if ``decimals`` is None,
    else fixed-point with that many decimals (what ``{:d}`` / ``{:.Nf}`` give, except ``-0``)."""
    literals = [s.encode("ascii") for s in template.split("{}")]
    columns = np.asarray(columns)
    n, k = columns.shape
    if len(literals) != k + 1:
        raise ValueError(f"the template has {len(literals) - 1} fields for {k} columns")
    if n == 0:
        return b""
    blocks = []
    for c in range(k):
        blocks.append(_literal(literals[c], n))
        blocks.append(_number(columns[:, c], decimals))
    blocks.append(_literal(literals[k], n))
    table = np.concatenate(blocks, axis=1)
    return table[table != _PAD].tobytes()


def _literal(text: bytes, n: int) -> np.ndarray:
    return np.broadcast_to(np.frombuffer(text, dtype=np.uint8), (n, len(text)))


def _digits(values: np.ndarray, width: int, pad_leading: bool) -> np.ndarray:
    """Decimal digits (n, width) as ASCII; leading zeros become padding when ``pad_leading`` (the
    last digit always stays)."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    digits = ((values[:, None] // powers) % 10 + 48).astype(np.uint8)
    if pad_leading:
        digits[:, :-1][values[:, None] < powers[None, :-1]] = _PAD
    return digits


def _number(column: np.ndarray, decimals: int | None) -> np.ndarray:
    if decimals is None:
        values = column.astype(np.int64)
        negative, whole = values < 0, np.abs(values)
    else:
        scaled = np.rint(np.abs(column.astype(np.float64)) * 10.0 ** decimals).astype(np.int64)
        negative = (column < 0) & (scaled > 0)
        whole = scaled // 10 ** decimals
    width = len(str(int(whole.max())))
    sign = np.where(negative, ord("-"), _PAD).astype(np.uint8)[:, None]
    parts = [sign, _digits(whole, width, pad_leading=True)]
    if decimals:
        parts += [_literal(b".", len(column)), _digits(scaled % 10 ** decimals, decimals, pad_leading=False)]
    return np.concatenate(parts, axis=1)
