"""Printer profiles: build volume (mm, x/y/z) and the thinnest wall the process prints reliably."""

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
        """Whether a part of bounding-box ``extent_mm`` (x, y, z) fits in some axis-aligned
        orientation (a permutation of its axes: fits iff the sorted sizes fit the sorted volume)."""
        return bool(np.all(np.sort(np.asarray(extent_mm, dtype=float)) <= np.sort(self.size_mm)))

    def to_dict(self) -> dict:
        return asdict(self)


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
