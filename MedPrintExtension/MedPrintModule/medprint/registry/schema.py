"""The registry case record, version 1: what one 3D-printing case sends to a registry.

Sections follow the ACR–RSNA 3D Printing Registry case form: imaging and indication, digital model,
physical models, procedure, effort, user assessment (plus the CPT codes claimed). The record is
de-identified by construction: every model forbids extra fields, so nothing outside this list
(UIDs, names, dates, file paths, meshes) can be carried; dates are years, ages are bands, the case ID
is random. Free text is PHI-scanned separately (:mod:`.phi_scan`). Durations are minutes; "unknown"
is allowed wherever the form allows it. The JSON Schema published beside this module
(``case-record.schema.json``) is generated from these models (:func:`json_schema`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .vocabulary import SCHEMA_FILE

SCHEMA_VERSION = "1"
UNKNOWN = "unknown"

AgeBand = Literal["0-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80-89", "90+",
                  "unknown"]
Sex = Literal["female", "male", "other", "unknown"]
#: The appropriateness-criteria areas of the RSNA/ACR 3D printing SIG.
Indication = Literal["craniomaxillofacial", "musculoskeletal", "cardiac", "vascular", "genitourinary",
                     "breast", "abdominal", "thoracic", "neuro", "unknown"]
Modality = Literal["CT", "MR", "US", "PT", "NM", "XA", "CBCT", "other"]
ObjectType = Literal["anatomic_model", "anatomic_guide"]
Purpose = Literal["surgical_planning", "intraoperative_reference", "patient_education", "trainee_education",
                  "simulation", "other", "unknown"]
GuideType = Literal["cutting", "drilling", "positioning", "other"]
Laterality = Literal["left", "right", "bilateral", "midline", "not_applicable"]
Technology = Literal["material_extrusion", "vat_photopolymerisation", "material_jetting", "powder_bed_fusion",
                     "binder_jetting", "unknown"]
YesNo = Literal["yes", "no", "unknown"]
Minutes = Union[int, Literal["unknown"]]
Likert = Union[int, Literal["unknown"]]
#: Short labels (printer make/model, material, region, structure): words, not identifiers.
LABEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 .,+/()&'-]*$"
Label = Field(min_length=1, max_length=64, pattern=LABEL_PATTERN)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _minutes(value: Minutes, name: str) -> None:
    if value != UNKNOWN and not (0 <= value <= 100_000):
        raise ValueError(f"{name} must be 0–100000 minutes or 'unknown'")


class Patient(_Section):
    age_band: AgeBand
    sex: Sex


class SourceImaging(_Section):
    modality: Modality
    slice_thickness_mm: Optional[float] = Field(default=None, gt=0, le=50)


class Imaging(_Section):
    indication_category: Indication
    indication_text: str = Field(default="", max_length=500, description="free text, PHI-scanned")
    source_imaging: list[SourceImaging] = Field(min_length=1, max_length=5)


class AnatomicPart(_Section):
    region: str = Label
    structure: str = Label
    laterality: Laterality


class DigitalModel(_Section):
    object_type: ObjectType
    purpose: Purpose
    parts: list[AnatomicPart] = Field(min_length=1, max_length=20,
                                      description="segmented anatomic components, dominant first")
    guide_type: Optional[GuideType] = None
    guide_count: int = Field(default=0, ge=0, le=20, description="separate guides designed (guides only)")
    software: str = Field(default="", max_length=64, pattern=r"^[A-Za-z0-9 .+-]*$")

    @model_validator(mode="after")
    def _guide_fields(self):
        if self.object_type == "anatomic_guide" and (self.guide_type is None or self.guide_count < 1):
            raise ValueError("an anatomic guide needs guide_type and guide_count >= 1")
        if self.object_type == "anatomic_model" and (self.guide_type is not None or self.guide_count):
            raise ValueError("guide_type and guide_count belong to anatomic guides only")
        return self


class PhysicalModel(_Section):
    printer_make: str = Label
    printer_model: str = Label
    technology: Technology
    material: str = Label
    scale: float = Field(default=1.0, gt=0, le=10)
    parts: list[int] = Field(min_length=1, max_length=20, description="indices into digital_model.parts")
    print_minutes: Minutes = UNKNOWN

    @model_validator(mode="after")
    def _check(self):
        _minutes(self.print_minutes, "print_minutes")
        return self


class Procedure(_Section):
    uses: list[Purpose] = Field(default_factory=list, max_length=7)
    surgery_performed: YesNo = UNKNOWN


class StaffMinutes(_Section):
    clinician: Minutes = UNKNOWN
    non_clinician: Minutes = UNKNOWN

    @model_validator(mode="after")
    def _check(self):
        _minutes(self.clinician, "clinician")
        _minutes(self.non_clinician, "non_clinician")
        return self


class Effort(_Section):
    consultation: StaffMinutes = StaffMinutes()
    segmentation: StaffMinutes = StaffMinutes()
    cad: StaffMinutes = StaffMinutes()
    post_processing: StaffMinutes = StaffMinutes()
    printer_run_minutes: Minutes = UNKNOWN
    cost_usd: Union[float, Literal["unknown"]] = UNKNOWN

    @model_validator(mode="after")
    def _check(self):
        _minutes(self.printer_run_minutes, "printer_run_minutes")
        if self.cost_usd != UNKNOWN and not (0 <= self.cost_usd <= 1e7):
            raise ValueError("cost_usd must be 0–10,000,000 or 'unknown'")
        return self


class Assessment(_Section):
    usefulness: Likert = UNKNOWN
    confidence_before: Likert = UNKNOWN
    confidence_after: Likert = UNKNOWN
    plan_changed: YesNo = UNKNOWN
    minutes_saved_estimate: Minutes = UNKNOWN

    @model_validator(mode="after")
    def _check(self):
        for name in ("usefulness", "confidence_before", "confidence_after"):
            value = getattr(self, name)
            if value != UNKNOWN and not (1 <= value <= 5):
                raise ValueError(f"{name} is a 1–5 Likert score or 'unknown'")
        _minutes(self.minutes_saved_estimate, "minutes_saved_estimate")
        return self


class CodeLine(_Section):
    code: str = Field(pattern=r"^[0-9]{4}[0-9TFU]$|^[A-Z][0-9]{4}$")
    units: int = Field(ge=1, le=99)


class CaseRecord(_Section):
    """One case, de-identified. ``site`` and ``case_id`` are registry IDs, never hospital IDs."""

    schema_version: Literal["1"] = SCHEMA_VERSION
    site: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,31}$")
    case_id: str = Field(pattern=r"^c-[0-9a-f]{24}$", description="random; the link to the study stays local")
    procedure_year: int = Field(ge=2000, le=2100)
    patient: Patient
    imaging: Imaging
    digital_model: DigitalModel
    physical_models: list[PhysicalModel] = Field(default_factory=list, max_length=5)
    procedure: Procedure = Procedure()
    effort: Effort = Effort()
    assessment: Assessment = Assessment()
    cpt: list[CodeLine] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _part_indices(self):
        n = len(self.digital_model.parts)
        for m, model in enumerate(self.physical_models):
            bad = [i for i in model.parts if not 0 <= i < n]
            if bad:
                raise ValueError(f"physical_models[{m}] names parts {bad}; the digital model has {n} parts")
        return self

    def payload(self) -> bytes:
        """The canonical JSON bytes sent to a registry (fields in schema order, no spaces)."""
        return self.model_dump_json().encode()


def json_schema() -> dict:
    """The JSON Schema of :class:`CaseRecord` (what ``case-record.schema.json`` publishes)."""
    schema = CaseRecord.model_json_schema()
    schema["$id"] = f"https://medprint.invalid/registry/case-record/v{SCHEMA_VERSION}.schema.json"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def write_json_schema(path: Path = SCHEMA_FILE) -> Path:
    path.write_text(json.dumps(json_schema(), indent=2, sort_keys=True) + "\n")
    return path
