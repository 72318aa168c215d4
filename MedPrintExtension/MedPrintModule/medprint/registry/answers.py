"""The clinician's answers to the registry case form, kept in the case folder.

What the case folder cannot know (patient age band and sex, indication, anatomy, purpose, whether
and how it was printed, effort, the clinical user's assessment, the CPT codes claimed) is answered
in the Slicer module's Register panel or by editing ``<case>/registry/answers.json``; the register
step (:mod:`.step`) builds the records from the case *and* these answers. Every answer is optional:
a missing one keeps what the case says (the preset as structure, the print step's technology and
material) or "unknown". The answers use the record's own sections (:mod:`.schema`), so they are
de-identified by the same rules (bands, years, labels; free text is PHI-scanned before it is saved and
again when submitted).
"""

from __future__ import annotations

import json
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import InputError
from .schema import (LABEL_PATTERN, UNKNOWN, Assessment, CodeLine, Effort, Indication, Laterality, ObjectType, Patient,
                     Procedure, Purpose, Technology, YesNo)

#: Where the answers live in a case folder (beside the records the step writes).
ANSWERS_FILE = ("registry", "answers.json")


class Answers(BaseModel):
    """The form's answers. ``None`` (or absent) means "take it from the case". ``printed``: "yes"
    records a printed model even when MedPrint did not send the job, "no" records none even when it
    did. ``cpt``: the lines claimed per object type; an object type left out gets the suggested codes."""

    model_config = ConfigDict(extra="forbid")

    patient: Patient = Patient(age_band=UNKNOWN, sex=UNKNOWN)
    indication_category: Indication = UNKNOWN
    indication_text: str = Field(default="", max_length=500)
    region: Optional[str] = Field(default=None, min_length=1, max_length=64, pattern=LABEL_PATTERN)
    structure: Optional[str] = Field(default=None, min_length=1, max_length=64, pattern=LABEL_PATTERN)
    laterality: Optional[Laterality] = None
    purpose: Purpose = UNKNOWN
    printed: YesNo = UNKNOWN
    technology: Optional[Technology] = None
    material: Optional[str] = Field(default=None, min_length=1, max_length=64, pattern=LABEL_PATTERN)
    procedure: Procedure = Procedure()
    effort: Effort = Effort()
    assessment: Assessment = Assessment()
    cpt: dict[ObjectType, list[CodeLine]] = Field(default_factory=dict)


def validate_answers(data: dict) -> Answers:
    """``data`` (the form's answers as JSON) checked; an ``InputError`` names each wrong field."""
    try:
        return Answers.model_validate(data)
    except ValidationError as exc:
        raise InputError("The registry form has answers that cannot be recorded: " + field_errors(exc) + ".",
                         hint="correct the named fields in the Register panel (or registry/answers.json)") from None


def field_errors(exc: ValidationError, limit: int = 8) -> str:
    """The errors of a validation as "field.path: message; ..." (the form's field names)."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'] if not str(p).startswith(('function-', 'literal[')))}: "
                     f"{e['msg'].removeprefix('Value error, ')}" for e in exc.errors()[:limit])


def load_answers(case) -> Answers:
    """The answers saved in ``case`` (all "take it from the case" when there are none)."""
    path = case.path(*ANSWERS_FILE)
    if not path.is_file():
        return Answers()
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError("The registry answers file of the case is damaged.", hint=f"fix or delete {path}",
                         detail=str(exc)) from exc
    return validate_answers(data)


def save_answers(case, data: dict) -> Answers:
    """Check ``data`` and save it as the case's answers (only what differs from the defaults). Text that
    looks like patient-identifying information is refused (``PhiError`` naming the field) before it is
    written: a case folder holds no patient data."""
    from .phi_scan import require_clean

    answers = validate_answers(data)
    require_clean(answers.model_dump(mode="json"))
    path = case.path(*ANSWERS_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(answers.model_dump(mode="json", exclude_defaults=True), indent=2) + "\n")
    return answers


def form_defaults(case) -> dict:
    """What the form shows before the clinician answers, from the case: the structure (the model's
    preset) and the print step's technology (ISO/ASTM 52900 category) and material, when it sliced."""
    from .deid import material_label, structure_name, technology

    printed = case.results.get("print", {})
    defaults = {"structure": structure_name(case)}
    if printed.get("technology"):
        defaults["technology"] = technology(printed["technology"])
    if printed.get("material"):
        defaults["material"] = material_label(printed["material"])
    return defaults
