"""De-identification by construction: a case record is built only from allowed fields.

Follows DICOM PS3.15's Basic Application Level Confidentiality Profile and HIPAA Safe Harbor:
nothing is copied from DICOM but the modality and the slice thickness (no names, IDs, accession
numbers, UIDs, device serial numbers, institution or dates); ages become 10-year bands with
"90+" above 89; dates become the year; the case ID is random (its link to the study stays in the
local outbox database, :mod:`.outbox`); no mesh or image is ever part of a record, so a face or
skin surface cannot be attached. Clinician answers the case folder cannot know are "unknown".
"""

from __future__ import annotations

import secrets
from datetime import date
from typing import Optional

from .schema import (AnatomicPart, CaseRecord, DigitalModel, Imaging, Patient, PhysicalModel, SourceImaging,
                     UNKNOWN)

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


def record_from_case(case, site: str, case_id: str, year: int, software: str = "") -> CaseRecord:
    """The registry record of a workflow case (:class:`medprint.workflow.Case`) from its step results.

    Reads ``case.source`` (modality, slice thickness), ``results["model"]["settings"]["preset"]``,
    ``results["guide"]`` (``guide_type``, ``guide_count``), ``results["print"]`` (``printer_make``,
    ``printer_model``, ``technology``, ``material``, ``print_minutes``) when those steps are done.
    Patient, indication, effort and assessment are left "unknown" for the clinician.
    """
    preset = case.results.get("model", {}).get("settings", {}).get("preset", "segment")
    parts = [AnatomicPart(region="unspecified", structure=_label(preset.replace("_", " ").capitalize(), "Segment"),
                          laterality="not_applicable")]
    guide = case.results.get("guide", {}) if case.steps.get("guide") == "done" else {}
    if guide:
        model = DigitalModel(object_type="anatomic_guide", purpose="surgical_planning", parts=parts,
                             guide_type=guide.get("guide_type", "other") if guide.get("guide_type") in
                             ("cutting", "drilling", "positioning") else "other",
                             guide_count=max(1, int(guide.get("guide_count", 1))), software=software)
    else:
        model = DigitalModel(object_type="anatomic_model", purpose="unknown", parts=parts, software=software)
    printed = case.results.get("print", {}) if case.steps.get("print") == "done" else {}
    physical = []
    if printed:
        minutes = printed.get("print_minutes")
        physical.append(PhysicalModel(
            printer_make=_label(printed.get("printer_make"), "unknown"),
            printer_model=_label(printed.get("printer_model"), "unknown"),
            technology=technology(printed.get("technology", "")),
            material=_label(printed.get("material"), "unknown"), parts=[0],
            print_minutes=int(round(minutes)) if isinstance(minutes, (int, float)) and minutes >= 0 else UNKNOWN))
    return CaseRecord(site=site, case_id=case_id, procedure_year=year,
                      patient=Patient(age_band=UNKNOWN, sex=UNKNOWN),
                      imaging=Imaging(indication_category=UNKNOWN, source_imaging=[source_imaging(case.source)]),
                      digital_model=model, physical_models=physical)
