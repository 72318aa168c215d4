"""The export step checks a case with a guide plan for a printer of the plan's technology (resin:
Form 3, FDM: Prusa MK4), and a case without one for the default printer."""

import json

import pytest

from medprint.build_volume import DEFAULT_PRINTER, PRINTERS
from medprint.export_step import ExportSettings, export_case, run_export_step
from medprint.guide.plan import ContactRegion, Plan, save_plan
from medprint.guide.step import run_guide_step
from medprint.workflow import create_case, run_case


def _exported(folder, series, technology):
    case = create_case(folder, "knee-9")
    run_case(case, series)
    if technology:  # a guide seated on top of the phantom's bone sphere (centre -20, 0, 0; r 12)
        plan = Plan(ContactRegion(points_lps=[(-20.0, 0.0, 12.0)], radius_mm=6.0), technology=technology)
        save_plan(plan, case.path("guide", "plan.json"))
    run_guide_step(case, lambda f, m: None)
    run_export_step(case, lambda f, m: None)
    return case


@pytest.mark.parametrize("technology, printer", [("resin", "form-3"), ("fdm", "prusa-mk4"), (None, DEFAULT_PRINTER)])
def test_export_checks_for_the_printer_of_the_plans_technology(phantom_series, tmp_path, technology, printer):
    case = _exported(tmp_path / "case", phantom_series, technology)
    profile = PRINTERS[printer]
    settings = case.results["export"]["settings"]
    assert settings["printer"] == printer and settings["printer_profile"]["name"] == profile.name
    qa = json.loads(case.path("export", "knee-9-qa.json").read_text())
    parts = {"knee-9-bone", "knee-9-guide"} if technology else {"knee-9-bone"}
    assert set(qa) == parts
    for part in qa.values():  # every part was checked against that printer's minimum wall
        assert part["qa"]["wall_limit_mm"] == profile.min_wall_mm
        assert part["qa"]["printer"]["technology"].lower() == (technology or "fdm")
    if technology:
        assert case.results["guide"]["verification"]["passed"]


def test_an_explicit_printer_wins(phantom_series, tmp_path):
    case = _exported(tmp_path / "case", phantom_series, "resin")
    record = export_case(case, ExportSettings(printer="prusa-mini", dicom=False))
    assert record["settings"]["printer"] == "prusa-mini"
    assert record["settings"]["printer_profile"]["name"] == PRINTERS["prusa-mini"].name


def test_cli_export_of_a_case_checks_for_its_plans_printer(phantom_series, tmp_path):
    """``medprint export CASE`` without --printer: the plan's technology decides, as in the workflow."""
    from typer.testing import CliRunner

    from medprint.cli import app
    from medprint.workflow import open_case

    case = _exported(tmp_path / "case", phantom_series, "resin")
    result = CliRunner().invoke(app, ["export", str(case.folder), "--no-repair"])
    assert result.exit_code == 0, result.output
    assert open_case(case.folder).results["export"]["settings"]["printer"] == "form-3"
    result = CliRunner().invoke(app, ["export", str(case.folder), "--no-repair", "--printer", "prusa-mini"])
    assert result.exit_code == 0 and open_case(case.folder).results["export"]["settings"]["printer"] == "prusa-mini"


def test_slicer_panels_default_is_the_case_printer(phantom_series, tmp_path):
    """The Export panel's default printer choice is the case's (its guide plan's technology), as in
    the workflow; a printer chosen in the panel wins."""
    from MedPrintLib.export_panel import CASE_PRINTER, export_case as panel_export

    case = _exported(tmp_path / "case", phantom_series, "fdm")
    panel_export(case, CASE_PRINTER, repair=False)
    assert case.results["export"]["settings"]["printer"] == "prusa-mk4"
    panel_export(case, "form-3", repair=False)
    assert case.results["export"]["settings"]["printer"] == "form-3"
