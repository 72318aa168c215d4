"""The Register panel's case form: parameter-node fields <-> the clinician's answers.

Each answer of ``medprint.registry.answers.Answers`` the panel shows is a typed field of
``MedPrintParameterNode`` (saved with the scene, bound to its widget by ``connectGui``); these functions
read and write them on the scripted-module node in the form ``parameterNodeWrapper`` stores them
(``str(value)``), like ``case_node``. A field at its default is "not answered": the answer is left out,
so the case decides (the preset as structure, the print step's technology) or it stays "unknown".
Integers use a value below the valid range for "unknown" (minutes -1, 1–5 scores 0), shown as
"unknown" by the spin boxes (``specialValueText``). The choices come from the published record schema,
without pydantic, so Slicer can build the parameter node before the registry packages are installed.
"""

from datetime import date

from medprint.registry.cpt import code_units, primary_codes
from medprint.registry.vocabulary import choices

UNKNOWN = "unknown"
FROM_CASE = "from the case"
SUGGESTED, NO_CODES = "suggested", "none"
YES_NO = choices("Procedure", "surgery_performed")


def _minutes(*path: str) -> tuple:
    return path, int, None, -1


#: parameter-node field -> (path in the answers, type, choices or None, default = not answered)
FIELDS = {
    "registerAgeBand": (("patient", "age_band"), str, choices("Patient", "age_band"), UNKNOWN),
    "registerSex": (("patient", "sex"), str, choices("Patient", "sex"), UNKNOWN),
    "registerIndication": (("indication_category",), str, choices("Imaging", "indication_category"), UNKNOWN),
    "registerIndicationText": (("indication_text",), str, None, ""),
    "registerRegion": (("region",), str, None, ""),
    "registerStructure": (("structure",), str, None, ""),
    "registerLaterality": (("laterality",), str, [FROM_CASE, *choices("AnatomicPart", "laterality")], FROM_CASE),
    "registerPurpose": (("purpose",), str, choices("DigitalModel", "purpose"), UNKNOWN),
    "registerPrinted": (("printed",), str, YES_NO, UNKNOWN),
    "registerTechnology": (("technology",), str, [FROM_CASE, *choices("PhysicalModel", "technology")], FROM_CASE),
    "registerMaterial": (("material",), str, None, ""),
    "registerSurgeryPerformed": (("procedure", "surgery_performed"), str, YES_NO, UNKNOWN),
    "registerConsultationClinician": _minutes("effort", "consultation", "clinician"),
    "registerConsultationOther": _minutes("effort", "consultation", "non_clinician"),
    "registerSegmentationClinician": _minutes("effort", "segmentation", "clinician"),
    "registerSegmentationOther": _minutes("effort", "segmentation", "non_clinician"),
    "registerCadClinician": _minutes("effort", "cad", "clinician"),
    "registerCadOther": _minutes("effort", "cad", "non_clinician"),
    "registerPostProcessingClinician": _minutes("effort", "post_processing", "clinician"),
    "registerPostProcessingOther": _minutes("effort", "post_processing", "non_clinician"),
    "registerUsefulness": (("assessment", "usefulness"), int, None, 0),
    "registerConfidenceBefore": (("assessment", "confidence_before"), int, None, 0),
    "registerConfidenceAfter": (("assessment", "confidence_after"), int, None, 0),
    "registerPlanChanged": (("assessment", "plan_changed"), str, YES_NO, UNKNOWN),
    "registerMinutesSaved": _minutes("assessment", "minutes_saved_estimate"),
}
#: object type -> (code field, units field): "suggested" codes, "none", or a primary code with its units
CODE_FIELDS = {"anatomic_model": ("registerModelCode", "registerModelUnits"),
               "anatomic_guide": ("registerGuideCode", "registerGuideUnits")}
#: form fields the case fills in before the clinician answers (``medprint.registry.answers.form_defaults``)
PREFILLED = {"structure": "registerStructure", "technology": "registerTechnology", "material": "registerMaterial"}


def code_choices(object_type: str, year: int = 0) -> list[str]:
    """The code field's choices: the suggested codes, none, or one of the primary codes in effect."""
    return [SUGGESTED, NO_CODES, *primary_codes(object_type, year or date.today().year)]


def _read(node, name: str, kind, default):
    text = node.GetParameter(name)
    return default if text == "" else kind(text)


def answers_from_parameters(node, year: int = 0) -> dict:
    """The answers (JSON, as ``medprint.registry.answers.save_answers`` takes them) the form holds."""
    answers = {}
    for name, (path, kind, _choices, default) in FIELDS.items():
        value = _read(node, name, kind, default)
        if value != default:
            place = answers
            for key in path[:-1]:
                place = place.setdefault(key, {})
            place[path[-1]] = value
    if "patient" in answers:  # the record's patient section has both fields
        answers["patient"] = {"age_band": UNKNOWN, "sex": UNKNOWN, **answers["patient"]}
    for object_type, (code_field, units_field) in CODE_FIELDS.items():
        code = _read(node, code_field, str, SUGGESTED)
        if code != SUGGESTED:
            units = 0 if code == NO_CODES else _read(node, units_field, int, 1)
            answers.setdefault("cpt", {})[object_type] = [
                {"code": c, "units": n} for c, n in code_units(object_type, units, year or date.today().year,
                                                              primary=code)]
    return answers


def parameters_from_answers(answers: dict, node) -> None:
    """Show saved ``answers`` in the form (every field; unanswered ones at their defaults)."""
    was_modifying = node.StartModify()
    for name, (path, kind, _choices, default) in FIELDS.items():
        value = answers
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        node.SetParameter(name, str(default if value is None or (kind is int and value == UNKNOWN) else value))
    for object_type, (code_field, units_field) in CODE_FIELDS.items():
        lines = answers.get("cpt", {}).get(object_type)
        code = SUGGESTED if lines is None else lines[0]["code"] if lines else NO_CODES
        node.SetParameter(code_field, code)
        node.SetParameter(units_field, str(sum(line["units"] for line in lines) if lines else 1))
    node.EndModify(was_modifying)


def prefill(node, defaults: dict) -> list[str]:
    """Fill the form fields still unanswered with the case's ``defaults`` (``form_defaults``); returns
    the fields filled."""
    filled = []
    for key, name in PREFILLED.items():
        default = FIELDS[name][3]
        if key in defaults and _read(node, name, str, default) == default:
            node.SetParameter(name, str(defaults[key]))
            filled.append(name)
    return filled
