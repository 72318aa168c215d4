"""De-identification by construction: a case record is built only from allowed fields.

Follows DICOM PS3.15's Basic Application Level Confidentiality Profile and HIPAA Safe Harbor:
nothing is copied from DICOM but the modality and the slice thickness (no names, IDs, accession
numbers, UIDs, device serial numbers, institution or dates); ages become 10-year bands with
"90+" above 89; dates become the year; the case ID is random (its link to the study stays in the
local outbox database, :mod:`.outbox`); no mesh or image is ever part of a record, so a face or
skin surface cannot be attached. Clinician answers the case folder cannot know come from the case form (:mod:`.answers`), else are
"unknown".
Printed objects are named by ISO/ASTM 52900 technology, printer make and model only (no serial).
"""

from __future__ import annotations

import json
import secrets
from datetime import date
from typing import Optional

from .schema import AnatomicPart, CaseRecord, DigitalModel, Imaging, PhysicalModel, SourceImaging, UNKNOWN

_MODALITIES = {"CT": "CT", "MR": "MR", "US": "US", "PT": "PT", "NM": "NM", "XA": "XA"}
_TECHNOLOGIES = {"fdm": "material_extrusion", "fff": "material_extrusion", "material_extrusion": "material_extrusion",
                 "sla": "vat_photopolymerisation", "dlp": "vat_photopolymerisation", "msla": "vat_photopolymerisation",
                 "vat_photopolymerisation": "vat_photopolymerisation", "polyjet": "material_jetting",
                 "material_jetting": "material_jetting", "sls": "powder_bed_fusion", "mjf": "powder_bed_fusion",
                 "powder_bed_fusion": "powder_bed_fusion", "binder_jetting": "binder_jetting"}


def age_band(age_years: Optional[float]) -> str:
    """A 10-year band ("40-49"); over 89 is "90+"; None is "unknown"."""
    if age_years is None:
        return UNKNOWN
    if age_years < 0 or age_years > 130:
        raise ValueError(f"an age of {age_years} years is not plausible")
    if age_years >= 90:
        return "90+"
    low = int(age_years) // 10 * 10
    return f"{low}-{low + 9}"


def year_only(day: date | str) -> int:
    """The year of a date (``date`` or ISO/DICOM ``YYYY...`` text); every other element is dropped."""
    return day.year if isinstance(day, date) else int(str(day)[:4])


def new_case_id() -> str:
    """A random registry case ID (96 bits), never derived from a hospital identifier."""
    return "c-" + secrets.token_hex(12)


def source_imaging(source: dict) -> SourceImaging:
    """The only facts taken from a source series: modality and slice thickness (mm)."""
    thickness = source.get("slice_thickness_mm")
    return SourceImaging(modality=_MODALITIES.get(str(source.get("modality", "")).upper(), "other"),
                         slice_thickness_mm=round(float(thickness), 3) if thickness else None)


def technology(name: str) -> str:
    """A printer technology named by its ISO/ASTM 52900 category ("unknown" if not recognised)."""
    return _TECHNOLOGIES.get(str(name or "").strip().lower().replace(" ", "_"), UNKNOWN)


def _label(value, default: str) -> str:
    text = " ".join(str(value or "").split())[:64]
    return text if text and text[0].isalnum() else default


def _guide_facts(case) -> tuple[str, str]:
    """Guide type and laterality from the case's guide plan (cuts make a cutting guide, sleeves
    alone a drilling guide); read for its counts and side only."""
    try:
        plan = json.loads(case.path(case.results["guide"]["plan"]).read_text())
    except (KeyError, OSError, ValueError):
        return "other", "not_applicable"
    kind = "cutting" if plan.get("cuts") else "drilling" if plan.get("trajectories") else "other"
    side = str(plan.get("side", "")).lower()
    return kind, side if side in ("left", "right", "bilateral", "midline") else "not_applicable"


