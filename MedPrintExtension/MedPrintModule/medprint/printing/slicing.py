"""Slicing behind one protocol (:class:`Slicer`): the PrusaSlicer CLI (Debian ``prusa-slicer``,
headless ``--export-gcode``; the default, also for resin) and CuraEngine (Debian ``cura-engine``,
filament only; :mod:`.curaengine`).

Parts are STL (LPS millimetres, as the case writes them) or 3MF files; they keep their axes (Z up
is superior) when they fit so, else they are turned as the export QA's fit check says
(:func:`medprint.build_volume.place`); the check runs *before* the slicer, because PrusaSlicer
aborts on a part bigger than the bed. The slicer sees the parts under neutral names
(``part-1.stl``) from a private folder, so no case path or label reaches the G-code.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Protocol

import numpy as np

from ..errors import InputError, MedPrintError
from ..progress import Progress, no_progress
from .gcode import Estimates, read_estimates
from .profiles import Fit, MaterialProfile, PrinterProfile, fit_parts, printers_that_fit

#: Environment variable naming the PrusaSlicer executable (default: ``prusa-slicer`` on PATH).
SLICER_ENV = "MEDPRINT_PRUSA_SLICER"
PART_SUFFIXES = (".stl", ".3mf")
#: Room a skirt needs around the parts (its distance and one loop), mm.
SKIRT_ROOM_MM = 4.0


@dataclass(frozen=True)
class SliceSettings:
    """Layer height (mm; None: 0.2 filament, 0.05 resin), infill (%), supports, detail (mm:
    contours are simplified to this resolution before slicing; 0 keeps every triangle edge)."""

    layer_height_mm: Optional[float] = None
    infill_percent: float = 15.0
    supports: bool = False
    detail_mm: float = 0.0

    def slicer_config(self, printer: PrinterProfile) -> dict:
        layer = self.layer_height_mm or (0.2 if printer.technology == "FFF" else 0.05)
        if printer.technology == "SLA":
            return {"layer_height": f"{layer:g}", "initial_layer_height": f"{layer:g}",
                    "supports_enable": str(int(self.supports)), "pad_enable": str(int(self.supports))}
        if not 0.05 <= layer <= 0.75 * printer.nozzle_mm:
            raise InputError(f"A layer height of {layer:g} mm cannot be printed with a "
                             f"{printer.nozzle_mm:g} mm nozzle.", hint=f"use 0.05–{0.75 * printer.nozzle_mm:g} mm")
        if not 0 <= self.infill_percent <= 100:
            raise InputError(f"Infill must be 0–100 %, not {self.infill_percent:g}.")
        return {"layer_height": f"{layer:g}", "first_layer_height": f"{layer:g}",
                "fill_density": f"{self.infill_percent:g}%", "fill_pattern": "grid", "perimeters": "2",
                "top_solid_layers": "4", "bottom_solid_layers": "3", "skirts": "1", "skirt_distance": "3",
                "support_material": str(int(self.supports)),
                "support_material_auto": str(int(self.supports)), "resolution": f"{self.detail_mm:g}"}


@dataclass
class SliceResult:
    """A sliced job: ``output`` (G-code, or ``.sl1`` for resin), the slicer's estimates and set-up."""

    output: Path
    estimates: Estimates
    printer: str
    material: str
    settings: dict
    turn_deg: tuple
    seconds: float
    part_sizes_mm: list = field(default_factory=list)
    slicer: str = ""

    def to_dict(self) -> dict:
        return {"slicer": self.slicer, "printer": self.printer, "material": self.material, "settings": self.settings,
                "turn_deg": list(self.turn_deg), "part_sizes_mm": self.part_sizes_mm,
                "estimates": self.estimates.to_dict(), "slice_seconds": round(self.seconds, 2)}


@dataclass(frozen=True)
class SliceJob:
    """What a slicer program gets: the parts under neutral names in the private folder ``work``
    (already turned as ``fit`` says), the profiles and settings, whether a skirt fits around the
    parts, and the file name to write in ``work``."""

    work: Path
    parts: list[str]
    fit: Fit
    printer: PrinterProfile
    material: MaterialProfile
    settings: SliceSettings
    skirt: bool
    output_name: str
    timeout_s: float


