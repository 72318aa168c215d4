"""Slicing with the real PrusaSlicer CLI: estimates, build-volume refusal, failures, no PHI."""

from __future__ import annotations

import re

import pytest

from medprint.errors import InputError, MedPrintError
from medprint.printing.gcode import commands, format_duration, parse_duration, read_estimates
from medprint.printing.profiles import fit_parts, material_profile, printer_profile
from medprint.printing.slicing import SLICER_ENV, SliceSettings, slice_parts


def _slice(parts, out, printer="prusa-mk4", material="PLA", **settings):
    p = printer_profile(printer)
    return slice_parts(parts, out, p, material_profile(material, p), SliceSettings(**settings))


def test_cube_sliced_with_estimates_matching_the_gcode(box_stl, tmp_path):
    reports = []
    p = printer_profile("prusa-mk4")
    result = slice_parts([box_stl((20, 20, 10))], tmp_path / "job.gcode", p, material_profile("PLA", p),
                         SliceSettings(layer_height_mm=0.2, infill_percent=20),
                         progress=lambda f, m: reports.append(f))
    text = result.output.read_text()
    # 10 mm at 0.2 mm layers = 50 layers; the header says what was asked for
    assert result.estimates.layers == 50 == text.count(";LAYER_CHANGE")
    assert "; layer_height = 0.2" in text and "; fill_density = 20%" in text
    assert "M109 S215" in text and "M190 S60" in text  # PLA first-layer temperatures
    # filament: the E axis adds up to the length the slicer reports (absolute E, reset by G92 E0)
    e_total, e_last = 0.0, 0.0
    for cmd in commands(result.output):
        if cmd.startswith("G92") and "E0" in cmd:
            e_total, e_last = e_total + e_last, 0.0
        elif cmd.startswith(("G1", "G0")) and (m := re.search(r"E(-?[\d.]+)", cmd)):
            e_last = float(m.group(1))
    e_total += e_last
    assert result.estimates.filament_mm == pytest.approx(e_total, rel=0.02)
    # grams = cm³ × PLA density 1.24; a 4 cm³ box at 20 % infill uses between 1 and 4 cm³
    assert result.estimates.filament_g == pytest.approx(result.estimates.material_cm3 * 1.24, rel=0.01)
    assert 1.0 < result.estimates.material_cm3 < 4.0
    assert 60 < result.estimates.print_seconds < 3600
    assert reports[0] == 0.0 and reports[-1] == 1.0 and reports == sorted(reports)


def test_part_centred_on_the_bed_inside_its_extents(box_stl, tmp_path):
    result = _slice([box_stl((30, 16, 4))], tmp_path / "job.gcode", "ender-3")
    xs, ys = [], []
    for cmd in commands(result.output):
        if cmd.startswith("G1") and " E" in cmd and (m := re.search(r"X([\d.]+) Y([\d.]+)", cmd)):
            xs.append(float(m.group(1)))
            ys.append(float(m.group(2)))
    # the object's own extrusions (inside the skirt) span 30 x 16 mm around the bed centre 110,110
    inner_x = [x for x, y in zip(xs, ys) if 95 - 0.5 <= x <= 125 + 0.5 and 102 - 0.5 <= y <= 118 + 0.5]
    assert max(inner_x) - min(inner_x) == pytest.approx(30, abs=0.6)
    assert (max(inner_x) + min(inner_x)) / 2 == pytest.approx(110, abs=0.6)


def test_part_bigger_than_the_bed_refused_before_slicing(box_stl, tmp_path):
    with pytest.raises(InputError) as err:
        _slice([box_stl((300, 20, 20))], tmp_path / "job.gcode", "prusa-mk4")
    assert "300 × 20 × 20 mm" in str(err.value) and "250 × 210 × 220" in str(err.value)
    assert "never scaled" in err.value.hint and "prusa-xl" in err.value.hint
    assert not (tmp_path / "job.gcode").exists()


def _extruded_extents(gcode) -> tuple[float, float]:
    """X and Y extents (mm) of the extruding moves."""
    xs, ys = [], []
    for cmd in commands(gcode):
        if cmd.startswith("G1") and " E" in cmd and (m := re.search(r"X([\d.]+) Y([\d.]+)", cmd)):
            xs.append(float(m.group(1)))
            ys.append(float(m.group(2)))
    return max(xs) - min(xs), max(ys) - min(ys)


def test_long_part_turned_to_fit(box_stl, tmp_path):
    # 215 mm along Y does not fit the MK4's 210 mm depth, but fits along its 250 mm width (Z stays up)
    assert fit_parts([(20, 215, 10)], printer_profile("prusa-mk4")).turn_deg == (0, 0, 90)
    result = _slice([box_stl((20, 215, 5))], tmp_path / "job.gcode", "prusa-mk4", detail_mm=0.1)
    assert result.turn_deg == (0, 0, 90) and result.estimates.layers == 25  # 5 mm at 0.2 mm: height kept
    x, y = _extruded_extents(result.output)
    assert 215 < x < 224 and 20 < y < 29  # printed along X, inside a skirt 3 mm away
    assert "; skirts = 1" in result.output.read_text()
    # a part that leaves no room for a skirt gets none (it would run off the bed)
    full = _slice([box_stl((248, 20, 2), "full.stl")], tmp_path / "full.gcode", "prusa-mk4", detail_mm=0.1)
    assert full.turn_deg == (0, 0, 0) and "; skirts = 0" in full.output.read_text()
    assert _extruded_extents(full.output)[0] == pytest.approx(248, abs=1)


