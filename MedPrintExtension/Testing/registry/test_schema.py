"""The case record schema: published JSON Schema, required sections, limits, no extra fields;
de-identification helpers (age bands, years, random case IDs)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from pydantic import ValidationError
from registry_records import make_record

from medprint.registry.deid import age_band, new_case_id, source_imaging, year_only
from medprint.registry.schema import SCHEMA_FILE, CaseRecord, json_schema


def test_published_json_schema_is_the_models_schema():
    assert json.loads(SCHEMA_FILE.read_text()) == json.loads(json.dumps(json_schema()))
    required = set(json_schema()["required"])
    assert {"site", "case_id", "procedure_year", "patient", "imaging", "digital_model"} <= required
    assert json_schema()["additionalProperties"] is False


def test_a_complete_record_round_trips_through_its_payload():
    record = make_record("site-a", parts=3)
    assert CaseRecord.model_validate_json(record.payload()) == record
    assert record.payload() == CaseRecord.model_validate_json(record.payload()).payload()


@pytest.mark.parametrize("change, field", [
    (lambda d: d.pop("digital_model"), "digital_model"),
    (lambda d: d.update(study_instance_uid="1.2.3.4"), "study_instance_uid"),
    (lambda d: d.update(attachments=["skin.stl"]), "attachments"),
    (lambda d: d["patient"].update(age_band="93"), "patient.age_band"),
    (lambda d: d["patient"].update(birth_date="1931-02-03"), "patient.birth_date"),
    (lambda d: d["digital_model"].update(parts=[d["digital_model"]["parts"][0]] * 21), "digital_model.parts"),
    (lambda d: d.update(physical_models=d["physical_models"] * 6), "physical_models"),
    (lambda d: d["assessment"].update(usefulness=6), "assessment"),
    (lambda d: d["effort"]["cad"].update(clinician=-5), "effort.cad"),
    (lambda d: d["physical_models"][0].update(technology="laser cutting"), "physical_models.0.technology"),
    (lambda d: d.update(case_id="MRN-12345"), "case_id"),
])
def test_invalid_records_are_refused_naming_the_field(change, field):
    data = json.loads(make_record("site-a", parts=2).payload())
    change(data)
    with pytest.raises(ValidationError) as info:
        CaseRecord.model_validate(data)
    assert any(".".join(map(str, e["loc"])).startswith(field) for e in info.value.errors()), info.value.errors()


def test_guides_need_a_type_and_count_and_part_indices_must_exist():
    data = json.loads(make_record("site-a", parts=2).payload())
    data["digital_model"]["object_type"] = "anatomic_guide"
    with pytest.raises(ValidationError, match="guide_type and guide_count"):
        CaseRecord.model_validate(data)
    data = json.loads(make_record("site-a", parts=2).payload())
    data["physical_models"][0]["parts"] = [0, 2]
    with pytest.raises(ValidationError, match=r"names parts \[2\]; the digital model has 2 parts"):
        CaseRecord.model_validate(data)


@pytest.mark.parametrize("age, band", [(0, "0-9"), (9.99, "0-9"), (42, "40-49"), (89.9, "80-89"), (90, "90+"),
                                       (104, "90+"), (None, "unknown")])
def test_age_bands_aggregate_over_89(age, band):
    assert age_band(age) == band


def test_dates_become_years_and_case_ids_are_random():
    assert year_only(date(2025, 3, 14)) == 2025 and year_only("20250314") == 2025
    ids = {new_case_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(len(i) == 26 and i.startswith("c-") for i in ids)


def test_only_modality_and_thickness_are_taken_from_a_series():
    source = {"modality": "CT", "slice_thickness_mm": 0.625, "series_instance_uid": "1.2.3.4.5",
              "study_instance_uid": "1.2.3.4.6", "file_count": 300}
    assert source_imaging(source).model_dump() == {"modality": "CT", "slice_thickness_mm": 0.625}
