"""Guide plans: JSON round trip (LPS mm, versioned), technology defaults, validation messages."""

import json

import pytest
from cylinder_case import top_plan_dict

from medprint.errors import InputError
from medprint.guide.plan import FORMAT, VERSION, Plan, load_plan, save_plan
from medprint.guide.step import DEMO_PLAN


def test_round_trip_keeps_every_field(tmp_path):
    plan = Plan.from_dict(top_plan_dict(fillet_mm=0.5, insertion_direction_lps=[0, 0, 2]))
    path = save_plan(plan, tmp_path / "plan.json")
    data = json.loads(path.read_text())
    assert data["format"] == FORMAT and data["version"] == VERSION and data["coordinates"] == "LPS"
    again = load_plan(path)
    assert again == plan
    assert again.insertion_direction_lps == (0.0, 0.0, 1.0)              # normalised
    assert again.trajectories[1].sleeve.outer_diameter_mm == 8.0
    assert again.label_text == "CYL L V2"


def test_demo_plan_loads():
    plan = load_plan(DEMO_PLAN)
    assert [t.name for t in plan.trajectories] == ["lamina-R", "lamina-L"] and plan.cuts[0].name == "spinous"


@pytest.mark.parametrize("technology, slot, bone", [("resin", 1.1, 0.25), ("fdm", 1.4, 0.4)])
def test_technology_defaults(technology, slot, bone):
    plan = Plan.from_dict(top_plan_dict(technology=technology))
    assert plan.slot_width_mm(plan.cuts[0]) == pytest.approx(slot)
    assert plan.clearance_mm == pytest.approx(bone)


def test_explicit_clearances_win():
    cut = dict(top_plan_dict()["cuts"][0], slot_clearance_mm=0.3)
    plan = Plan.from_dict(top_plan_dict(cuts=[cut], bone_clearance_mm=0.5))
    assert plan.slot_width_mm(plan.cuts[0]) == pytest.approx(1.3) and plan.clearance_mm == 0.5


def test_bore_is_drill_plus_clearance_and_a_metal_sleeve_gets_a_seat():
    plan = Plan.from_dict(top_plan_dict())
    assert plan.trajectories[0].bore_diameter_mm == pytest.approx(2.6)
    assert plan.trajectories[0].sleeve.metal_sleeve_length_mm is None
    t = dict(top_plan_dict()["trajectories"][0])
    t["sleeve"] = dict(t["sleeve"], metal_sleeve_diameter_mm=4.0)
    plan = Plan.from_dict(top_plan_dict(trajectories=[t]))
    sleeve = plan.trajectories[0].sleeve
    assert plan.trajectories[0].bore_diameter_mm == pytest.approx(2.6)   # the drill's channel, below the seat
    assert plan.trajectories[0].widest_bore_mm == 4.0
    assert sleeve.metal_sleeve_length_mm == 9.0   # default: 10 mm sleeve less resin's 1 mm wall under the seat


@pytest.mark.parametrize("sleeve, words", [
    ({"metal_sleeve_length_mm": 5.0}, "has a length but no diameter"),
    ({"metal_sleeve_diameter_mm": 2.6}, "(2.6 mm) is not wider than its drill channel (2.6 mm"),
    ({"metal_sleeve_diameter_mm": 4.0, "metal_sleeve_length_mm": 9.5},
     "is 9.5 mm long; its printed sleeve is 10 mm tall, which leaves 0.50 mm under the seat (at least 1 mm"),
    ({"metal_sleeve_diameter_mm": 5.5}, "sleeve wall of trajectory 'straight' is 0.75 mm"),
])
def test_impossible_metal_sleeves_name_the_number(sleeve, words):
    t = dict(top_plan_dict()["trajectories"][0])
    t["sleeve"] = dict(t["sleeve"], **sleeve)
    with pytest.raises(InputError) as err:
        Plan.from_dict(top_plan_dict(trajectories=[t]))
    assert words in str(err.value)


@pytest.mark.parametrize("change, words", [
    ({"format": "something-else"}, "not a MedPrint guide plan"),
    ({"version": 99}, "version 99"),
    ({"coordinates": "RAS"}, "LPS millimetres"),
    ({"colour": "red"}, "unknown field(s): colour"),
    ({"technology": "sls"}, "'sls' is not a printing technology"),
    ({"thickness_mm": 0.5}, "below the 1 mm minimum wall"),
    ({"side": "left"}, "Side 'left'"),
    ({"case_label": "Doe^John"}, "cannot be a case label"),
    ({"contact": {"points_lps": []}}, "no contact region"),
    ({"contact": {"curve_lps": [[0, 0, 0], [1, 0, 0]]}}, "needs at least 3"),
    ({"insertion_direction_lps": [0, 0, 0]}, "insertion direction has no length"),
    ({"fillet_mm": 1.0, "chamfer_mm": 0.5}, "a fillet (1 mm) or a chamfer (0.5 mm), not both"),
    ({"chamfer_mm": -1.0}, "chamfer must not be negative"),
])
def test_invalid_plans_say_what_is_wrong(change, words):
    with pytest.raises(InputError) as err:
        Plan.from_dict(top_plan_dict(**change))
    assert words in str(err.value)


@pytest.mark.parametrize("field, value, words", [
    ("drill_diameter_mm", -1.0, "trajectory 'straight': drill diameter must be greater than 0"),
    ("direction_lps", [0, 0, 0], "trajectory 'straight': direction has no length"),
    ("entry_lps", [0, 0], "trajectory 'straight': entry must be three coordinates"),
    ("sleeve", {"outer_diameter_mm": 3.5}, "sleeve wall of trajectory 'straight' is 0.45 mm"),
])
def test_invalid_trajectories_name_the_feature_and_number(field, value, words):
    t = dict(top_plan_dict()["trajectories"][0], **{field: value})
    with pytest.raises(InputError) as err:
        Plan.from_dict(top_plan_dict(trajectories=[t]))
    assert words in str(err.value)


def test_duplicate_names_are_refused():
    t = top_plan_dict()["trajectories"][0]
    with pytest.raises(InputError, match="share a name"):
        Plan.from_dict(top_plan_dict(trajectories=[t, t]))


def test_unreadable_files(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        load_plan(tmp_path / "bad.json")
    with pytest.raises(InputError, match="does not exist"):
        load_plan(tmp_path / "missing.json")