def test_tall_part_laid_on_its_side(box_stl, tmp_path):
    # 230 mm tall does not fit the MK4's 220 mm height; laid on its side (90° about X, then turned
    # about Z so that its length runs along the 250 mm width) it does
    result = _slice([box_stl((30, 12, 230))], tmp_path / "job.gcode", "prusa-mk4", detail_mm=0.1, layer_height_mm=0.3)
    assert result.turn_deg == (90, 0, 90) and result.estimates.layers == 40  # now 12 mm tall at 0.3 mm
    x, y = _extruded_extents(result.output)
    assert 230 < x < 239 and 30 < y < 39  # inside a skirt 3 mm away: the part's Z now runs along X
    assert "; skirts = 1" in result.output.read_text()


def test_fit_agrees_with_the_export_qa():
    from medprint.build_volume import printer_profile as qa_profile

    qa = qa_profile("prusa-mk4")
    slicer = printer_profile("prusa-mk4")
    assert qa.size_mm == slicer.bed_mm
    for extent in [(249, 20, 5), (20, 215, 5), (30, 12, 230), (215, 230, 200), (251, 20, 5), (230, 230, 200),
                   (260, 10, 10), (240, 200, 221), (10, 221, 209)]:
        assert qa.fits(extent) == fit_parts([extent], slicer).fits, extent


def test_missing_slicer_names_the_package(box_stl, tmp_path, monkeypatch):
    monkeypatch.setenv(SLICER_ENV, "no-such-prusa-slicer")
    with pytest.raises(MedPrintError) as err:
        _slice([box_stl((10, 10, 10))], tmp_path / "job.gcode")
    assert "prusa-slicer" in err.value.hint and "apt-get install" in err.value.hint


def test_slicer_failure_becomes_a_clear_error(tmp_path):
    broken = tmp_path / "broken.stl"
    broken.write_bytes(b"solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nendsolid\n")
    with pytest.raises(MedPrintError):
        _slice([broken], tmp_path / "job.gcode")
    assert not (tmp_path / "job.gcode").exists()


def test_bad_settings_refused(box_stl, tmp_path):
    with pytest.raises(InputError, match="layer height"):
        _slice([box_stl((10, 10, 10))], tmp_path / "job.gcode", layer_height_mm=0.5)
    with pytest.raises(InputError, match="cannot be printed on"):
        _slice([box_stl((10, 10, 10))], tmp_path / "job.gcode", material="resin-standard")


def test_no_case_path_or_label_in_the_gcode(box_stl, tmp_path):
    folder = tmp_path / "DOE_JOHN_MRN12345"
    folder.mkdir()
    part = box_stl((10, 10, 2), name="DOE_JOHN_MRN12345-bone.stl")
    part.rename(folder / part.name)
    result = _slice([folder / part.name], folder / "job.gcode")
    text = result.output.read_text()
    assert "DOE" not in text and "MRN12345" not in text and str(tmp_path) not in text


def test_two_parts_sliced_together(box_stl, tmp_path):
    one = _slice([box_stl((10, 10, 4), "a.stl")], tmp_path / "one.gcode")
    two = _slice([box_stl((10, 10, 4), "a.stl"), box_stl((10, 10, 4), "b.stl")], tmp_path / "two.gcode")
    assert two.estimates.material_cm3 == pytest.approx(2 * one.estimates.material_cm3, rel=0.15)


def test_resin_printer_writes_an_sl1_with_its_estimates(box_stl, tmp_path):
    result = _slice([box_stl((10, 10, 2))], tmp_path / "job.sl1", "prusa-sl1s", "resin-standard")
    # 2 mm at 0.05 mm layers = 40 layers; 0.2 cm³ of solid resin
    assert result.estimates.layers == 40
    assert result.estimates.material_cm3 == pytest.approx(0.2, rel=0.1)
    assert result.estimates.print_seconds > 0


def test_durations():
    assert parse_duration("1d 3h 19m 7s") == 98347
    assert parse_duration("17m 1s") == 1021
    assert format_duration(98347) == "1d 3h 19m" and format_duration(42) == "42s"
    with pytest.raises(ValueError):
        parse_duration("soon")


def test_cura_header_estimates(tmp_path):
    path = tmp_path / "cura.gcode"
    path.write_text(";FLAVOR:Marlin\n;TIME:6123\n;Filament used: 1.5m\n;LAYER_COUNT:42\nG28\n")
    est = read_estimates(path)
    assert (est.print_seconds, est.filament_mm, est.layers) == (6123, 1500, 42)
