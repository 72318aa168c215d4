"""CuraEngine (Debian ``cura-engine`` 4.13) as the second slicer, filament printers only.

CuraEngine needs Cura's setting definitions (``fdmprinter.def.json``, ``fdmextruder.def.json``),
which Debian ships in the ``cura`` package: ``$MEDPRINT_CURA_DEFINITIONS`` names their folder, else
``/usr/share/cura/resources/definitions``. CuraEngine uses each setting's default value and
evaluates none of Cura's formulas, so every setting that depends on another is given here. Parts
are placed by MedPrint (side by side along X, centred on the bed, on the plate); CuraEngine's G-code
header holds placeholders (``;TIME:6666``, ``;Filament used: 0m``) that the Cura application
normally fills in: the real figures are read from its log (``-v``) and written into the header.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Optional

from ..errors import InputError, MedPrintError
from ..progress import Progress
from .gcode import Estimates
from .profiles import PART_GAP_MM, PrinterProfile
from .slicing import SliceJob, find_program, run_program

#: Environment variables naming the CuraEngine program and the folder of Cura's definitions.
ENGINE_ENV = "MEDPRINT_CURAENGINE"
DEFINITIONS_ENV = "MEDPRINT_CURA_DEFINITIONS"
DEFAULT_DEFINITIONS = "/usr/share/cura/resources/definitions"
_FLAVOR = {"marlin2": "RepRap (Marlin/Sprinter)", "klipper": "RepRap (Marlin/Sprinter)"}
_PRINT_TIME = re.compile(r"^Print time \(s\): (\d+)", re.M)
_FILAMENT_MM3 = re.compile(r"^Filament \(mm\^3\): (\d+)", re.M)
_PROGRESS = re.compile(r"^Progress:(\w+):(\d+):(\d+)")
_STAGES = ("slice", "layerparts", "inset+skin", "support", "skin", "infill", "export")


def definitions_folder() -> Path:
    """The folder with ``fdmprinter.def.json`` and ``fdmextruder.def.json``, or a clear error."""
    folder = Path(os.environ.get(DEFINITIONS_ENV) or DEFAULT_DEFINITIONS).resolve()
    if not all((folder / f).is_file() for f in ("fdmprinter.def.json", "fdmextruder.def.json")):
        raise MedPrintError(f"CuraEngine needs Cura's printer definitions, which are not in {folder}.",
                            hint="install the Debian package 'cura' (or extract its resources/definitions "
                                 f"folder from the .deb) and set {DEFINITIONS_ENV} to that folder")
    return folder


class CuraEngine:
    """The :class:`~medprint.printing.slicing.Slicer` protocol with ``CuraEngine slice``."""

    name = "CuraEngine"

    def executable(self) -> str:
        path = find_program(ENGINE_ENV, "CuraEngine", "CuraEngine", "cura-engine")
        definitions_folder()
        return path

    def check(self, printer: PrinterProfile) -> None:
        if printer.technology != "FFF":
            raise InputError(f"CuraEngine slices filament printers only, not {printer.name} ({printer.technology}).",
                             hint="slice resin parts with PrusaSlicer (--slicer prusa)")

    def run(self, job: SliceJob, progress: Progress) -> tuple[Estimates, dict]:
        settings, extruder = self.settings(job)
        placed = _place_on_bed(job)
        folder = definitions_folder()
        command = [self.executable(), "slice", "-v", "-p", "-j", str(folder / "fdmprinter.def.json")]
        for key, value in settings.items():
            command += ["-s", f"{key}={value}"]
        command.append("-e0")
        for key, value in extruder.items():
            command += ["-s", f"{key}={value}"]
        for name in placed:
            command += ["-l", name]
        command += ["-o", job.output_name]
        env = {**os.environ, "CURA_ENGINE_SEARCH_PATH": str(folder)}  # where it finds fdmextruder.def.json
        returncode, text = run_program(self.name, command, job.work, job.timeout_s, progress, _stage, env)
        out = job.work / job.output_name
        seconds, volume = _PRINT_TIME.search(text), _FILAMENT_MM3.search(text)
        if returncode != 0 or not out.is_file() or not seconds or not volume:
            errors = [line[8:] for line in text.splitlines() if line.startswith("[ERROR]")]
            raise MedPrintError(f"CuraEngine failed (exit status {returncode}).", detail=text[-2000:],
                                hint=errors[-1] if errors else "check that the parts are closed meshes in millimetres")
        mm3, print_s = float(volume.group(1)), int(seconds.group(1))
        length_mm = mm3 / (math.pi * (float(extruder["material_diameter"]) / 2) ** 2)
        density = float(job.material.slicer.get("filament_density", "1.24"))
        layers = _fill_header(out, print_s, length_mm / 1000)
        estimates = Estimates(print_seconds=float(print_s), filament_mm=round(length_mm, 2),
                              filament_g=round(mm3 / 1000 * density, 2), material_cm3=round(mm3 / 1000, 2),
                              layers=layers)
        return estimates, {k: settings[k] for k in ("layer_height", "infill_sparse_density", "support_enable",
                                                     "adhesion_type")}

    @staticmethod
    def settings(job: SliceJob) -> tuple[dict, dict]:
        """CuraEngine's global and extruder settings for the job (every dependent one explicit)."""
        printer, material, s = job.printer, job.material.slicer, job.settings
        layer = float(job.settings.slicer_config(printer)["layer_height"])
        width = printer.nozzle_mm
        x, y, z = printer.bed_mm
        infill = s.infill_percent
        end = "\n".join(("M104 S0", "M140 S0", "M107", "G28 X0", "M84"))
        settings = {
            "machine_width": f"{x:g}", "machine_depth": f"{y:g}", "machine_height": f"{z:g}",
            "machine_center_is_zero": "false", "center_object": "false", "machine_heated_bed": "true",
            "machine_gcode_flavor": _FLAVOR.get(printer.gcode_flavor, "RepRap (Marlin/Sprinter)"),
            "machine_nozzle_size": f"{width:g}", "machine_start_gcode": "G28\nG92 E0", "machine_end_gcode": end,
            "layer_height": f"{layer:g}", "layer_height_0": f"{layer:g}",
            "wall_line_count": "2", "top_layers": "4", "bottom_layers": "3", "initial_bottom_layers": "3",
            "infill_pattern": "grid", "infill_sparse_density": f"{infill:g}",
            # grid: two crossing line sets, so the line distance is twice the width over the density
            "infill_line_distance": f"{width * 100 / infill * 2:g}" if infill > 0 else "0",
            "support_enable": str(s.supports).lower(),
            "adhesion_type": "skirt" if job.skirt else "none", "skirt_line_count": "1", "skirt_gap": "3",
            "material_print_temperature": material["temperature"],
            "material_print_temperature_layer_0": material["first_layer_temperature"],
            "material_initial_print_temperature": material["temperature"],
            "material_final_print_temperature": material["temperature"],
            "material_bed_temperature": material["bed_temperature"],
            "material_bed_temperature_layer_0": material["first_layer_bed_temperature"],
            "retraction_amount": "0.8", "relative_extrusion": "false",
        }
        if s.detail_mm:
            settings["meshfix_maximum_resolution"] = f"{s.detail_mm:g}"
        extruder = {"material_diameter": material.get("filament_diameter", "1.75"), "machine_nozzle_size": f"{width:g}"}
        return settings, extruder


