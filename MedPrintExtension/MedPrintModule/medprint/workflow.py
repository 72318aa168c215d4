"""The guided workflow as a state machine over a case folder.

A case folder holds ``case.json`` (the label the user chose, step states, settings, non-identifying
facts about the source series and the figures of each step) and the files each step writes. File
names come from the case label, never from patient data. Steps run in order; a step whose core has
not landed yet is listed as unavailable with the reason.

Layout::

    <case>/case.json
    <case>/models/<label>-<preset>.stl      LPS millimetres, Slicer's SPACE=LPS header
"""

from __future__ import annotations

import importlib
import json
import os
import re
import tempfile
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Optional

from . import __version__
from .errors import InputError
from .mesh import Mesh, write_stl
from .pipeline import ModelResult, ModelSettings, make_model
from .progress import Progress, no_progress, sub_progress
from .volume import Volume, load_volume

#: The workflow's steps in order, and why a step cannot run yet.
STEPS = ("segment", "model", "guide", "export", "print", "register")
UNAVAILABLE = {
}
#: The steps after the model, in order: step -> "module:function". Each function takes
#: ``(case, progress)``, runs the step on the case folder (reading what earlier steps wrote), records
#: its figures in ``case.results[step]``, sets ``case.steps[step]`` ("done" or "skipped"), saves the
#: case and returns a one-line summary. Imported lazily, so heavy dependencies load only when used.
STEP_RUNNERS: dict[str, str] = {
    "guide": "medprint.guide.step:run_guide_step",
    "export": "medprint.export_step:run_export_step",
    "print": "medprint.printing.step:run_print_step",
    "register": "medprint.registry.step:run_register",
}
#: The built-in demo CT: a de-identified crop of a public CT (CC BY 4.0; see data/demo_ct.md).
DEMO_CT = Path(__file__).resolve().parent / "data" / "demo_ct"
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass
class Case:
    """A case folder's state (what ``case.json`` holds)."""

    folder: Path
    label: str
    steps: dict = field(default_factory=lambda: {s: ("unavailable" if s in UNAVAILABLE else "pending")
                                                 for s in STEPS})
    source: dict = field(default_factory=dict)
    results: dict = field(default_factory=dict)
    software: str = f"MedPrint {__version__}"

    def path(self, *parts: str) -> Path:
        return self.folder.joinpath(*parts)

    def to_json(self) -> dict:
        data = asdict(self)
        data.pop("folder")
        data["unavailable"] = {s: UNAVAILABLE[s] for s in STEPS if self.steps[s] == "unavailable"}
        return data


def check_label(label: str) -> str:
    """A case label is chosen by the user, safe as a file name, and is not patient data."""
    if not _LABEL.match(label or ""):
        raise InputError(f"'{label}' cannot be a case label.",
                         hint="use 1–64 letters, digits, '-', '_' or '.', starting with a letter or digit; "
                              "never a patient name or ID")
    return label


def create_case(folder: str | Path, label: str) -> Case:
    """A new case folder (it may exist if empty or already a case of the same label)."""
    folder = Path(folder)
    case = Case(folder=folder, label=check_label(label))
    if (folder / "case.json").exists():
        existing = open_case(folder)
        if existing.label != label:
            raise InputError(f"'{folder.name}' already holds the case '{existing.label}'.",
                             hint="choose another folder or the same label")
        return existing
    folder.mkdir(parents=True, exist_ok=True)
    save_case(case)
    return case


def open_case(folder: str | Path) -> Case:
    folder = Path(folder)
    try:
        data = json.loads((folder / "case.json").read_text())
    except FileNotFoundError:
        raise InputError(f"'{folder.name}' is not a MedPrint case folder (no case.json).") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"The case file in '{folder.name}' is damaged.", detail=str(exc)) from exc
    known = {f.name for f in fields(Case)} - {"folder"}
    if not isinstance(data, dict) or "label" not in data:
        raise InputError(f"The case file in '{folder.name}' is not a MedPrint case.")
    return Case(folder=folder, **{k: v for k, v in data.items() if k in known})


