"""The workflow's "print" step: slice the case's parts and send them to a configured printer.

Parts are the export step's checked and repaired STLs when that step is done, else the bone model
(``models/<label>-bone.stl``, LPS mm) and, when the guide step is done, the guide's STL. The job
goes to the printer named by the caller, else to the first configured OctoPrint printer that
answers (uploaded and started, not followed: ``medprint print`` and the Slicer panel follow jobs);
when that printer cannot take it, the step stops after slicing and records why. A printer that
slices itself (OctoPrint with a slicer plugin) gets the export step's 3MF instead of G-code. The
built-in demo slices the guide and the bone under it (:mod:`.fit_piece`), not the whole slab.
Parts are never scaled: the printer's profile must take them, and without a printer the smallest
built-in profile that does is used, of the guide plan's technology when a guide was planned (resin:
the SL1S), else a filament printer. A rerun with the same parts, printer and settings keeps the
G-code already sliced.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .. import __version__
from ..errors import InputError, MedPrintError
from ..progress import Progress, sub_progress
from .config import connect, get_printer, load_printers
from .fit_piece import MARGIN_MM as FIT_MARGIN_MM
from .fit_piece import cut_fit_piece
from .gcode import Estimates, format_duration
from .job import prepare, send
from .printer import ERROR, OFFLINE, PAUSED, PRINTING, PrinterError
from .profiles import default_material, fit_parts, material_profile, printer_profile, printers_that_fit
from .slicing import SliceSettings, part_size_mm

#: The step's slicing settings: draft quality (0.3 mm layers, contours simplified to 0.2 mm).
STEP_SETTINGS = SliceSettings(layer_height_mm=0.3, infill_percent=15, detail_mm=0.2)
#: The slicing profiles' technology for a guide plan's printing technology.
SLICING_TECHNOLOGY = {"resin": "SLA", "fdm": "FFF"}
#: How long a configured printer may take to answer before the step moves on (s).
REACH_TIMEOUT_S = 3.0


def case_parts(case) -> list[Path]:
    """The files to print (STL, LPS mm): the export step's checked and repaired parts when it is
    done, else the model STL and, when the guide step is done, the guide's STL."""
    if case.steps.get("export") == "done":
        exported = [case.path(f) for f in case.results.get("export", {}).get("files", [])
                    if f.startswith("export/") and f.lower().endswith(".stl") and case.path(f).is_file()]
        if exported:
            return exported
    model = case.results.get("model", {}).get("file")
    if not model or not case.path(model).is_file():
        raise InputError("The case has no model to print.", hint="run the model step first")
    parts = [case.path(model)]
    guide = case.results.get("guide", {}).get("file") if case.steps.get("guide") == "done" else None
    if guide and case.path(guide).suffix.lower() == ".stl" and case.path(guide).is_file():
        parts.append(case.path(guide))
    return parts


def _not_ready(config) -> str:
    """Why the printer of ``config`` cannot take a job now ("" when it can), asked within
    :data:`REACH_TIMEOUT_S`."""
    if config.kind == "serial":
        return (f"{config.name} is a USB serial printer, which prints only while MedPrint streams the job "
                f"to it: print with 'medprint print <case> --printer {config.name}'")
    client = connect(config, REACH_TIMEOUT_S)
    try:
        status = client.status()
    except PrinterError as err:
        return str(err)
    finally:
        client.close()
    if status.state in (PRINTING, PAUSED):
        return f"{config.name} is busy ({status.state} {status.job})".replace(" )", ")")
    if status.state in (OFFLINE, ERROR):
        return f"{config.name} is {status.state}" + (f": {status.message}" if status.message else "")
    return ""


def _reachable_octoprint():
    """The first configured OctoPrint printer that can take a job, or None and why none can."""
    reasons = []
    for config in load_printers().values():
        if config.kind == "octoprint":
            reason = _not_ready(config)
            if not reason:
                return config, ""
            reasons.append(reason)
    return None, "; ".join(reasons) or "no OctoPrint printer is configured (medprint printers add)"