def _printed(case, part_file: str, answers) -> list[PhysicalModel]:
    """The print of ``part_file`` when the print step sent it to a printer (a sliced job that was
    never sent is not a printed model) or the clinician says it was printed ("no" says it was not);
    the clinician's technology and material replace the print step's."""
    printed = case.results.get("print", {}) if case.steps.get("print") == "done" else {}
    sent = bool(printed.get("sent")) and part_file in printed.get("parts", [])
    if answers.printed == "no" or not (sent or answers.printed == "yes"):
        return []
    printed = printed if part_file in printed.get("parts", []) else {}
    minutes = printed.get("print_minutes")
    return [PhysicalModel(
        printer_make=_label(printed.get("printer_make"), "unknown"),
        printer_model=_label(printed.get("printer_model"), "unknown"),
        technology=answers.technology or technology(printed.get("technology", "")),
        material=answers.material or _label(printed.get("material"), "unknown"), parts=[0],
        print_minutes=int(round(minutes)) if isinstance(minutes, (int, float)) and minutes >= 0 else UNKNOWN)]


def structure_name(case) -> str:
    """The anatomic structure the case's model shows, named after its preset ("Bone")."""
    preset = case.results.get("model", {}).get("settings", {}).get("preset", "segment")
    return _label(preset.replace("_", " ").replace("-", " ").capitalize(), "Segment")


def material_label(name: str) -> str:
    """A material name as a record label ("unknown" when it cannot be one)."""
    return _label(name, "unknown")


def records_from_case(case, site: str, case_ids: dict, year: int, software: str = "",
                      answers=None) -> list[CaseRecord]:
    """The registry records of a workflow case (:class:`medprint.workflow.Case`), one per kind of
    3D-printed object, as the registry's form has one object type per case: the anatomic model
    (the model step's segment) and, when the guide step is done, the anatomic guide.

    ``case_ids`` maps object type to registry case ID (new IDs are added). Reads ``case.source``
    (modality, slice thickness), the model preset, the guide plan's cuts, sleeves and side, and the
    print step's ``printer_make``, ``printer_model``, ``technology``, ``material``, ``print_minutes``
    and ``parts`` (only if the job was sent). ``answers`` (:class:`.answers.Answers`, the clinician's
    form) supply patient band, indication, anatomy, purpose, printing, procedure, effort and
    assessment; without them these stay "unknown". CPT lines are left to the caller.
    """
    from .answers import Answers

    answers = answers or Answers()
    model = case.results.get("model", {})
    structure = answers.structure or structure_name(case)
    region = answers.region or "unspecified"
    common = dict(site=site, procedure_year=year, patient=answers.patient, procedure=answers.procedure,
                  assessment=answers.assessment,
                  imaging=Imaging(indication_category=answers.indication_category,
                                  indication_text=answers.indication_text,
                                  source_imaging=[source_imaging(case.source)]))
    parts = [AnatomicPart(region=region, structure=structure, laterality=answers.laterality or "not_applicable")]
    kinds = [("anatomic_model", DigitalModel(object_type="anatomic_model", purpose=answers.purpose, parts=parts,
                                             software=software), model.get("file", ""))]
    guide = case.results.get("guide", {}) if case.steps.get("guide") == "done" else {}
    if guide:
        guide_type, side = _guide_facts(case)
        fitted = [AnatomicPart(region=region, structure=structure, laterality=answers.laterality or side)]
        purpose = "surgical_planning" if answers.purpose == UNKNOWN else answers.purpose
        kinds.append(("anatomic_guide", DigitalModel(object_type="anatomic_guide", purpose=purpose,
                                                     parts=fitted, guide_type=guide_type, guide_count=1,
                                                     software=software), guide.get("file", "")))
    records = []
    for kind, digital, part_file in kinds:
        case_id = case_ids.setdefault(kind, new_case_id())
        printed = _printed(case, part_file, answers)
        effort = answers.effort
        if printed and effort.printer_run_minutes == UNKNOWN:
            effort = effort.model_copy(update={"printer_run_minutes": printed[0].print_minutes})
        records.append(CaseRecord(case_id=case_id, digital_model=digital, physical_models=printed, effort=effort,
                                  **common))
    return records
