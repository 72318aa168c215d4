"""The workflow's export step: QA (and repair where it helps) every part of a case, then write the
print files, the QA report and the case bundle into ``<case>/export/``.

Layout written (names from the case label and part, never patient data)::

    export/<label>.3mf                 all parts, named and coloured, millimetres (LPS)
    export/<part>.stl                  each part as printed (binary, SPACE=LPS)
    export/<part>.dcm                  each part as DICOM Encapsulated STL (when the source was DICOM)
    export/<label>-qa.html, -qa.json   the QA report; export/<part>-qa.png its pictures
    export/<label>-bundle.zip          all of the above + case.json, manifest.json, SHA256SUMS
"""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

from .build_volume import DEFAULT_PRINTER, printer_profile
from .bundle import write_bundle
from .dicom_stl import write_encapsulated_stl
from .errors import InputError
from .export import COLORS, Part, write_parts
from .mesh import read_stl, write_stl
from .progress import Progress, no_progress, sub_progress
from .qa import QASettings, check_mesh
from .repair import RepairRefused, RepairSettings, repair_mesh
from .report import write_report
from .workflow import Case, save_case


#: The printer the QA checks a case with a guide plan for, by the plan's printing technology.
TECHNOLOGY_PRINTERS = {"resin": "form-3", "fdm": "prusa-mk4"}


@dataclass(frozen=True)
class ExportSettings:
    """Printer profile (name, optional build size mm and minimum wall mm; no name: the case's
    printer, see :func:`case_printer`), repair limit (mm), DICOM."""

    printer: Optional[str] = None
    build_mm: Optional[tuple[float, float, float]] = None
    min_wall_mm: Optional[float] = None
    repair: bool = True
    tolerance_mm: float = 0.1
    dicom: bool = True


def case_parts(case: Case) -> list[tuple[str, Path, tuple[int, int, int]]]:
    """(part name, STL path, colour) of each part a case has: its model and, if designed, its guide."""
    parts = []
    for step, kind in (("model", "bone"), ("guide", "guide")):
        file = case.results.get(step, {}).get("file")
        if file:
            parts.append((Path(file).stem, case.path(file), COLORS[kind]))
    if not parts:
        raise InputError(f"The case '{case.label}' has no model to export yet.", hint="run the model step first")
    return parts


def plan_technology(case: Case) -> Optional[str]:
    """The printing technology ("resin" or "fdm") of the guide plan the case's guide step used, or None."""
    from .guide.plan import load_plan

    plan = case.results.get("guide", {}).get("plan")
    if not plan or not case.path(plan).is_file():
        return None
    return load_plan(case.path(plan)).technology


def case_printer(case: Case) -> str:
    """The printer profile a case is checked for: one of its guide plan's printing technology
    (:data:`TECHNOLOGY_PRINTERS`) when the guide step used a plan, else :data:`DEFAULT_PRINTER`."""
    technology = plan_technology(case)
    return TECHNOLOGY_PRINTERS[technology] if technology else DEFAULT_PRINTER


def export_case(case: Case, settings: ExportSettings = ExportSettings(),
                progress: Optional[Progress] = None) -> dict:
    """Run the export step on ``case``; records and returns ``case.results["export"]``."""
    progress = progress or no_progress
    seconds: dict[str, float] = {}

    @contextmanager
    def stage(name: str):
        begin = time.perf_counter()
        yield
        seconds[name] = round(seconds.get(name, 0.0) + time.perf_counter() - begin, 3)

    printer_name = settings.printer or case_printer(case)
    printer = printer_profile(printer_name, settings.build_mm, settings.min_wall_mm)
    qa_settings = QASettings(printer=printer)
    out = case.path("export")
    out.mkdir(parents=True, exist_ok=True)
    parts, reports, written, summary = [], [], [], {}
    sources = case_parts(case)
    for n, (name, path, color) in enumerate(sources):
        report_progress = sub_progress(progress, 0.6 * n / len(sources), 0.6 * (n + 1) / len(sources))
        report_progress(0.0, f"checking {name}")
        with stage("qa"):
            mesh = read_stl(path)
            report = check_mesh(mesh, qa_settings)
        repaired, refused = None, ""
        if settings.repair and report.repairable:
            report_progress(0.5, f"repairing {name}")
            try:
                with stage("repair"):
                    result = repair_mesh(mesh, RepairSettings(tiny_shell_mm3=qa_settings.tiny_shell_mm3,
                                                              max_hole_mm=qa_settings.max_hole_mm,
                                                              tolerance_mm=settings.tolerance_mm), checked=report)
                with stage("qa"):
                    mesh, repaired = result.mesh, result.summary()
                    report = check_mesh(mesh, qa_settings)
            except RepairRefused as err:
                refused = str(err)
        parts.append(Part(name, mesh, color))
        reports.append((name, report, repaired))
        with stage("stl and dicom"):
            written.append(write_stl(mesh, out / f"{name}.stl", space="LPS"))
            if settings.dicom and case.source.get("study_instance_uid") and case.source.get("frame_of_reference_uid"):
                written.append(write_encapsulated_stl(mesh, out / f"{name}.dcm", case.source, title=name))
        summary[name] = {"verdict": report.verdict, "reasons": report.reasons, "repair": repaired,
                         "repair_refused": refused, "qa": report.to_dict()}
    progress(0.65, "writing 3MF")
    with stage("3mf"):
        written.insert(0, write_parts(parts, out / f"{case.label}.3mf", space="LPS"))
    with stage("report"):
        (out / f"{case.label}-qa.json").write_text(json.dumps(summary, indent=2))
        html = write_report(reports, out, case.label, sub_progress(progress, 0.7, 0.9))
    written += [out / f"{case.label}-qa.json", html] + [out / f"{name}-qa.png" for name, _, _ in reports]
    progress(0.9, "writing the case bundle")
    settings_record = {**asdict(settings), "printer": printer_name, "printer_profile": printer.to_dict()}
    save_case(case)
    with stage("bundle"):
        bundle = write_bundle(case.folder, written + [case.path("case.json")], out / f"{case.label}-bundle.zip", {
            "case": case.label, "settings": settings_record, "coordinates": "LPS", "units": "mm",
            "parts": {name: {"verdict": s["verdict"], "triangles": s["qa"]["triangles"],
                             "volume_mm3": s["qa"]["volume_mm3"]} for name, s in summary.items()},
            "source": {k: case.source.get(k, "") for k in ("modality", "series_instance_uid",
                                                             "study_instance_uid", "frame_of_reference_uid")}})
    record = {"settings": settings_record, "files": [str(p.relative_to(case.folder)) for p in written + [bundle]],
              "parts": {name: {k: v for k, v in s.items() if k != "qa"} for name, s in summary.items()},
              "seconds": seconds}
    case.results["export"] = record
    case.steps["export"] = "done"
    save_case(case)
    progress(1.0, "export written")
    return record


def run_export_step(case: Case, progress: Progress) -> str:
    """The workflow runner (see ``workflow.STEP_RUNNERS``): default settings (the case's printer); a
    one-line summary."""
    record = export_case(case, ExportSettings(), progress)
    verdicts = ", ".join(f"{name}: {p['verdict']}" for name, p in record["parts"].items())
    return f"{verdicts}; 3MF, QA report and bundle in export/"