def run_print_step(case, progress: Progress, printer: str | None = None, send_job: bool = True) -> str:
    """Runner of the "print" step (see :data:`medprint.workflow.STEP_RUNNERS`).

    ``printer`` names a configured printer (:func:`~medprint.printing.config.printer_choices`): the
    parts are sliced for its profile and sent to it when it answers, else the step records why not.
    An unknown name is an :class:`InputError` listing the configured printers. None: the first
    configured OctoPrint printer that answers, else the smallest built-in profile that fits.
    ``send_job`` False slices only: no printer is asked or sent anything (with ``printer`` None, the
    smallest built-in profile that fits).
    """
    from ..workflow import is_demo_case, save_case

    if not send_job:
        config = get_printer(printer) if printer is not None else None
        not_sent = "slice only was chosen"
    elif printer is None:
        config, not_sent = _reachable_octoprint()
    else:
        config = get_printer(printer)
        not_sent = _not_ready(config)
    parts, demo_note = case_parts(case), ""
    if not (config and config.takes_3mf) and is_demo_case(case):
        parts, demo_note = _demo_parts(case, parts)
    sizes = [part_size_mm(p) for p in parts]
    profile = printer_profile(config.profile) if config else None
    if profile is None:
        fitting = _built_in_printers(case, sizes)
        if not fitting:
            return _skip(case, f"the parts ({', '.join('×'.join(f'{v:.0f}' for v in s) for s in sizes)} mm) "
                               "fit no built-in printer; they are never scaled")
        profile = fitting[0]
    elif not fit_parts(sizes, profile).fits:
        others = ", ".join(p.name for p in printers_that_fit(sizes)) or "none"
        return _skip(case, f"the parts do not fit {config.name} ({fit_parts(sizes, profile).reason}); "
                           f"printers that take them: {others}")
    record = {"printer_profile": profile.name, "printer_make": profile.make, "printer_model": profile.model,
              "technology": profile.technology, "parts": [str(p.relative_to(case.folder)) for p in parts]}
    if config is not None and config.takes_3mf:  # the printer slices the export step's 3MF itself
        out = export_3mf(case)
        if out is None:
            return _skip(case, f"{config.name} slices 3MF itself: run the export step first (it writes the 3MF)")
        remote = f"{case.label}.3mf"
        result = {**record, "file": str(out.relative_to(case.folder)), "part_sizes_mm": [list(s) for s in sizes],
                  "sliced_by": f"{config.name} (OctoPrint slicer '{config.remote_slicer}')", "print_minutes": None}
        summary = f"{out.name} for {config.name}, which slices it itself"
    else:
        material = material_profile(default_material(profile), profile)
        out = case.path("print", f"{case.label}-{profile.name}{profile.sliced_suffix}")
        fingerprint = _fingerprint(parts, profile, material)
        previous = case.results.get("print", {})
        if previous.get("fingerprint") == fingerprint and case.path(previous.get("file", "")) == out and out.is_file():
            # the same parts for the same printer and settings: the G-code already sliced is kept
            result = {k: v for k, v in previous.items() if k not in ("sent", "not_sent", "export_not_printable")}
            est = Estimates(**result["estimates"])
            progress(0.9, "kept the G-code sliced before (same parts, printer and settings)")
        else:
            sliced = prepare(parts, out, profile, material, STEP_SETTINGS, sub_progress(progress, 0.0, 0.9))
            est = sliced.estimates
            result = {**sliced.to_dict(), **record, "file": str(out.relative_to(case.folder)),
                      "print_minutes": round(est.print_seconds / 60, 1) if est.print_seconds else None,
                      "fingerprint": fingerprint}
        amount = f"{est.filament_g:.0f} g" if est.filament_g is not None else f"{est.material_cm3 or 0:.0f} ml"
        summary = f"sliced for {profile.name}: {format_duration(est.print_seconds or 0)}, {amount} {material.name}"
        remote = f"{case.label}{profile.sliced_suffix}"
    if demo_note:
        result["demo"] = demo_note
        summary += f" ({demo_note})"
    doubtful = [name for name, part in case.results.get("export", {}).get("parts", {}).items()
                if case.steps.get("export") == "done" and part.get("verdict") == "not printable"]
    if doubtful:  # the slicer is not the judge of thin walls: the export step's QA report is
        result["export_not_printable"] = doubtful
        summary += f"; the export QA found {', '.join(doubtful)} not printable (see its report)"
    if config is not None and not not_sent:
        try:
            status = send(config, out, remote, follow_job=False, progress=sub_progress(progress, 0.9, 1.0),
                          timeout_s=30.0)
            result["sent"] = {"printer": config.name, "kind": config.kind, "remote_name": remote, "state": status.state}
            summary += (f"; sent to {config.name} ({status.message})" if config.takes_3mf
                        else f"; printing on {config.name} ({status.state})")
        except MedPrintError as err:
            not_sent = str(err)
    if "sent" not in result:
        result["not_sent"] = not_sent
        summary += f"; not sent: {not_sent}"
    case.results["print"] = result
    case.steps["print"] = "done"
    save_case(case)
    progress(1.0, summary)
    return summary


