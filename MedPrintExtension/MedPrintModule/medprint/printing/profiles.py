"""Printer and material profiles, and the build-volume check done before slicing.

Sizes are millimetres along the printer's X (width), Y (depth) and Z (height). A part keeps its
file coordinates' axes (LPS: Z is superior) when it fits so; otherwise it is turned 90° about Z or,
a single part, laid on a side — the same check as the export QA's (:func:`medprint.build_volume.place`);
the slicer is then told to rotate it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import build_volume
from ..errors import InputError

#: Gap kept between parts printed together, mm.
PART_GAP_MM = 5.0


@dataclass(frozen=True)
class PrinterProfile:
    """A printer for slicing: technology (``FFF`` filament or ``SLA`` resin), build volume in mm
    (X width, Y depth, Z height), nozzle in mm, and its maker and model for the case record."""

    name: str
    make: str
    model: str
    technology: str
    bed_mm: tuple[float, float, float]
    nozzle_mm: float = 0.4
    gcode_flavor: str = "marlin2"
    slicer: dict = field(default_factory=dict)

    @property
    def sliced_suffix(self) -> str:
        """The sliced file's suffix: G-code for filament, PrusaSlicer's ``.sl1`` archive for resin."""
        return ".gcode" if self.technology == "FFF" else ".sl1"

    def slicer_config(self) -> dict:
        """PrusaSlicer keys for this printer."""
        x, y, z = self.bed_mm
        config = {"printer_technology": self.technology,
                  "bed_shape": f"0x0,{x:g}x0,{x:g}x{y:g},0x{y:g}", "max_print_height": f"{z:g}"}
        if self.technology == "FFF":
            config.update(gcode_flavor=self.gcode_flavor, nozzle_diameter=f"{self.nozzle_mm:g}",
                          use_relative_e_distances="0", start_gcode=_START_GCODE, end_gcode=_END_GCODE)
        else:
            config.update(display_width=f"{x:g}", display_height=f"{y:g}")
        return {**config, **self.slicer}


@dataclass(frozen=True)
class MaterialProfile:
    """A material: filament (temperatures °C, diameter mm, density g/cm³) or resin (exposure s)."""

    name: str
    technology: str
    slicer: dict


_START_GCODE = (r"M140 S[first_layer_bed_temperature]\nM104 S[first_layer_temperature]\nG28\n"
                r"M190 S[first_layer_bed_temperature]\nM109 S[first_layer_temperature]\nG92 E0")
_END_GCODE = r"M104 S0\nM140 S0\nM107\nG28 X0\nM84"

#: Build volumes the export QA knows (medprint.build_volume) are taken from there.
_QA_VOLUME = {name: p.size_mm for name, p in build_volume.PRINTERS.items()}

PRINTERS: dict[str, PrinterProfile] = {p.name: p for p in (
    PrinterProfile("prusa-mini", "Prusa", "MINI+", "FFF", _QA_VOLUME["prusa-mini"]),
    PrinterProfile("prusa-mk4", "Prusa", "MK4", "FFF", _QA_VOLUME["prusa-mk4"]),
    PrinterProfile("prusa-mk3s", "Prusa", "MK3S+", "FFF", (250.0, 210.0, 210.0)),
    PrinterProfile("ender-3", "Creality", "Ender-3", "FFF", (220.0, 220.0, 250.0)),
    PrinterProfile("octoprint-virtual", "OctoPrint", "Virtual Printer", "FFF", (200.0, 200.0, 200.0)),
    PrinterProfile("voron-350", "Voron", "2.4 350", "FFF", (350.0, 350.0, 340.0), gcode_flavor="klipper"),
    PrinterProfile("prusa-xl", "Prusa", "XL", "FFF", (360.0, 360.0, 360.0)),
    PrinterProfile("prusa-sl1s", "Prusa", "SL1S Speed", "SLA", (127.0, 80.0, 150.0), slicer={
        "display_pixels_x": "2560", "display_pixels_y": "1620", "display_orientation": "landscape"}),
)}

_FILAMENT = {"filament_diameter": "1.75", "cooling": "1"}
MATERIALS: dict[str, MaterialProfile] = {m.name: m for m in (
    MaterialProfile("PLA", "FFF", {**_FILAMENT, "filament_type": "PLA", "filament_density": "1.24",
                                   "temperature": "210", "first_layer_temperature": "215",
                                   "bed_temperature": "60", "first_layer_bed_temperature": "60"}),
    MaterialProfile("PETG", "FFF", {**_FILAMENT, "filament_type": "PETG", "filament_density": "1.27",
                                    "temperature": "240", "first_layer_temperature": "240",
                                    "bed_temperature": "85", "first_layer_bed_temperature": "85"}),
    MaterialProfile("resin-standard", "SLA", {"exposure_time": "2.5", "initial_exposure_time": "25",
                                              "material_density": "1.1"}),
    MaterialProfile("resin-biocompatible", "SLA", {"exposure_time": "6", "initial_exposure_time": "35",
                                                   "material_density": "1.18"}),
)}


def printer_profile(name: str) -> PrinterProfile:
    try:
        return PRINTERS[name]
    except KeyError:
        raise InputError(f"There is no printer profile '{name}'.",
                         hint=f"choose one of: {', '.join(PRINTERS)}") from None


def material_profile(name: str, printer: PrinterProfile) -> MaterialProfile:
    material = MATERIALS.get(name)
    if material is None:
        raise InputError(f"There is no material profile '{name}'.", hint=f"choose one of: {', '.join(MATERIALS)}")
    if material.technology != printer.technology:
        fitting = [m for m in MATERIALS.values() if m.technology == printer.technology]
        raise InputError(f"{name} cannot be printed on {printer.name} ({printer.technology}).",
                         hint=f"choose one of: {', '.join(m.name for m in fitting)}")
    return material


def default_material(printer: PrinterProfile) -> str:
    return "PLA" if printer.technology == "FFF" else "resin-standard"


@dataclass(frozen=True)
class Fit:
    """How parts go on a printer: ``turn_deg`` (about X, then Y, then Z; see
    :func:`medprint.build_volume.place`), the space they take (mm), and why they do not fit."""

    fits: bool
    turn_deg: tuple[int, int, int]
    size_mm: tuple[float, float, float]
    reason: str = ""


def fit_parts(sizes_mm: list[tuple[float, float, float]], printer: PrinterProfile) -> Fit:
    """Whether parts of these extents (mm, file axes) fit the build volume together, unscaled:
    the export QA's check (:func:`medprint.build_volume.place`), parts :data:`PART_GAP_MM` apart."""
    placed = build_volume.place(sizes_mm, printer.bed_mm, PART_GAP_MM)
    if placed.fits:
        return Fit(True, placed.turn_deg, placed.size_mm)
    x, y, z = placed.size_mm
    bed = printer.bed_mm
    count = len(np.asarray(sizes_mm).reshape(-1, 3))
    return Fit(False, placed.turn_deg, placed.size_mm, reason=(
        f"the part{'s' if count > 1 else ''} measure{'' if count > 1 else 's'} {x:.0f} × {y:.0f} × {z:.0f} mm"
        f"{' side by side' if count > 1 else ''}, which no orientation fits into {printer.name}'s build volume "
        f"of {bed[0]:.0f} × {bed[1]:.0f} × {bed[2]:.0f} mm"))


def printers_that_fit(sizes_mm: list[tuple[float, float, float]], technology: str = "FFF") -> list[PrinterProfile]:
    """The built-in printers of ``technology`` whose build volume takes the parts, smallest first."""
    fitting = [p for p in PRINTERS.values() if p.technology == technology and fit_parts(sizes_mm, p).fits]
    return sorted(fitting, key=lambda p: float(np.prod(p.bed_mm)))
