"""The "print" workflow step, the printer list and the `medprint print` / `printers` commands,
with a real OctoPrint (Virtual Printer) or nothing listening."""

from __future__ import annotations

import json
import stat
import time

import numpy as np

import pytest
from typer.testing import CliRunner

from medprint.cli import app
from medprint.errors import InputError
from medprint.printing.config import PrinterConfig, load_printers, printer_choices, printers_file, save_printer
from medprint.printing.printer import follow
from medprint.printing.step import run_print_step
from medprint.workflow import create_case, open_case, save_case
from print_servers import API_KEY, free_port, moves_gcode


@pytest.fixture
def config_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDPRINT_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path / "config"


def _case(tmp_path, box_stl, size):
    case = create_case(tmp_path / "case", "knee01")
    stl = case.path("models", "knee01-bone.stl")
    stl.parent.mkdir(parents=True)
    box_stl(size).rename(stl)
    case.steps.update(segment="done", model="done")
    case.results["model"] = {"file": "models/knee01-bone.stl"}
    return case


def _files_text(folder) -> str:
    return "".join(p.read_bytes().decode("latin-1") for p in folder.rglob("*") if p.is_file())


def test_step_without_a_printer_stops_after_slicing(tmp_path, box_stl, config_dir):
    case = _case(tmp_path, box_stl, (40, 30, 10))
    summary = run_print_step(case, lambda f, m: None)
    saved = open_case(case.folder)
    assert saved.steps["print"] == "done"
    result = saved.results["print"]
    assert "no OctoPrint printer is configured" in result["not_sent"] and "not sent" in summary
    # the smallest built-in printer that takes 40 x 30 x 10 mm, its make/model for the registry
    assert result["printer_profile"] == "prusa-mini" and result["printer_make"] == "Prusa"
    assert case.path(result["file"]).read_text().count(";LAYER_CHANGE") == result["estimates"]["layers"] == 33
    assert result["print_minutes"] == pytest.approx(result["estimates"]["print_seconds"] / 60, abs=0.1)


@pytest.mark.parametrize("technology, size, profile, suffix", [
    ("resin", (40, 30, 10), "prusa-sl1s", ".sl1"),     # the plan's clearances were chosen for resin
    ("fdm", (40, 30, 10), "prusa-mini", ".gcode"),
    ("resin", (200, 150, 20), None, ".gcode"),  # no resin printer takes it: a filament one
])
def test_without_a_printer_the_plans_technology_picks_the_profile(tmp_path, box_stl, config_dir,
                                                                  technology, size, profile, suffix):
    from medprint.guide.plan import ContactRegion, Plan, save_plan

    case = _case(tmp_path, box_stl, size)
    save_plan(Plan(ContactRegion(points_lps=[(0.0, 0.0, 5.0)], radius_mm=5.0), technology=technology),
              case.path("guide", "plan.json"))
    case.results["guide"] = {"plan": "guide/plan.json"}
    summary = run_print_step(case, lambda f, m: None, send_job=False)
    result = open_case(case.folder).results["print"]
    assert result["file"].endswith(suffix) and result["technology"] == ("SLA" if suffix == ".sl1" else "FFF")
    if profile:
        assert result["printer_profile"] == profile
    if suffix == ".sl1":  # resin volume, not filament grams, in the summary
        assert result["estimates"]["material_cm3"] > 0 and " ml resin" in summary


def test_step_sends_to_a_reachable_octoprint(tmp_path, box_stl, config_dir, octoprint):
    save_printer(PrinterConfig("lab", "octoprint", octoprint.url, "octoprint-virtual", api_key=API_KEY))
    case = _case(tmp_path, box_stl, (12, 12, 0.6))
    summary = run_print_step(case, lambda f, m: None)
    result = open_case(case.folder).results["print"]
    assert result["sent"]["printer"] == "lab" and result["sent"]["remote_name"] == "knee01.gcode"
    assert "printing on lab" in summary
    from medprint.printing.octoprint import OctoPrintPrinter
    printer = OctoPrintPrinter("lab", octoprint.url, API_KEY)
    assert printer.status().job == "knee01.gcode"
    printer.cancel()
    assert follow(printer, poll_s=0.2, timeout_s=60).state == "cancelled"
    # the key stays in the user's config: not in the case folder
    assert API_KEY not in _files_text(case.folder)