class Slicer(Protocol):
    """A slicer program: ``executable()`` (or an error naming the package to install),
    ``check(printer)`` (refuses what it cannot slice), and ``run(job, progress)``, which writes
    ``job.work / job.output_name`` and returns its estimates and the settings worth recording."""

    name: str

    def executable(self) -> str: ...

    def check(self, printer: PrinterProfile) -> None: ...

    def run(self, job: SliceJob, progress: Progress) -> tuple[Estimates, dict]: ...


def get_slicer(name: str = "prusa") -> Slicer:
    """The slicer called ``name``: ``prusa`` (PrusaSlicer) or ``cura`` (CuraEngine)."""
    if name == "prusa":
        return PrusaSlicer()
    if name == "cura":
        from .curaengine import CuraEngine
        return CuraEngine()
    raise InputError(f"There is no slicer '{name}'.", hint="choose prusa or cura")


def find_program(env: str, default: str, label: str, package: str) -> str:
    """The program named by ``$env`` (else ``default``) on PATH, or an error naming the package."""
    name = os.environ.get(env, default)
    path = shutil.which(name)
    if path is None:
        raise MedPrintError(f"{label} is not installed, so parts cannot be sliced with it.",
                            hint=f"install the Debian package '{package}' (sudo apt-get install {package}) "
                                 f"or set {env} to the {label} program")
    return path


class PrusaSlicer:
    """The PrusaSlicer CLI: one merged object (PrusaSlicer arranges the parts), centred on the bed."""

    name = "PrusaSlicer"

    def executable(self) -> str:
        return find_program(SLICER_ENV, "prusa-slicer", "PrusaSlicer", "prusa-slicer")

    def check(self, printer: PrinterProfile) -> None:
        pass  # filament and resin

    def run(self, job: SliceJob, progress: Progress) -> tuple[Estimates, dict]:
        printer = job.printer
        config = {**printer.slicer_config(), **job.material.slicer, **job.settings.slicer_config(printer)}
        if printer.technology == "FFF" and not job.skirt:
            config["skirts"] = "0"
        (job.work / "config.ini").write_text("".join(f"{k} = {v}\n" for k, v in config.items()))
        bed_x, bed_y, _ = printer.bed_mm
        command = [self.executable(), "--loglevel=1", "--load", "config.ini", "--merge",
                   "--export-gcode" if printer.technology == "FFF" else "--export-sla", "-o", job.output_name,
                   "--center", f"{bed_x / 2:g},{bed_y / 2:g}", *job.parts]
        returncode, text = run_program(self.name, command, job.work, job.timeout_s, progress, _prusa_stage)
        if returncode != 0 or not (job.work / job.output_name).is_file():
            if "could not fit" in text:
                raise InputError(f"PrusaSlicer could not place the parts on {printer.name}'s bed.",
                                 hint="slice fewer parts at a time or use a larger printer", detail=text[-2000:])
            raise MedPrintError(f"PrusaSlicer failed (exit status {returncode}).",
                                hint="check that the parts are closed meshes in millimetres", detail=text[-2000:])
        return read_estimates(job.work / job.output_name), {
            k: config[k] for k in ("layer_height", "fill_density", "support_material", "supports_enable",
                                   "resolution", "skirts") if k in config}


def part_size_mm(path: Path) -> tuple[float, float, float]:
    """Axis-aligned extents (mm, file axes) of an STL or 3MF (all its objects together)."""
    import trimesh

    try:
        loaded = trimesh.load(path, force="scene" if path.suffix.lower() == ".3mf" else None)
    except Exception as exc:  # trimesh raises many types on damaged files
        raise InputError(f"'{path.name}' cannot be read as a mesh.", detail=str(exc)) from exc
    bounds = getattr(loaded, "bounds", None)
    if bounds is None or not np.all(np.isfinite(bounds)):
        raise InputError(f"'{path.name}' holds no triangles.")
    return tuple(round(float(v), 2) for v in bounds[1] - bounds[0])


