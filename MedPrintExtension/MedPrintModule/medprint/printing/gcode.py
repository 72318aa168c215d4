"""G-code: the estimates a slicer writes into its comments, and the commands a printer is sent.

PrusaSlicer writes ``; estimated printing time (normal mode) = 1d 2h 3m 4s`` and
``; filament used [g] = 3.69`` (also ``[mm]``, ``[cm3]``); CuraEngine writes ``;TIME:1234`` and
``;Filament used: 1.2m``. SLA archives (``.sl1``) carry ``printTime`` (s) and ``usedMaterial`` (ml)
in their ``config.ini``.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator, Optional

from ..errors import InputError

_DURATION = re.compile(r"(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?")
_PRUSA_TIME = re.compile(r"^; estimated printing time \(normal mode\) = (.+)$", re.M)
_PRUSA_FILAMENT = re.compile(r"^; filament used \[(mm|g|cm3)\] = ([\d.]+)", re.M)
_CURA_TIME = re.compile(r"^;TIME:(\d+)", re.M)
_CURA_FILAMENT = re.compile(r"^;Filament used: ([\d.]+)m", re.M)
_CURA_LAYERS = re.compile(r"^;LAYER_COUNT:(\d+)", re.M)
#: The tail of a PrusaSlicer file holding the estimates (they follow the last move).
_TAIL_BYTES = 64 * 1024


@dataclass(frozen=True)
class Estimates:
    """What the slicer expects: print time (s), filament (mm, g, cm³) or resin (ml), layers."""

    print_seconds: Optional[float] = None
    filament_mm: Optional[float] = None
    filament_g: Optional[float] = None
    material_cm3: Optional[float] = None
    layers: Optional[int] = None

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


def parse_duration(text: str) -> float:
    """``"1d 3h 19m 7s"`` -> seconds."""
    match = _DURATION.fullmatch(text.strip())
    if not match or not any(match.groups()):
        raise ValueError(f"not a slicer duration: {text!r}")
    d, h, m, s = (int(g or 0) for g in match.groups())
    return float(((d * 24 + h) * 60 + m) * 60 + s)


def format_duration(seconds: float) -> str:
    """Seconds -> ``"1d 3h 19m"`` style text (minutes resolution, seconds below a minute)."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    days, rest = divmod(seconds // 60, 24 * 60)
    hours, minutes = divmod(rest, 60)
    return " ".join(f"{v}{u}" for v, u in ((days, "d"), (hours, "h"), (minutes, "m")) if v or u == "m")


def read_estimates(path: str | Path) -> Estimates:
    """The estimates in a sliced file: PrusaSlicer or CuraEngine G-code, or a PrusaSlicer ``.sl1``."""
    path = Path(path)
    if path.suffix.lower() == ".sl1":
        return _sl1_estimates(path)
    with open(path, "rb") as f:
        head = f.read(_TAIL_BYTES).decode("utf-8", "replace")
        f.seek(0, 2)
        size = f.tell()
        f.seek(max(0, size - _TAIL_BYTES))
        tail = f.read().decode("utf-8", "replace")
    if m := _PRUSA_TIME.search(tail):
        filament = {unit: float(v) for unit, v in _PRUSA_FILAMENT.findall(tail)}
        return Estimates(print_seconds=parse_duration(m.group(1)), filament_mm=filament.get("mm"),
                         filament_g=filament.get("g"), material_cm3=filament.get("cm3"),
                         layers=_count_layers(path))
    if m := _CURA_TIME.search(head):
        filament = _CURA_FILAMENT.search(head)
        layers = _CURA_LAYERS.search(head)
        return Estimates(print_seconds=float(m.group(1)),
                         filament_mm=float(filament.group(1)) * 1000 if filament else None,
                         layers=int(layers.group(1)) if layers else None)
    return Estimates()


def _count_layers(path: Path) -> int:
    count = 0
    with open(path, "rb") as f:
        for line in f:
            if line.startswith(b";LAYER_CHANGE"):
                count += 1
    return count


def _sl1_estimates(path: Path) -> Estimates:
    try:
        with zipfile.ZipFile(path) as archive:
            text = archive.read("config.ini").decode()
    except (zipfile.BadZipFile, KeyError) as exc:
        raise InputError(f"'{path.name}' is not a PrusaSlicer SLA archive.", detail=str(exc)) from exc
    config = dict(line.split(" = ", 1) for line in text.splitlines() if " = " in line)
    return Estimates(print_seconds=float(config.get("printTime", "nan")),
                     material_cm3=float(config.get("usedMaterial", "nan")),
                     layers=int(config.get("numFast", 0)) + int(config.get("numSlow", 0)))


def commands(path: str | Path) -> Iterator[str]:
    """The commands of a G-code file in order: comments and blank lines dropped, spaces trimmed."""
    with open(path, "r", encoding="ascii", errors="replace") as f:
        for line in f:
            command = line.split(";", 1)[0].strip()
            if command:
                yield command
