"""CuraEngine (Debian cura-engine 4.13) as the second slicer, with Cura's definitions from the cura .deb."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from medprint.cli import app
from medprint.errors import InputError, MedPrintError
from medprint.printing.gcode import commands, read_estimates
from medprint.printing.profiles import material_profile, printer_profile
from medprint.printing.slicing import SliceSettings, slice_parts


def _cura(parts, out, printer="prusa-mk4", material="PLA", **settings):
    p = printer_profile(printer)
    return slice_parts(parts, out, p, material_profile(material, p), SliceSettings(**settings), slicer="cura")


def _extrusion(gcode) -> tuple[float, list[tuple[float, float]]]:
    """Filament pushed (mm, absolute E with G92 E0 resets) and the XY points of extruding moves."""
    e_total, e_last, points = 0.0, 0.0, []
    x = y = None
    for cmd in commands(gcode):
        if cmd.startswith("G92") and "E0" in cmd:
            e_total, e_last = e_total + e_last, 0.0
        elif cmd.startswith(("G0", "G1")):
            x = float(m.group(1)) if (m := re.search(r"X(-?[\d.]+)", cmd)) else x
            y = float(m.group(1)) if (m := re.search(r"Y(-?[\d.]+)", cmd)) else y
            if m := re.search(r"E(-?[\d.]+)", cmd):
                if float(m.group(1)) > e_last and x is not None:
                    points.append((x, y))
                e_last = float(m.group(1))
    return e_total + e_last, points


def test_cube_sliced_with_curaengine(box_stl, tmp_path, cura_definitions):
    reports = []
    p = printer_profile("prusa-mk4")
    result = slice_parts([box_stl((20, 20, 10))], tmp_path / "job.gcode", p, material_profile("PLA", p),
                         SliceSettings(layer_height_mm=0.2, infill_percent=20), lambda f, m: reports.append(f),
                         slicer="cura")
    text = result.output.read_text()
    assert result.slicer == "CuraEngine" and ";Generated with Cura_SteamEngine 4.13" in text
    # 10 mm at 0.2 mm = 50 layers
    assert result.estimates.layers == 50 == len(re.findall(r"^;LAYER:\d+$", text, re.M))
    assert "M109 S215" in text and "M190 S60" in text  # PLA first-layer temperatures
    # the estimates are CuraEngine's own figures, also written over its header placeholders
    assert ";TIME:6666" not in text and f";TIME:{result.estimates.print_seconds:.0f}" in text
    assert "Filament used: 0m" not in text
    assert read_estimates(result.output).print_seconds == result.estimates.print_seconds
    filament, points = _extrusion(result.output)
    assert result.estimates.filament_mm == pytest.approx(filament, rel=0.02)
    assert result.estimates.filament_g == pytest.approx(result.estimates.material_cm3 * 1.24, rel=0.01)
    assert 1.0 < result.estimates.material_cm3 < 4.0 and 60 < result.estimates.print_seconds < 3600
    # centred on the 250 x 210 bed: the part's walls span 20 mm around 125, 105 (the skirt is 3 mm out)
    inner = [(x, y) for x, y in points if 114 <= x <= 136 and 94 <= y <= 116]
    xs, ys = [x for x, _ in inner], [y for _, y in inner]
    assert max(xs) - min(xs) == pytest.approx(20, abs=0.6) and (max(xs) + min(xs)) / 2 == pytest.approx(125, abs=0.6)
    assert (max(ys) + min(ys)) / 2 == pytest.approx(105, abs=0.6)
    assert min(x for x, _ in points) == pytest.approx(125 - 10 - 3, abs=1)  # the skirt
    assert reports[0] == 0.0 and reports[-1] == 1.0 and reports == sorted(reports)


def test_two_parts_side_by_side_use_twice_the_material(box_stl, tmp_path, cura_definitions):
    one = _cura([box_stl((15, 15, 4), "a.stl")], tmp_path / "one.gcode", layer_height_mm=0.2)
    two = _cura([box_stl((15, 15, 4), "a.stl"), box_stl((15, 15, 4), "b.stl")], tmp_path / "two.gcode",
                layer_height_mm=0.2)
    assert two.estimates.layers == one.estimates.layers == 20
    assert two.estimates.material_cm3 == pytest.approx(2 * one.estimates.material_cm3, rel=0.1)
    _, points = _extrusion(two.output)
    xs = sorted(x for x, _ in points)
    assert 35 + 2 * 3 <= xs[-1] - xs[0] <= 35 + 2 * 4.5  # two 15 mm parts 5 mm apart, a skirt 3 mm out around them
    assert (xs[-1] + xs[0]) / 2 == pytest.approx(125, abs=0.6)


def test_curaengine_refusals(box_stl, tmp_path, cura_definitions, monkeypatch):
    with pytest.raises(InputError, match="filament printers only"):
        _cura([box_stl((10, 10, 2))], tmp_path / "job.sl1", "prusa-sl1s", "resin-standard")
    with pytest.raises(InputError, match="does not fit"):
        _cura([box_stl((300, 20, 20))], tmp_path / "job.gcode")
    monkeypatch.setenv("MEDPRINT_CURA_DEFINITIONS", str(tmp_path / "nowhere"))
    with pytest.raises(MedPrintError, match="Cura's printer definitions") as err:
        _cura([box_stl((10, 10, 2))], tmp_path / "job.gcode")
    assert "'cura'" in err.value.hint
    monkeypatch.setenv("MEDPRINT_CURAENGINE", "no-such-curaengine")
    with pytest.raises(MedPrintError, match="CuraEngine is not installed") as err:
        _cura([box_stl((10, 10, 2))], tmp_path / "job.gcode")
    assert "cura-engine" in err.value.hint
    assert not (tmp_path / "job.gcode").exists()


def test_cli_slices_with_cura(box_stl, tmp_path, cura_definitions):
    run = CliRunner().invoke(app, ["print", str(box_stl((20, 20, 3), "small.stl")), "--dry-run", "--slicer", "cura",
                                   "--layer-height", "0.3"])
    assert run.exit_code == 0, run.output
    assert "with CuraEngine" in run.output and "layers" in run.output
    assert read_estimates(tmp_path / "small-prusa-mini.gcode").layers == 10
    wrong = CliRunner().invoke(app, ["print", str(box_stl((20, 20, 3), "small.stl")), "--dry-run", "--slicer", "simplify3d"])
    assert wrong.exit_code == 2 and "no slicer 'simplify3d'" in wrong.output