def slice_parts(parts: list[Path], output: Path, printer: PrinterProfile, material: MaterialProfile,
                settings: SliceSettings = SliceSettings(), progress: Optional[Progress] = None,
                timeout_s: float = 900.0, slicer: str = "prusa") -> SliceResult:
    """Slice ``parts`` (STL/3MF, mm) together for ``printer`` into ``output`` with ``slicer``
    (:func:`get_slicer`); refuses parts that do not fit the build volume unscaled. Returns the
    output path, estimates and the set-up used."""
    progress = progress or no_progress
    parts = [Path(p) for p in parts]
    if not parts:
        raise InputError("There is nothing to slice.")
    for part in parts:
        if part.suffix.lower() not in PART_SUFFIXES or not part.is_file():
            raise InputError(f"'{part.name}' is not an STL or 3MF file.", hint="slice .stl or .3mf parts")
    program = get_slicer(slicer)
    program.check(printer)
    settings.slicer_config(printer)  # refuses impossible settings before anything runs
    program.executable()
    progress(0.0, "measuring parts")
    sizes = [part_size_mm(p) for p in parts]
    fit = fit_parts(sizes, printer)
    if not fit.fits:
        others = [p.name for p in printers_that_fit(sizes, printer.technology)]
        raise InputError(f"The part does not fit {printer.name}: {fit.reason}.",
                         hint=("parts are never scaled; print on " + " or ".join(others)) if others
                         else "parts are never scaled; split the part or use a larger printer")
    room = min(b - n for b, n in zip(printer.bed_mm[:2], fit.size_mm[:2])) / 2  # parts are centred
    suffix = ".gcode" if printer.technology == "FFF" else ".sl1"
    output = Path(output)
    if output.suffix.lower() != suffix:
        raise InputError(f"{printer.name} needs a '{suffix}' output, not '{output.name}'.")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="medprint-slice-") as tmp:
        work = Path(tmp)
        names = []
        for i, part in enumerate(parts, 1):
            if any(fit.turn_deg):  # turned here: PrusaSlicer arranges before it rotates
                name = _turned_copy(part, work / f"part-{i}.stl", fit.turn_deg)
            else:
                name = work / f"part-{i}{part.suffix.lower()}"
                os.symlink(part.resolve(), name)
            names.append(name.name)
        progress(0.05, f"slicing {len(parts)} part{'s' if len(parts) > 1 else ''} for {printer.name} "
                       f"with {program.name}")
        # parts that (nearly) fill the bed get no skirt: it would run off the bed
        job = SliceJob(work, names, fit, printer, material, settings, room >= SKIRT_ROOM_MM, f"job{suffix}", timeout_s)
        estimates, recorded = program.run(job, progress)
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(work / job.output_name, output)
    seconds = time.perf_counter() - start
    result = SliceResult(output, estimates, printer.name, material.name, recorded, fit.turn_deg, seconds,
                         [list(s) for s in sizes], program.name)
    progress(1.0, "sliced")
    return result


def _turned_copy(part: Path, copy: Path, turn_deg: tuple[int, int, int]) -> Path:
    """``part`` rotated about X, then Y, then Z by ``turn_deg`` (degrees), written as binary STL."""
    import trimesh

    mesh = trimesh.load(part, force="mesh")
    for axis, degrees in zip(np.eye(3), turn_deg):
        if degrees:
            mesh.apply_transform(trimesh.transformations.rotation_matrix(np.radians(degrees), axis))
    mesh.export(copy)
    return copy


_PRUSA_STAGE = re.compile(r"^(\d+) => (.+)$")


def _prusa_stage(line: str) -> Optional[tuple[float, str]]:
    """PrusaSlicer's ``NN => stage`` progress lines: (fraction, stage)."""
    match = _PRUSA_STAGE.match(line)
    return (int(match.group(1)) / 100, match.group(2).lower()) if match else None


def run_program(label: str, command: list[str], cwd: Path, timeout_s: float, progress: Progress,
                stage: Callable[[str], Optional[tuple[float, str]]], env: Optional[dict] = None) -> tuple[int, str]:
    """Run a slicer program, relaying the progress ``stage`` reads from its output lines to
    ``progress`` (0.05..0.9); returns the exit status and its output (stdout and stderr).
    Killed after ``timeout_s``."""
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            errors="replace", env=env)
    timed_out = threading.Event()
    watchdog = threading.Timer(timeout_s, lambda: (timed_out.set(), proc.kill()))
    watchdog.start()
    lines, done = [], 0.0
    try:
        for line in proc.stdout:
            lines.append(line)
            if found := stage(line.strip()):  # stages may run in parallel: report the furthest
                done = max(done, found[0])
                progress(0.05 + 0.85 * done, found[1])
        returncode = proc.wait()
    finally:
        watchdog.cancel()
    if timed_out.is_set():
        raise MedPrintError(f"{label} did not finish within {timeout_s:.0f} s.",
                            hint="use a larger layer height or detail, or slice fewer parts")
    return returncode, "".join(lines)
