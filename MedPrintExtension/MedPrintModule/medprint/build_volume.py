"""Printer profiles: build volume (mm, x/y/z) and the thinnest wall the process prints reliably,
and the one build-volume fit check shared by the export QA and slicing (:func:`place`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .errors import InputError


@dataclass(frozen=True)
class PrinterProfile:
    """A printer's build volume ``size_mm`` (x, y, z) and minimum printable wall ``min_wall_mm``."""

    name: str
    size_mm: tuple[float, float, float]
    min_wall_mm: float
    technology: str  # "FDM" or "resin"

    def fits(self, extent_mm: np.ndarray) -> bool:
        """Whether a part of bounding-box ``extent_mm`` (x, y, z) fits, as :func:`place` orients it."""
        return place([extent_mm], self.size_mm).fits

    def to_dict(self) -> dict:
        return asdict(self)


#: Orientations tried, in order: (degrees about X, about Y, about Z) and the file axes that end up
#: along the printer's X, Y, Z. Z up as planned first (as is, turned about Z), then laid on a side.
ORIENTATIONS = (((0, 0, 0), (0, 1, 2)), ((0, 0, 90), (1, 0, 2)),
                ((90, 0, 0), (0, 2, 1)), ((90, 0, 90), (2, 0, 1)),
                ((0, 90, 0), (2, 1, 0)), ((0, 90, 90), (1, 2, 0)))


@dataclass(frozen=True)
class Placement:
    """How parts go in a build volume: ``fits``, the rotation ``turn_deg`` (about X, then Y,
    then Z) and the space they take, ``size_mm`` (X, Y, Z)."""

    fits: bool
    turn_deg: tuple[int, int, int]
    size_mm: tuple[float, float, float]


def place(extents_mm, volume_mm, gap_mm: float = 0.0) -> Placement:
    """The first orientation (:data:`ORIENTATIONS`) in which parts of bounding boxes ``extents_mm``
    (mm, file axes x y z) fit the build volume ``volume_mm`` (X, Y, Z) side by side along X,
    ``gap_mm`` apart, never scaled. One part may be laid on a side (then it fits iff its sorted sizes
    fit the sorted volume); several parts keep Z up (they are placed as a group). When nothing
    fits, the placement is the parts as they are."""
    sizes = np.asarray(extents_mm, dtype=float).reshape(-1, 3)
    volume = np.asarray(volume_mm, dtype=float)
    for turn, axes in ORIENTATIONS if len(sizes) == 1 else ORIENTATIONS[:2]:
        turned = sizes[:, axes]
        need = (float(turned[:, 0].sum() + gap_mm * (len(turned) - 1)), float(turned[:, 1].max()),
                float(turned[:, 2].max()))
        if np.all(np.asarray(need) <= volume + 1e-9):
            return Placement(True, turn, need)
    need = (float(sizes[:, 0].sum() + gap_mm * (len(sizes) - 1)), float(sizes[:, 1].max()), float(sizes[:, 2].max()))
    return Placement(False, (0, 0, 0), need)


PRINTERS = {
    "prusa-mk4": PrinterProfile("Prusa MK4", (250.0, 210.0, 220.0), 0.8, "FDM"),
    "prusa-mini": PrinterProfile("Prusa MINI+", (180.0, 180.0, 180.0), 0.8, "FDM"),
    "form-3": PrinterProfile("Formlabs Form 3", (145.0, 145.0, 185.0), 0.5, "resin"),
}
DEFAULT_PRINTER = "prusa-mk4"


def printer_profile(name: str = DEFAULT_PRINTER, size_mm: tuple[float, float, float] | None = None,
                    min_wall_mm: float | None = None) -> PrinterProfile:
    """A named profile (see :data:`PRINTERS`), optionally with its build size or wall limit replaced."""
    if name not in PRINTERS:
        raise InputError(f"'{name}' is not a printer MedPrint knows.",
                         hint=f"use one of {', '.join(PRINTERS)} or give the build volume in mm")
    base = PRINTERS[name]
    if size_mm is not None and (len(size_mm) != 3 or min(size_mm) <= 0):
        raise InputError(f"A build volume needs three positive sizes in mm, not {size_mm}.")
    if min_wall_mm is not None and min_wall_mm <= 0:
        raise InputError(f"The minimum wall must be positive, not {min_wall_mm} mm.")
    return PrinterProfile(base.name if size_mm is None else "custom",
                          tuple(float(s) for s in (size_mm or base.size_mm)),
                          float(min_wall_mm if min_wall_mm is not None else base.min_wall_mm), base.technology)
