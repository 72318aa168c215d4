"""The clinician's answers (the Register form) saved in the case and read by the register step: they
reach the records field by field, wrong answers are refused naming the field, refused codes or PHI
stop the whole case before anything is queued, and the form's fixed choices are the schema's."""

from __future__ import annotations

import json
import typing

import pytest

from medprint.errors import InputError
from medprint.registry import schema, vocabulary
from medprint.registry.answers import ANSWERS_FILE, form_defaults, load_answers, save_answers
from medprint.registry.outbox import Outbox
from medprint.registry.phi_scan import PhiError
from medprint.registry.schema import CaseRecord
from medprint.registry.step import run_register
from medprint.workflow import create_case, open_case, save_case

FORM = {
    "patient": {"age_band": "60-69", "sex": "female"},
    "indication_category": "musculoskeletal", "indication_text": "complex acetabular fracture, fixation planned",
    "region": "Pelvis", "structure": "Acetabulum", "laterality": "left", "purpose": "surgical_planning",
    "printed": "yes", "technology": "material_extrusion", "material": "PLA",
    "procedure": {"uses": ["surgical_planning", "patient_education"], "surgery_performed": "yes"},
    "effort": {"segmentation": {"clinician": 15, "non_clinician": 60}, "cad": {"non_clinician": 25}},
    "assessment": {"usefulness": 5, "confidence_before": 3, "confidence_after": 5, "plan_changed": "yes",
                   "minutes_saved_estimate": 20},
    "cpt": {"anatomic_model": [{"code": "0559T", "units": 1}, {"code": "0560T", "units": 2}]},
}


@pytest.fixture
def case(tmp_path):
    """A modelled and sliced (not sent) case: what the register step reads of it is case.json."""
    case = create_case(tmp_path / "case", "hip-3")
    case.source = {"modality": "CT", "slice_thickness_mm": 1.0}
    case.results["model"] = {"file": "models/hip-3-bone.stl", "settings": {"preset": "cortical-bone"}}
    case.results["print"] = {"printer_make": "Prusa", "printer_model": "MK4", "technology": "fdm",
                             "material": "Prusament PETG", "print_minutes": 212.4,
                             "parts": ["models/hip-3-bone.stl"]}
    case.steps.update(model="done", print="done")
    save_case(case)
    return case


def _queued(user_dirs) -> list[CaseRecord]:
    path = user_dirs / "data" / "registry-outbox.sqlite3"
    return [CaseRecord.model_validate_json(e.payload) for e in Outbox(path).entries()] if path.exists() else []


def test_the_forms_answers_make_the_record(case, user_dirs):
    save_answers(case, FORM)
    assert json.loads(case.path(*ANSWERS_FILE).read_text())["patient"] == {"age_band": "60-69", "sex": "female"}
    summary = run_register(open_case(case.folder), lambda f, m: None)
    assert summary == "0559T x1 + 0560T x2 queued (no registry configured)"
    (record,) = _queued(user_dirs)
    assert (record.patient.age_band, record.patient.sex) == ("60-69", "female")
    assert record.imaging.indication_category == "musculoskeletal"
    assert record.imaging.indication_text == FORM["indication_text"]
    (part,) = record.digital_model.parts
    assert (part.region, part.structure, part.laterality) == ("Pelvis", "Acetabulum", "left")
    assert record.digital_model.purpose == "surgical_planning"
    (printed,) = record.physical_models  # never sent, but the clinician says it was printed
    assert (printed.printer_make, printed.printer_model, printed.technology, printed.material,
            printed.print_minutes) == ("Prusa", "MK4", "material_extrusion", "PLA", 212)
    assert record.effort.segmentation.clinician == 15 and record.effort.segmentation.non_clinician == 60
    assert record.effort.cad.non_clinician == 25 and record.effort.consultation.clinician == "unknown"
    assert record.effort.printer_run_minutes == 212
    assert record.procedure.uses == ["surgical_planning", "patient_education"]
    assert (record.assessment.usefulness, record.assessment.confidence_after, record.assessment.plan_changed,
            record.assessment.minutes_saved_estimate) == (5, 5, "yes", 20)
    assert [(c.code, c.units) for c in record.cpt] == [("0559T", 1), ("0560T", 2)]
    (result,) = open_case(case.folder).results["register"]["records"]
    # the case has one segmented component: the claimed add-on is warned about, not refused
    assert any("differ from the case content" in w for w in result["warnings"])
    assert not any("no printed model" in w for w in result["warnings"])


def test_without_answers_the_case_decides_and_printed_no_drops_the_print(case, user_dirs):
    run_register(open_case(case.folder), lambda f, m: None)
    (record,) = _queued(user_dirs)
    assert record.patient.age_band == "unknown" and record.digital_model.parts[0].structure == "Cortical bone"
    assert record.physical_models == [] and [(c.code, c.units) for c in record.cpt] == [("0559T", 1)]
    case.results["print"]["sent"] = {"printer": "mk4", "state": "Printing"}
    save_case(case)
    save_answers(case, {"printed": "no"})
    run_register(open_case(case.folder), lambda f, m: None)
    assert _queued(user_dirs)[-1].physical_models == []


