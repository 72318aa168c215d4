"""The workflow's guide step (built-in demo CT, another case without a plan, a case with one) and
``medprint guide``."""

import json

import numpy as np
from cylinder_case import cylinder_bone, top_plan_dict
from typer.testing import CliRunner

from medprint.cli import DEMO_CT, app
from medprint.guide.plan import Plan, save_plan
from medprint.guide.step import run_guide_step
from medprint.mesh import read_stl, write_stl
from medprint.workflow import create_case, open_case, run_case, save_case


def _no_progress(fraction, message):
    pass


def test_demo_case_gets_the_demo_guide(tmp_path):
    case = create_case(tmp_path / "case", "demo")
    run_case(case, DEMO_CT)
    summary = run_guide_step(case, _no_progress)
    case = open_case(case.folder)
    record = case.results["guide"]
    assert case.steps["guide"] == "done" and "2 sleeve(s), 1 slot(s)" in summary
    assert record["file"] == "guide/demo-guide.stl" and record["coordinates"] == "LPS"
    assert (case.folder / "guide" / "plan.json").exists()
    guide = read_stl(case.folder / record["file"])
    assert guide.is_watertight()
    assert abs(guide.volume_mm3() / 1000 - record["volume_cm3"]) < 0.01   # float32 STL round trip
    assert record["verification"]["passed"]
    report = json.loads((case.folder / "guide" / "report.json").read_text())
    assert report["verification"] == record["verification"]
    with open(case.folder / record["file"], "rb") as f:
        assert f.read(80).rstrip(b"\0").decode().endswith("SPACE=LPS")   # no patient data in the header


def test_other_case_without_a_plan_is_skipped(tmp_path):
    case = create_case(tmp_path / "case", "cyl")
    write_stl(cylinder_bone(), case.folder / "models" / "cyl-bone.stl")
    case.results["model"] = {"file": "models/cyl-bone.stl"}
    case.source = {"series_instance_uid": "1.2.3"}
    save_case(case)
    assert "no guide plan" in run_guide_step(case, _no_progress)
    assert open_case(case.folder).steps["guide"] == "skipped"
    save_plan(Plan.from_dict(top_plan_dict()), case.folder / "guide" / "plan.json")
    run_guide_step(case, _no_progress)
    case = open_case(case.folder)
    assert case.steps["guide"] == "done" and case.results["guide"]["file"] == "guide/cyl-guide.stl"


def test_cli_designs_verifies_and_writes(tmp_path):
    bone = tmp_path / "bone.stl"
    write_stl(cylinder_bone(), bone)
    plan = save_plan(Plan.from_dict(top_plan_dict()), tmp_path / "plan.json")
    out, report = tmp_path / "guide.stl", tmp_path / "report.json"
    result = CliRunner().invoke(app, ["guide", str(plan), "--bone", str(bone), "-o", str(out),
                                      "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert "channel 'tilted'" in result.output and "FAILED" not in result.output
    figures = json.loads(report.read_text())
    assert figures["verification"]["passed"] and figures["label"] == "CYL L V2"
    guide = read_stl(out)
    assert guide.is_watertight()
    radial = np.hypot(guide.vertices[:, 1], guide.vertices[:, 2])[np.abs(guide.vertices[:, 0]) < 48]
    assert radial.min() >= 15.0 + 0.25 - 0.05


def test_cli_refuses_a_bad_plan(tmp_path):
    bone = tmp_path / "bone.stl"
    write_stl(cylinder_bone(), bone)
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(top_plan_dict(technology="sls")))
    result = CliRunner().invoke(app, ["guide", str(plan), "--bone", str(bone), "-o", str(tmp_path / "g.stl")])
    assert result.exit_code == 2
    assert "'sls' is not a printing technology" in result.output
    assert not (tmp_path / "g.stl").exists()