def test_step_with_nothing_listening_does_not_hang(tmp_path, box_stl, config_dir):
    save_printer(PrinterConfig("lab", "octoprint", f"http://127.0.0.1:{free_port()}", api_key=API_KEY))
    case = _case(tmp_path, box_stl, (20, 20, 2))
    begin = time.monotonic()
    run_print_step(case, lambda f, m: None)
    assert time.monotonic() - begin < 15
    result = open_case(case.folder).results["print"]
    assert "Cannot reach OctoPrint" in result["not_sent"] and case.path(result["file"]).is_file()


def test_step_skips_parts_too_big_for_the_configured_printer(tmp_path, box_stl, config_dir):
    save_printer(PrinterConfig("lab", "octoprint", f"http://127.0.0.1:{free_port()}", "prusa-mk4"))
    case = _case(tmp_path, box_stl, (261, 153, 133))  # the demo bone's extents
    summary = run_print_step(case, lambda f, m: None)
    assert open_case(case.folder).steps["print"] == "done"  # nothing reachable: sliced for a printer that fits
    assert "voron-350" in summary


def test_printer_list_keeps_secrets_private(config_dir, capsys):
    save_printer(PrinterConfig("lab", "prusalink", "http://127.0.0.1:1", api_key="k-123", password="pw-456"))
    assert stat.S_IMODE(printers_file().stat().st_mode) == 0o600
    assert load_printers()["lab"].password == "pw-456"
    assert "pw-456" not in repr(load_printers()["lab"]) and "k-123" not in json.dumps(load_printers()["lab"].public())
    listed = CliRunner().invoke(app, ["printers", "list"])
    assert listed.exit_code == 0 and "lab" in listed.output and "pw-456" not in listed.output
    with pytest.raises(InputError, match="not a printer connection"):
        PrinterConfig("x", "fax", "http://a")
    with pytest.raises(InputError, match="no printer profile"):
        PrinterConfig("x", "octoprint", "http://a", "prusa-mk99")


def test_cli_prints_and_follows_a_job(tmp_path, config_dir, octoprint):
    runner = CliRunner()
    added = runner.invoke(app, ["printers", "add", "lab", "--kind", "octoprint", "--address", octoprint.url,
                                "--profile", "octoprint-virtual", "--api-key", API_KEY])
    assert added.exit_code == 0, added.output
    tested = runner.invoke(app, ["printers", "test", "lab"])
    assert tested.exit_code == 0 and "lab: idle" in tested.output and "tool0" in tested.output
    job = moves_gcode(tmp_path / "job.gcode", 200)
    run = runner.invoke(app, ["print", str(job), "--printer", "lab"])
    assert run.exit_code == 0, run.output
    assert "lab: finished" in run.output and API_KEY not in run.output


def test_cli_dry_run_and_errors(tmp_path, box_stl, config_dir):
    runner = CliRunner()
    part = box_stl((300, 20, 20))
    too_big = runner.invoke(app, ["print", str(part), "--dry-run", "--profile", "prusa-mk4"])
    assert too_big.exit_code == 2 and "does not fit prusa-mk4" in too_big.output
    no_printer = runner.invoke(app, ["print", str(part)])
    assert no_printer.exit_code == 2 and "--printer" in no_printer.output
    dry = runner.invoke(app, ["print", str(box_stl((20, 20, 4), "small.stl")), "--dry-run"])
    assert dry.exit_code == 0 and "stopped after slicing" in dry.output
    assert (tmp_path / "small-prusa-mini.gcode").is_file()


def test_step_prints_the_exported_parts_and_the_guide(tmp_path, box_stl, config_dir):
    case = _case(tmp_path, box_stl, (30, 20, 6))
    guide = case.path("guide", "knee01-guide.stl")
    guide.parent.mkdir()
    box_stl((15, 10, 4), "g.stl").rename(guide)
    case.steps["guide"] = "done"
    case.results["guide"] = {"file": "guide/knee01-guide.stl"}
    run_print_step(case, lambda f, m: None)
    assert open_case(case.folder).results["print"]["parts"] == ["models/knee01-bone.stl", "guide/knee01-guide.stl"]
    # once the export step is done, its repaired copies are printed instead
    (case.path("export")).mkdir()
    box_stl((30, 20, 6), "b2.stl").rename(case.path("export", "bone.stl"))
    case.steps["export"] = "done"
    case.results["export"] = {"files": ["export/knee01.3mf", "export/bone.stl", "export/knee01-qa.json"],
                              "parts": {"bone": {"verdict": "not printable"}}}
    summary = run_print_step(case, lambda f, m: None)
    result = open_case(case.folder).results["print"]
    assert result["parts"] == ["export/bone.stl"] and result["part_sizes_mm"] == [[30.0, 20.0, 6.0]]
    assert result["export_not_printable"] == ["bone"] and "export QA found bone not printable" in summary