@pytest.mark.parametrize("change, field", [
    ({"patient": {"age_band": "95", "sex": "female"}}, "patient.age_band"),
    ({"effort": {"segmentation": {"clinician": -5}}}, "effort.segmentation: clinician must be 0–100000 minutes"),
    ({"assessment": {"usefulness": 7}}, "assessment: usefulness is a 1–5 Likert score"),
    ({"region": "^Doe"}, "region"),
    ({"favourite_colour": "blue"}, "favourite_colour"),
])
def test_wrong_answers_are_refused_naming_the_field(case, change, field):
    with pytest.raises(InputError) as error:
        save_answers(case, {**FORM, **change})
    assert field in error.value.message
    assert not case.path(*ANSWERS_FILE).exists()
    case.path(*ANSWERS_FILE).parent.mkdir(parents=True, exist_ok=True)
    case.path(*ANSWERS_FILE).write_text(json.dumps({**FORM, **change}))  # edited by hand
    with pytest.raises(InputError, match=field.split(".")[0].split(":")[0]):
        load_answers(case)


def test_refused_codes_or_phi_stop_the_case_before_anything_is_queued(case, user_dirs):
    save_answers(case, {**FORM, "cpt": {"anatomic_model": [{"code": "0560T", "units": 1}]}})
    with pytest.raises(InputError, match="0560T is an add-on code and needs 0559T"):
        run_register(open_case(case.folder), lambda f, m: None)
    save_answers(case, {**FORM, "cpt": {"anatomic_model": [{"code": "0561T", "units": 1}]}})
    with pytest.raises(InputError, match="0561T is for anatomic guides"):
        run_register(open_case(case.folder), lambda f, m: None)
    with pytest.raises(PhiError) as error:  # never written into the case folder
        save_answers(case, {**FORM, "indication_text": "Mr. Smith, MRN 123456, seen 03/04/2026"})
    assert "indication_text" in error.value.message and "Mr. Smith" in error.value.message
    assert "Smith" not in case.path(*ANSWERS_FILE).read_text()
    case.path(*ANSWERS_FILE).write_text(json.dumps({**FORM, "material": "Dr. Jones resin"}))  # edited by hand
    with pytest.raises(PhiError) as error:
        run_register(open_case(case.folder), lambda f, m: None)
    assert "physical_models[0].material" in error.value.message and "Dr. Jones" in error.value.message
    assert _queued(user_dirs) == [] and open_case(case.folder).steps["register"] == "pending"


def test_form_defaults_come_from_the_print_step(case):
    assert form_defaults(case) == {"structure": "Cortical bone", "technology": "material_extrusion",
                                   "material": "Prusament PETG"}
    del case.results["print"]
    assert form_defaults(case) == {"structure": "Cortical bone"}


@pytest.mark.parametrize("section, field", [("Patient", "age_band"), ("Patient", "sex"),
                                            ("Imaging", "indication_category"), ("AnatomicPart", "laterality"),
                                            ("DigitalModel", "purpose"), ("PhysicalModel", "technology"),
                                            ("Assessment", "plan_changed"), ("Procedure", "surgery_performed")])
def test_form_choices_without_pydantic_are_the_schemas(section, field):
    annotation = getattr(schema, section).model_fields[field].annotation
    assert vocabulary.choices(section, field) == list(typing.get_args(annotation))
    with pytest.raises(KeyError):
        vocabulary.choices(section, "no_such_field")


def test_review_names_codes_warnings_and_phi_without_storing_anything(case, user_dirs):
    from medprint.registry.answers import validate_answers
    from medprint.registry.step import review_case

    answers = validate_answers({**FORM, "indication_text": "Mr. Smith, fixation planned"})
    notes = review_case(open_case(case.folder), answers)
    assert notes[0] == ("info", "anatomic model: 0559T x1 + 0560T x2 claimed (the case supports 0559T x1)")
    assert ("warning", "anatomic model: the codes differ from the case content: 0559T x1, 0560T x2 claimed, "
                       "0559T x1 supported by 1 unit(s)") in notes
    assert [n for n in notes if n[0] == "error"] == [
        ("error", "anatomic model: imaging.indication_text: characters 0–9 ('Mr. Smith') look like a name")]
    assert _queued(user_dirs) == [] and not case.path("registry", "anatomic_model.json").exists()


def test_the_cli_shows_and_changes_the_answers_field_by_field(case, user_dirs):
    from typer.testing import CliRunner

    from medprint.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["registry", "answers", str(case.folder), "--set", "patient.age_band=60-69",
                                 "--set", "effort.cad.clinician=20", "--set",
                                 'cpt.anatomic_model=[{"code": "0559T", "units": 1}]'])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"patient": {"age_band": "60-69", "sex": "unknown"},
                                         "effort": {"cad": {"clinician": 20}},
                                         "cpt": {"anatomic_model": [{"code": "0559T", "units": 1}]}}
    assert load_answers(case).effort.cad.clinician == 20
    refused = runner.invoke(app, ["registry", "answers", str(case.folder), "--set", "assessment.usefulness=9"])
    assert refused.exit_code == 2 and "assessment: usefulness is a 1–5 Likert score" in " ".join(refused.stderr.split())
    assert load_answers(case).assessment.usefulness == "unknown"  # nothing saved
    shown = runner.invoke(app, ["registry", "answers", str(case.folder)])
    assert shown.exit_code == 0 and json.loads(shown.stdout)["patient"]["age_band"] == "60-69"