def save_case(case: Case) -> None:
    """Write ``case.json`` atomically (temp file + rename), so a crash never leaves half a file."""
    case.folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=case.folder, prefix=".case.", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(case.to_json(), f, indent=2)
    os.replace(tmp, case.folder / "case.json")


def is_demo_case(case: Case) -> bool:
    """Whether the case was modelled from the built-in demo CT (by its series UID)."""
    import pydicom

    first = next(iter(sorted(DEMO_CT.glob("*.dcm"))), None)
    if first is None:
        return False
    uid = str(pydicom.dcmread(first, stop_before_pixels=True).SeriesInstanceUID)
    return case.source.get("series_instance_uid") == uid


def source_facts(volume: Volume) -> dict:
    """What the case records of its source: UIDs, modality, geometry and warnings, no patient data."""
    return {
        **asdict(volume.source),
        "shape_kji": list(volume.shape),
        "spacing_ijk_mm": [round(float(s), 4) for s in volume.spacing],
        "warnings": list(volume.warnings),
    }


def run_model_step(case: Case, volume: Volume, settings: ModelSettings = ModelSettings(),
                   progress: Optional[Progress] = None, load_seconds: Optional[float] = None
                   ) -> tuple[ModelResult, Path]:
    """Segment and model ``volume`` into the case; returns the result and the STL written (LPS).
    ``load_seconds``, when the caller read the volume, joins the step's timings."""
    result = make_model(volume, settings, sub_progress(progress, 0.0, 0.9))
    if load_seconds is not None:
        result.stats["seconds"] = {"load": load_seconds, **result.stats["seconds"]}
    return result, record_model_step(case, volume, result.mesh, settings, result.stats, progress)


def record_model_step(case: Case, volume: Volume, mesh: Mesh, settings: ModelSettings, stats: dict,
                      progress: Optional[Progress] = None) -> Path:
    """Record ``mesh`` (LPS mm), the model of ``volume`` made with ``settings``, as the case's Model step:
    ``models/<label>-<preset>.stl`` and ``stats`` (the model's figures; the write time is added to
    ``stats["seconds"]``) in ``case.json``, with the source's non-identifying facts. Whoever made the
    mesh (``make_model``, or Slicer from a segment the user edited) records it here."""
    start = time.perf_counter()
    stl = write_stl(mesh, case.path("models", f"{case.label}-{settings.preset}.stl"), space="LPS")
    stats.setdefault("seconds", {})["write"] = time.perf_counter() - start
    case.source = source_facts(volume)
    case.steps.update(segment="done", model="done")
    case.results["model"] = {"settings": settings.to_dict(), "file": str(stl.relative_to(case.folder)),
                             "coordinates": "LPS", "units": "mm", **stats}
    save_case(case)
    if progress:
        progress(1.0, "model written")
    return stl


def run_case(case: Case, input_path: str | Path, settings: ModelSettings = ModelSettings(),
             series_uid: str = "", progress: Optional[Progress] = None) -> tuple[ModelResult, Path]:
    """Segment and model ``input_path`` (DICOM folder, NRRD or NIfTI) into the case."""
    start = time.perf_counter()
    volume = load_volume(input_path, series_uid=series_uid, progress=sub_progress(progress, 0.0, 0.3))
    return run_model_step(case, volume, settings, sub_progress(progress, 0.3, 1.0),
                          load_seconds=time.perf_counter() - start)


def run_later_step(case: Case, step: str, progress: Optional[Progress] = None) -> str:
    """Run one of :data:`STEP_RUNNERS` on the case; returns its one-line summary."""
    module, function = STEP_RUNNERS[step].split(":")
    return getattr(importlib.import_module(module), function)(case, progress or no_progress)