def test_rerun_keeps_the_gcode_until_a_part_changes(tmp_path, box_stl, config_dir):
    case = _case(tmp_path, box_stl, (20, 20, 3))
    run_print_step(case, lambda f, m: None)
    gcode = case.path(open_case(case.folder).results["print"]["file"])
    first = gcode.stat().st_mtime_ns
    reports = []
    run_print_step(case, lambda f, m: reports.append(m))
    assert gcode.stat().st_mtime_ns == first and not any("slicing" in m for m in reports)
    box_stl((20, 20, 5), "taller.stl").rename(case.path("models", "knee01-bone.stl"))
    run_print_step(case, lambda f, m: None)
    result = open_case(case.folder).results["print"]
    assert gcode.stat().st_mtime_ns != first and result["estimates"]["layers"] == 17  # 5 mm at 0.3 mm


def test_step_sends_to_the_printer_named(tmp_path, box_stl, config_dir, octoprint):
    far = f"http://127.0.0.1:{free_port()}"
    save_printer(PrinterConfig("far", "octoprint", far, "prusa-mk4", api_key=API_KEY))
    save_printer(PrinterConfig("lab", "octoprint", octoprint.url, "octoprint-virtual", api_key=API_KEY))
    save_printer(PrinterConfig("desk", "serial", "/dev/ttyACM9", "prusa-mini"))
    assert printer_choices() == [{"name": "far", "kind": "octoprint", "profile": "prusa-mk4", "takes_3mf": False},
                                 {"name": "lab", "kind": "octoprint", "profile": "octoprint-virtual", "takes_3mf": False},
                                 {"name": "desk", "kind": "serial", "profile": "prusa-mini", "takes_3mf": False}]
    assert API_KEY not in json.dumps(printer_choices())
    case = _case(tmp_path, box_stl, (12, 12, 0.6))
    with pytest.raises(InputError, match="There is no printer 'lab2'") as err:
        run_print_step(case, lambda f, m: None, printer="lab2")
    assert "far, lab, desk" in err.value.hint
    # unreachable: sliced for the printer named (not the smallest that fits), and why it was not sent
    begin = time.monotonic()
    summary = run_print_step(case, lambda f, m: None, printer="far")
    assert time.monotonic() - begin < 15
    result = open_case(case.folder).results["print"]
    assert result["printer_profile"] == "prusa-mk4" and "sent" not in result
    assert f"Cannot reach OctoPrint at {far}" in result["not_sent"] and "not sent" in summary
    # a serial printer prints only while MedPrint streams: the step does not start it
    run_print_step(case, lambda f, m: None, printer="desk")
    result = open_case(case.folder).results["print"]
    assert result["printer_profile"] == "prusa-mini" and "medprint print <case> --printer desk" in result["not_sent"]
    # reachable: sent there
    run_print_step(case, lambda f, m: None, printer="lab")
    result = open_case(case.folder).results["print"]
    assert result["sent"] == {"printer": "lab", "kind": "octoprint", "remote_name": "knee01.gcode",
                              "state": result["sent"]["state"]} and result["printer_profile"] == "octoprint-virtual"
    from medprint.printing.octoprint import OctoPrintPrinter
    client = OctoPrintPrinter("lab", octoprint.url, API_KEY)
    assert client.status().job == "knee01.gcode"
    # while it prints (the virtual printer heats first), a second job is not sent, and the step says why
    run_print_step(case, lambda f, m: None, printer="lab")
    busy = open_case(case.folder).results["print"]
    assert "sent" not in busy and busy["not_sent"] == "lab is busy (printing knee01.gcode)"
    client.cancel()
    assert follow(client, poll_s=0.2, timeout_s=60).state == "cancelled"