def _place_on_bed(job: SliceJob) -> list[str]:
    """The parts side by side along X, :data:`PART_GAP_MM` apart, the group centred on the bed and
    standing on it; written as ``placed-N.stl`` in the job's folder. CuraEngine takes mesh
    coordinates as centred on the bed (it adds half the bed when ``machine_center_is_zero`` is off)."""
    import trimesh

    meshes = [trimesh.load(job.work / name, force="mesh") for name in job.parts]
    widths = [m.extents[0] for m in meshes]
    total = sum(widths) + PART_GAP_MM * (len(meshes) - 1)
    x = -total / 2
    names = []
    for i, (mesh, width) in enumerate(zip(meshes, widths), 1):
        lo, hi = mesh.bounds
        mesh.apply_translation([x - lo[0], -(lo[1] + hi[1]) / 2, -lo[2]])
        mesh.export(job.work / f"placed-{i}.stl")
        names.append(f"placed-{i}.stl")
        x += width + PART_GAP_MM
    return names


def _stage(line: str) -> Optional[tuple[float, str]]:
    """CuraEngine's ``Progress:<stage>:<done>:<of>`` lines: (fraction, stage)."""
    match = _PROGRESS.match(line)
    if not match or match.group(1) not in _STAGES:
        return None
    index = _STAGES.index(match.group(1))
    return (index + int(match.group(2)) / max(1, int(match.group(3)))) / len(_STAGES), match.group(1)


def _fill_header(path: Path, print_seconds: int, filament_m: float) -> int:
    """Replace CuraEngine's placeholder ``;TIME`` and ``;Filament used`` header lines with the real
    figures (as the Cura application does); returns the number of layers (``;LAYER:`` lines)."""
    text = path.read_text()
    head, sep, rest = text.partition(";Generated with")
    head = re.sub(r"^;TIME:\d+$", f";TIME:{print_seconds}", head, count=1, flags=re.M)
    head = re.sub(r"^;Filament used: [\d.]+m$", f";Filament used: {filament_m:.5f}m", head, count=1, flags=re.M)
    path.write_text(head + sep + rest)
    return sum(1 for line in rest.splitlines() if line.startswith(";LAYER:"))

