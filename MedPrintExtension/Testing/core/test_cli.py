"""The `medprint` command: model, demo, errors and exit codes; no patient data in any output."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import trimesh
from typer.testing import CliRunner

from medprint.cli import app
from medprint.phantom import PATIENT_ID, PATIENT_NAME, Sphere, axial_geometry, write_series
from medprint.workflow import check_label, open_case

runner = CliRunner()


@pytest.fixture(scope="module")
def sphere_series(tmp_path_factory):
    folder = tmp_path_factory.mktemp("series") / "dicom"
    write_series(folder, axial_geometry((20, 48, 48), (1.5, 1.0, 1.0), center_lps=(10.0, 20.0, 30.0)),
                 [Sphere((10.0, 20.0, 30.0), 12.0, 1452.0)])
    return folder


def test_model_writes_a_watertight_lps_stl_and_summary(sphere_series, tmp_path):
    out = tmp_path / "sphere.stl"
    result = runner.invoke(app, ["model", str(sphere_series), "--preset", "bone", "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["watertight"] is True
    assert summary["volume_cm3"] == pytest.approx(4 / 3 * np.pi * 12.0 ** 3 / 1000, rel=0.02)
    assert set(summary["seconds"]) == {"load", "segment", "surface", "write"}
    tm = trimesh.load_mesh(str(out))
    assert tm.is_watertight
    np.testing.assert_allclose(tm.center_mass, [10.0, 20.0, 30.0], atol=0.2)  # LPS, as in the DICOM
    assert b"SPACE=LPS" in out.read_bytes()[:80]


def test_model_in_ras_and_the_human_summary(sphere_series, tmp_path):
    out = tmp_path / "sphere_ras.stl"
    result = runner.invoke(app, ["model", str(sphere_series), "-o", str(out), "--space", "RAS"])
    assert result.exit_code == 0, result.output
    for text in ("triangles", "watertight", "yes", "cm³", "load", "surface", "RAS, millimetres"):
        assert text in result.stdout
    np.testing.assert_allclose(trimesh.load_mesh(str(out)).center_mass, [-10.0, -20.0, 30.0], atol=0.2)


def test_errors_are_plain_words_with_exit_code_and_no_partial_file(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "never.stl"
    result = runner.invoke(app, ["model", str(empty), "-o", str(out)])
    assert result.exit_code == 2
    assert "error:" in result.output and "is empty" in result.output and "what to do:" in result.output
    assert not out.exists() and list(tmp_path.iterdir()) == [empty]


def test_no_bone_is_an_error_not_an_empty_file(tmp_path):
    folder = tmp_path / "soft"
    write_series(folder, axial_geometry((6, 20, 20), (2.0, 1.0, 1.0)), [Sphere((0, 0, 0), 6.0, 40.0)])
    out = tmp_path / "bone.stl"
    result = runner.invoke(app, ["model", str(folder), "-o", str(out)])
    assert result.exit_code == 1
    assert "No voxel lies between 226 and 3071 HU" in result.output
    assert not out.exists()


def _outputs(case_dir):
    """Every file MedPrint wrote into a case folder (not the input series it was given)."""
    return [p for p in case_dir.rglob("*") if p.is_file() and "input-dicom" not in p.parts]


def test_demo_models_the_built_in_real_ct_into_a_case_folder(tmp_path):
    case_dir = tmp_path / "case"
    result = runner.invoke(app, ["demo", "--out", str(case_dir)])
    assert result.exit_code == 0, result.output
    case = open_case(case_dir)
    # every step ran: the later ones either did their work or said why not (no printer, no registry)
    assert case.steps["model"] == "done" and set(case.steps.values()) <= {"done", "skipped"}
    assert set(case.results) >= {"model", "guide", "export", "print", "register"}
    model = case.results["model"]
    assert list(model["seconds"]) == ["load", "segment", "surface", "write"]
    stl = case_dir / model["file"]
    assert stl.name == "demo-bone.stl" and model["watertight"] is True
    tm = trimesh.load_mesh(str(stl))
    assert tm.is_watertight and abs(tm.volume / 1000 - model["volume_cm3"]) < 0.01 * model["volume_cm3"]
    # lumbar vertebrae, lower ribs and iliac wings of an adult: several hundred cm³ of bone
    assert 400 < model["volume_cm3"] < 700 and model["triangles"] > 100_000
    assert case.source["modality"] == "CT" and case.source["shape_kji"] == [44, 172, 272]
    assert case.source["warnings"] == [] and "warning" not in result.output
    assert str(case_dir) in result.stdout
    for path in _outputs(case_dir):  # the demo CT's patient ID appears in no output
        assert b"MEDPRINT-DEMO-CT" not in path.read_bytes() and "DEMO-CT" not in path.name


def test_demo_on_the_phantom_keeps_patient_data_out_and_reruns(tmp_path):
    case_dir = tmp_path / "case"
    result = runner.invoke(app, ["demo", "--phantom", "--out", str(case_dir)])
    assert result.exit_code == 0, result.output
    model = open_case(case_dir).results["model"]
    assert model["watertight"] is True and 20 < model["volume_cm3"] < 500
    # the phantom's patient name and ID are in its DICOM, and nowhere in what MedPrint wrote
    assert (case_dir / "input-dicom").is_dir() and _outputs(case_dir)
    for path in _outputs(case_dir):
        data = path.read_bytes()
        for secret in (PATIENT_NAME, PATIENT_ID, "PHANTOM"):
            assert secret.encode() not in data, (path, secret)
            assert secret not in path.name
    again = runner.invoke(app, ["demo", "--phantom", "--out", str(case_dir)])  # reuses the case folder
    assert again.exit_code == 0, again.output
    assert open_case(case_dir).results["model"]["volume_cm3"] == pytest.approx(model["volume_cm3"], rel=1e-9)
    both = runner.invoke(app, ["demo", "--phantom", "--input", str(case_dir / "input-dicom")])
    assert both.exit_code == 2 and "either --input or --phantom" in both.output


def test_case_labels_are_safe_file_names():
    assert check_label("case-001") == "case-001"
    from medprint.errors import InputError

    for bad in ("", "../etc", "Doe, John", "a/b", "x" * 70):
        with pytest.raises(InputError, match="cannot be a case label"):
            check_label(bad)


def test_the_installed_console_script_runs():
    script = Path(sys.executable).with_name("medprint")  # installed by `pip install -e .`
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "model" in result.stdout and "demo" in result.stdout


def test_missing_slice_refused_then_interpolated_on_request(sphere_series, tmp_path):
    import shutil

    folder = tmp_path / "gap"
    shutil.copytree(sphere_series, folder)
    sorted(folder.glob("*.dcm"))[10].unlink()
    out = tmp_path / "gap.stl"
    refused = runner.invoke(app, ["model", str(folder), "-o", str(out)])
    assert refused.exit_code == 2 and "missing about 1 slice(s)" in refused.output and "--allow-gaps" in refused.output
    assert not out.exists()
    allowed = runner.invoke(app, ["model", str(folder), "-o", str(out), "--allow-gaps", "--json"])
    assert allowed.exit_code == 0, allowed.output
    summary = json.loads(allowed.stdout)
    assert summary["watertight"] and any("Interpolated across the gap" in w for w in summary["warnings"])
    assert summary["volume_cm3"] == pytest.approx(4 / 3 * np.pi * 12.0 ** 3 / 1000, rel=0.03)


def test_damaged_or_foreign_case_files_are_named(tmp_path):
    from medprint.errors import InputError
    from medprint.workflow import create_case

    case = create_case(tmp_path / "c", "case-1")
    assert open_case(case.folder).label == "case-1"
    with pytest.raises(InputError, match="already holds the case 'case-1'"):
        create_case(case.folder, "case-2")
    (case.folder / "case.json").write_text("{not json")
    with pytest.raises(InputError, match="case file in 'c' is damaged"):
        open_case(case.folder)
    (case.folder / "case.json").write_text("[1, 2]")
    with pytest.raises(InputError, match="is not a MedPrint case"):
        open_case(case.folder)
    with pytest.raises(InputError, match="not a MedPrint case folder"):
        open_case(tmp_path)