def test_slice_only_asks_no_printer(tmp_path, box_stl, config_dir, octoprint):
    """send_job=False slices for the printer named (or the smallest that fits) and sends it nothing."""
    import requests

    def stored():
        answer = requests.get(f"{octoprint.url}/api/files/local", headers={"X-Api-Key": API_KEY}, timeout=10)
        return {(f["name"], f["date"]) for f in answer.json()["files"]}

    save_printer(PrinterConfig("lab", "octoprint", octoprint.url, "octoprint-virtual", api_key=API_KEY))
    case = _case(tmp_path, box_stl, (12, 12, 0.6))
    before = stored()
    run_print_step(case, lambda f, m: None, printer="lab", send_job=False)
    result = open_case(case.folder).results["print"]
    assert result["printer_profile"] == "octoprint-virtual" and result["not_sent"] == "slice only was chosen"
    run_print_step(case, lambda f, m: None, send_job=False)
    result = open_case(case.folder).results["print"]
    assert result["printer_profile"] == "prusa-mini" and "sent" not in result
    assert stored() == before  # nothing uploaded (an upload would add or re-date knee01.gcode)


def test_printers_add_asks_for_secrets_without_echo(config_dir, monkeypatch):
    monkeypatch.delenv("MEDPRINT_PRINTER_API_KEY", raising=False)
    monkeypatch.delenv("MEDPRINT_PRINTER_PASSWORD", raising=False)
    runner = CliRunner()
    added = runner.invoke(app, ["printers", "add", "lab", "--kind", "octoprint", "--address", "http://127.0.0.1:1"],
                          input="k-secret-789\n")
    assert added.exit_code == 0, added.output
    assert "OctoPrint API key" in added.output and "k-secret-789" not in added.output
    assert load_printers()["lab"].api_key == "k-secret-789"
    digest = runner.invoke(app, ["printers", "add", "mk4", "--kind", "prusalink", "--address", "http://127.0.0.1:2",
                                 "--username", "maker"], input="pw-secret-321\n")
    assert digest.exit_code == 0 and "PrusaLink password of maker" in digest.output
    assert "pw-secret-321" not in digest.output and load_printers()["mk4"].password == "pw-secret-321"
    # Moonraker may ask for no key: Enter leaves it empty; a serial printer has no secret to ask for
    klipper = runner.invoke(app, ["printers", "add", "voron", "--kind", "moonraker", "--address",
                                  "http://127.0.0.1:3"], input="\n")
    assert klipper.exit_code == 0 and load_printers()["voron"].api_key == ""
    usb = runner.invoke(app, ["printers", "add", "desk", "--kind", "serial", "--address", "/dev/ttyACM0"])
    assert usb.exit_code == 0 and "key" not in usb.output.lower()
    # given on the command line: nothing is asked
    given = runner.invoke(app, ["printers", "add", "lab", "--kind", "octoprint", "--address", "http://127.0.0.1:1",
                                "--api-key", "k-2"])
    assert given.exit_code == 0 and "API key" not in given.output and load_printers()["lab"].api_key == "k-2"
    assert "k-secret-789" not in printers_file().read_text()


def _exported_case(tmp_path, box_stl, size):
    """A case whose export step wrote the part as STL and as the 3MF (LPS mm) printers may slice."""
    import trimesh
    from medprint.export import Part, write_parts
    from medprint.mesh import Mesh

    case = _case(tmp_path, box_stl, size)
    case.path("export").mkdir()
    box_stl(size, "exported.stl").rename(case.path("export", "bone.stl"))
    box = trimesh.load(case.path("export", "bone.stl"))
    write_parts([Part("bone", Mesh(box.vertices, box.faces))], case.path("export", "knee01.3mf"))
    case.steps["export"] = "done"
    case.results["export"] = {"files": ["export/knee01.3mf", "export/bone.stl"], "parts": {"bone": {"verdict": "printable"}}}
    save_case(case)
    return case


def test_printer_that_slices_3mf_itself_gets_the_export_3mf(tmp_path, box_stl, config_dir, octoprint):
    import requests

    save_printer(PrinterConfig("self", "octoprint", octoprint.url, "octoprint-virtual", api_key=API_KEY,
                               remote_slicer="prusaslicer"))
    case = _exported_case(tmp_path, box_stl, (12, 12, 0.9))
    summary = run_print_step(case, lambda f, m: None, printer="self")
    result = open_case(case.folder).results["print"]
    assert result["file"] == "export/knee01.3mf" and result["sent"]["remote_name"] == "knee01.3mf"
    assert "sliced_by" in result and "estimates" not in result and "which slices it itself" in summary
    assert not case.path("print").exists()  # MedPrint sliced nothing
    from medprint.printing.octoprint import OctoPrintPrinter
    client = OctoPrintPrinter("self", octoprint.url, API_KEY, remote_slicer="prusaslicer")
    assert follow(client, poll_s=0.2, timeout_s=120, started_within_s=120).state == "finished"
    # OctoPrint stored the 3MF byte for byte and printed the G-code its PrusaSlicer plugin made of it
    headers = {"X-Api-Key": API_KEY}
    stored = requests.get(f"{octoprint.url}/downloads/files/local/knee01.3mf", headers=headers, timeout=10)
    assert stored.content == case.path("export", "knee01.3mf").read_bytes()
    gcode = requests.get(f"{octoprint.url}/downloads/files/local/knee01.gcode", headers=headers, timeout=10).text
    assert gcode.count(";LAYER_CHANGE") == 3  # 0.9 mm at the plugin's 0.3 mm layers
    assert "; generated by PrusaSlicer" in gcode and API_KEY not in json.dumps(result)


