"""CPT suggestions and checks from the dated rule table; new codes come from data alone."""

from __future__ import annotations

import json
from datetime import date

from registry_records import make_record

from medprint.registry.cpt import RULES_FILE, check_codes, describe, load_rules, suggest_codes
from medprint.registry.schema import CodeLine


def codes(lines):
    return {line.code: line.units for line in lines}


def test_models_count_segmented_components_not_prints():
    # kidney + tumour + artery + vein + collecting system in one print: 0559T x1 + 0560T x4
    record = make_record("site-a", parts=5)
    assert len(record.physical_models) == 1
    assert codes(suggest_codes(record)) == {"0559T": 1, "0560T": 4}
    assert codes(suggest_codes(make_record("site-a", parts=1))) == {"0559T": 1}


def test_guides_count_guides():
    record = make_record("site-a", parts=1, object_type="anatomic_guide")
    data = json.loads(record.payload())
    data["digital_model"]["guide_count"] = 3
    record = type(record).model_validate(data)
    assert codes(suggest_codes(record)) == {"0561T": 1, "0562T": 2}


def test_refused_combinations_are_errors():
    record = make_record("site-a", parts=3)
    cases = {
        "0560T is an add-on code and needs 0559T": [CodeLine(code="0560T", units=2)],
        "0559T is reported once per case (1 unit), not 3": [CodeLine(code="0559T", units=3)],
        "0561T is for anatomic guides; this case is an anatomic model": [CodeLine(code="0561T", units=1)],
        "0999T is not in the code table": [CodeLine(code="0999T", units=1)],
        "0559T is listed twice": [CodeLine(code="0559T", units=1), CodeLine(code="0559T", units=1)],
    }
    for message, lines in cases.items():
        errors = [f.message for f in check_codes(record, lines) if f.level == "error"]
        assert any(message in e for e in errors), (message, errors)
    old = make_record("site-a", parts=1, procedure_year=2018)
    assert [f.message for f in check_codes(old, [CodeLine(code="0559T", units=1)])] == \
        ["0559T is not in effect in 2018"]
    assert suggest_codes(old) == []


def test_warnings_for_units_that_disagree_and_payer_caps():
    record = make_record("site-a", parts=7 - 1)  # 6 components -> 0560T x5
    assert check_codes(record) == []
    fewer = [CodeLine(code="0559T", units=1), CodeLine(code="0560T", units=2)]
    (finding,) = check_codes(record, fewer)
    assert finding.level == "warning" and "0559T x1, 0560T x2 claimed, 0559T x1, 0560T x5 supported by 6" \
        in finding.message
    # Medicare's cap on 0560T was 1 unit until 2026-03-31 and is 5 from 2026-04-01
    before = check_codes(record, payer="medicare", on=date(2026, 3, 31))
    assert [f.message for f in before] == ["medicare accepts at most 1 unit(s) of 0560T; 5 claimed "
                                           "(expect a denial and an appeal)"]
    assert check_codes(record, payer="medicare", on=date(2026, 4, 1)) == []
    unprinted = make_record("site-a", parts=1, physical_models=[])
    assert [f.message for f in check_codes(unprinted)] == \
        ["no printed model is recorded; these codes cover printed objects"]


def test_a_new_code_is_added_in_data_only(tmp_path):
    data = json.loads(RULES_FILE.read_text())
    data["codes"].append({"code": "0999T", "object_type": "anatomic_model", "role": "primary", "addon_of": None,
                          "effective_from": "2027-01-01", "effective_to": None, "description": "a test code"})
    data["codes"][0]["effective_to"] = "2026-12-31"
    data["codes"][1]["addon_of"] = "0999T"
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(data))
    rules = load_rules(path)
    assert codes(suggest_codes(make_record("site-a", parts=3, procedure_year=2027), rules)) == {"0999T": 1, "0560T": 2}
    assert codes(suggest_codes(make_record("site-a", parts=3, procedure_year=2026), rules)) == {"0559T": 1}
    assert describe("0999T", rules) == "a test code"


def test_descriptions_are_paraphrases_kept_in_data():
    rules = load_rules()
    assert rules.version == "2026-04-01" and set(rules.codes) == {"0559T", "0560T", "0561T", "0562T"}
    assert "component" in describe("0559T") and "guide" in describe("0562T")