def _built_in_printers(case, sizes) -> list:
    """Built-in profiles that take parts of ``sizes`` (mm), smallest first: of the guide plan's printing
    technology (its clearances were chosen for it) when one takes them, else filament printers."""
    from ..export_step import plan_technology

    technology = SLICING_TECHNOLOGY.get(plan_technology(case), "FFF")
    return printers_that_fit(sizes, technology) or printers_that_fit(sizes)


def _demo_parts(case, parts: list[Path]) -> tuple[list[Path], str]:
    """For the built-in demo: the guide and the bone under it (:mod:`.fit_piece`) instead of the whole
    lumbar slab, which takes most of a minute to slice; and a note saying so. Other parts as given."""
    model = Path(case.results.get("model", {}).get("file", "")).stem
    guide = Path(case.results.get("guide", {}).get("file", "")).stem if case.steps.get("guide") == "done" else ""
    bone = next((p for p in parts if p.stem == model), None)
    guide_part = next((p for p in parts if guide and p.stem == guide), None)
    if bone is None or guide_part is None:
        return parts, ""
    try:
        piece = cut_fit_piece(bone, guide_part, case.path("print", f"{case.label}-bone-under-guide.stl"))
    except (MedPrintError, ImportError):  # an open bone model, or manifold3d missing: every part is sliced
        return parts, ""
    return [piece, guide_part], (f"demo: the guide and the bone under it (its box + {FIT_MARGIN_MM:g} mm) "
                                 f"for a fit test, not the whole {bone.name}; 'medprint print <case>' slices every part")


def export_3mf(case) -> Path | None:
    """The export step's 3MF of the case's parts (LPS mm), when that step is done."""
    if case.steps.get("export") != "done":
        return None
    files = [f for f in case.results.get("export", {}).get("files", []) if f.lower().endswith(".3mf")]
    return case.path(files[0]) if files and case.path(files[0]).is_file() else None


def _fingerprint(parts: list[Path], profile, material) -> str:
    """SHA-256 of the parts' bytes, the printer and material profiles, the step's settings and
    the MedPrint version: equal fingerprints slice to the same G-code."""
    digest = hashlib.sha256(repr((profile, material, STEP_SETTINGS, __version__)).encode())
    for part in parts:
        with open(part, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _skip(case, reason: str) -> str:
    from ..workflow import save_case

    case.results["print"] = {"skipped": reason}
    case.steps["print"] = "skipped"
    save_case(case)
    return reason

