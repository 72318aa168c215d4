"""T1: MedPrintLib.register_form: the Register panel's fields on a real vtkMRMLScriptedModuleNode (as
parameterNodeWrapper stores them, saved with the scene) <-> the clinician's answers the register step
reads from the case."""

import pytest
import slicer

from MedPrintLib import register_form
from medprint.errors import InputError
from medprint.registry.answers import ANSWERS_FILE, load_answers, save_answers
from medprint.workflow import create_case, save_case

#: a filled form, as the widgets would leave the parameter node (str(value) per field)
FILLED = {
    "registerAgeBand": "70-79", "registerSex": "male", "registerIndication": "musculoskeletal",
    "registerIndicationText": "tibial plateau fracture", "registerRegion": "Lower extremity",
    "registerStructure": "Tibia", "registerLaterality": "right", "registerPurpose": "surgical_planning",
    "registerPrinted": "yes", "registerTechnology": "vat_photopolymerisation", "registerMaterial": "Grey resin",
    "registerSurgeryPerformed": "yes", "registerSegmentationClinician": "10", "registerSegmentationOther": "45",
    "registerCadOther": "30", "registerUsefulness": "4", "registerConfidenceBefore": "2",
    "registerConfidenceAfter": "4", "registerPlanChanged": "no", "registerMinutesSaved": "15",
    "registerModelCode": "0559T", "registerModelUnits": "3", "registerGuideCode": "none",
}


@pytest.fixture
def node():
    scene = slicer.vtkMRMLScene()
    return scene.AddNewNodeByClass("vtkMRMLScriptedModuleNode")


def _set(node, values: dict) -> None:
    for name, value in values.items():
        node.SetParameter(name, value)


def test_a_filled_form_is_the_answers_the_case_keeps(node, tmp_path):
    _set(node, FILLED)
    answers = register_form.answers_from_parameters(node, year=2026)
    case = create_case(tmp_path / "case", "knee-2")
    saved = save_answers(case, answers)  # the core's validation accepts every field
    assert (saved.patient.age_band, saved.patient.sex, saved.indication_category) == ("70-79", "male",
                                                                                      "musculoskeletal")
    assert (saved.region, saved.structure, saved.laterality) == ("Lower extremity", "Tibia", "right")
    assert (saved.printed, saved.technology, saved.material) == ("yes", "vat_photopolymerisation", "Grey resin")
    assert saved.procedure.surgery_performed == "yes"
    assert (saved.effort.segmentation.clinician, saved.effort.segmentation.non_clinician,
            saved.effort.cad.non_clinician, saved.effort.cad.clinician) == (10, 45, 30, "unknown")
    assert (saved.assessment.usefulness, saved.assessment.confidence_before, saved.assessment.confidence_after,
            saved.assessment.plan_changed, saved.assessment.minutes_saved_estimate) == (4, 2, 4, "no", 15)
    assert {k: [(c.code, c.units) for c in v] for k, v in saved.cpt.items()} == {
        "anatomic_model": [("0559T", 1), ("0560T", 2)], "anatomic_guide": []}

    # reopening the case: the saved answers fill a fresh form with the same values
    other = slicer.vtkMRMLScene().AddNewNodeByClass("vtkMRMLScriptedModuleNode")
    register_form.parameters_from_answers(load_answers(case).model_dump(mode="json"), other)
    for name, value in FILLED.items():
        assert other.GetParameter(name) == value, name
    assert other.GetParameter("registerCadClinician") == "-1"  # unknown minutes
    assert register_form.answers_from_parameters(other, year=2026) == answers


def test_an_untouched_form_answers_nothing(node, tmp_path):
    assert register_form.answers_from_parameters(node) == {}
    for name, (_path, kind, choices, default) in register_form.FIELDS.items():
        node.SetParameter(name, str(default))
        assert choices is None or default in choices, name
    node.SetParameter("registerModelCode", "suggested")
    assert register_form.answers_from_parameters(node) == {}
    assert save_answers(create_case(tmp_path / "c", "c-1"), {}).patient.age_band == "unknown"


def test_code_choices_are_the_rules_primary_codes():
    assert register_form.code_choices("anatomic_model", 2026) == ["suggested", "none", "0559T"]
    assert register_form.code_choices("anatomic_guide", 2026) == ["suggested", "none", "0561T"]
    assert register_form.code_choices("anatomic_model", 2018) == ["suggested", "none"]  # before 0559T


def test_wrong_form_values_are_refused_naming_the_field(node, tmp_path):
    _set(node, {**FILLED, "registerRegion": "Doe^John", "registerMinutesSaved": "-7"})
    case = create_case(tmp_path / "case", "knee-3")
    with pytest.raises(InputError) as error:
        save_answers(case, register_form.answers_from_parameters(node))
    assert "region: String should match pattern" in error.value.message
    assert "assessment: minutes_saved_estimate must be 0–100000 minutes" in error.value.message
    assert not case.path(*ANSWERS_FILE).exists()


def test_the_print_steps_technology_and_material_prefill_only_unanswered_fields(node, tmp_path):
    from medprint.registry.answers import form_defaults

    case = create_case(tmp_path / "case", "knee-4")
    case.results["model"] = {"settings": {"preset": "bone"}}
    case.results["print"] = {"technology": "fdm", "material": "Prusament PLA"}
    save_case(case)
    node.SetParameter("registerMaterial", "Nylon")  # answered already: kept
    filled = register_form.prefill(node, form_defaults(case))
    assert filled == ["registerStructure", "registerTechnology"]
    assert (node.GetParameter("registerStructure"), node.GetParameter("registerTechnology"),
            node.GetParameter("registerMaterial")) == ("Bone", "material_extrusion", "Nylon")
    assert register_form.prefill(node, form_defaults(case)) == []