def test_3mf_hand_off_refusals(tmp_path, box_stl, config_dir, octoprint):
    with pytest.raises(InputError, match="cannot slice 3MF itself"):
        PrinterConfig("mk4", "prusalink", "http://127.0.0.1:1", remote_slicer="prusaslicer")
    save_printer(PrinterConfig("cura", "octoprint", octoprint.url, "octoprint-virtual", api_key=API_KEY,
                               remote_slicer="cura"))
    case = _exported_case(tmp_path, box_stl, (12, 12, 0.9))
    run_print_step(case, lambda f, m: None, printer="cura")
    result = open_case(case.folder).results["print"]
    assert "sent" not in result and "no working slicer 'cura'" in result["not_sent"]
    assert "prusaslicer" in result["not_sent"]  # the slicers OctoPrint has
    # without the export step there is no 3MF: the step says so instead of slicing for the printer
    bare = _case(tmp_path / "bare", box_stl, (12, 12, 0.9))
    assert "run the export step first" in run_print_step(bare, lambda f, m: None, printer="cura")
    assert open_case(bare.folder).steps["print"] == "skipped"


def test_cli_hands_a_3mf_to_a_printer_that_slices(tmp_path, box_stl, config_dir, octoprint):
    runner = CliRunner()
    added = runner.invoke(app, ["printers", "add", "self", "--kind", "octoprint", "--address", octoprint.url,
                                "--profile", "octoprint-virtual", "--api-key", API_KEY, "--remote-slicer", "prusaslicer"])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["printers", "list"], env={"COLUMNS": "200"})
    assert "3MF (prusaslicer)" in listed.output
    case = _exported_case(tmp_path, box_stl, (10, 10, 0.6))
    run = runner.invoke(app, ["print", str(case.folder), "--printer", "self"])
    assert run.exit_code == 0, run.output
    assert "self sliced knee01.3mf itself: finished" in run.output
    stl = runner.invoke(app, ["print", str(box_stl((10, 10, 1), "x.gcode")), "--printer", "self"])
    assert stl.exit_code == 2 and "slices models itself" in stl.output


def test_demo_slices_the_guide_and_the_bone_under_it(tmp_path, config_dir):
    from medprint.guide.step import run_guide_step
    from medprint.mesh import read_stl
    from medprint.workflow import DEMO_CT, run_case

    case = create_case(tmp_path / "case", "demo")
    run_case(case, DEMO_CT)
    run_guide_step(case, lambda f, m: None)
    summary = run_print_step(open_case(case.folder), lambda f, m: None)
    result = open_case(case.folder).results["print"]
    assert result["parts"] == ["print/demo-bone-under-guide.stl", "guide/demo-guide.stl"]
    assert "the guide and the bone under it" in result["demo"] and "medprint print <case>" in summary
    bone, guide = read_stl(case.path("models", "demo-bone.stl")), read_stl(case.path("guide", "demo-guide.stl"))
    piece = read_stl(case.path(result["parts"][0]))
    assert piece.is_watertight() and piece.space == "LPS"
    # inside the guide's box grown by 10 mm, and a small part of the lumbar slab (545 cm³)
    assert np.all(piece.vertices.min(axis=0) >= guide.vertices.min(axis=0) - 10.001)
    assert np.all(piece.vertices.max(axis=0) <= guide.vertices.max(axis=0) + 10.001)
    assert 10_000 < piece.volume_mm3() < bone.volume_mm3() / 10
    # the G-code is the two small parts: layers for the taller one at the step's 0.3 mm
    height = max(np.ptp(piece.vertices[:, 2]), np.ptp(guide.vertices[:, 2]))
    assert result["estimates"]["layers"] == pytest.approx(height / 0.3, abs=2)
    assert max(max(s) for s in result["part_sizes_mm"]) < 80
