"""A print job end to end: slice the parts (unless given G-code), upload, start, follow."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from ..errors import InputError
from ..progress import Progress, no_progress, sub_progress
from .config import PrinterConfig, connect
from .gcode import read_estimates
from .printer import PrinterStatus, follow
from .profiles import MaterialProfile, PrinterProfile
from .slicing import PART_SUFFIXES, SliceResult, SliceSettings, slice_parts

SLICED_SUFFIXES = (".gcode", ".sl1")
#: How long a printer may take to start a job it was sent (s), and one that slices a 3MF itself.
START_S = 30.0
REMOTE_SLICING_S = 600.0


def start_within_s(remote_name: str) -> float:
    """How long the printer may take to start printing ``remote_name`` (s): a model (3MF/STL) that
    the printer slices itself may take minutes."""
    return REMOTE_SLICING_S if Path(remote_name).suffix.lower() in PART_SUFFIXES else START_S


def prepare(inputs: list[Path], output: Path, printer: PrinterProfile, material: MaterialProfile,
            settings: SliceSettings = SliceSettings(), progress: Optional[Progress] = None,
            slicer: str = "prusa") -> SliceResult:
    """Slice ``inputs`` (STL/3MF parts, mm) into ``output`` with ``slicer`` (``prusa`` or ``cura``);
    a single already-sliced file (``.gcode``/``.sl1``) is used as it is, with its own estimates."""
    inputs = [Path(p) for p in inputs]
    if len(inputs) == 1 and inputs[0].suffix.lower() in SLICED_SUFFIXES:
        if not inputs[0].is_file():
            raise InputError(f"'{inputs[0].name}' does not exist.")
        (progress or no_progress)(1.0, "already sliced")
        return SliceResult(inputs[0], read_estimates(inputs[0]), printer.name, material.name, {}, (0, 0, 0), 0.0)
    if any(p.suffix.lower() not in PART_SUFFIXES for p in inputs):
        raise InputError("Give STL/3MF parts to slice, or one sliced .gcode/.sl1 file.")
    return slice_parts(inputs, output, printer, material, settings, progress, slicer=slicer)


def send(config: PrinterConfig, file: Path, remote_name: str, follow_job: bool = True,
         progress: Optional[Progress] = None, timeout_s: float = 10.0, poll_s: float = 1.0) -> PrinterStatus:
    """Upload ``file`` as ``remote_name`` to the printer of ``config`` and start it; with
    ``follow_job`` wait for the job's end (progress in the callback), else return the first status.
    A model (3MF/STL) goes to a printer that slices it itself, which may take minutes to start."""
    progress = progress or no_progress
    printer = connect(config, timeout_s)
    try:
        progress(0.0, f"uploading to {config.name}")
        printer.upload(Path(file), remote_name, start=True)
        if not follow_job:
            return printer.status()
        return follow(printer, sub_progress(progress, 0.05, 1.0), poll_s=poll_s,
                      started_within_s=start_within_s(remote_name))
    finally:
        printer.close()
