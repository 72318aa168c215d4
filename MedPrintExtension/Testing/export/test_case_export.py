"""The export step on a case made from a DICOM series with a patient name: every output re-reads,
the Encapsulated STL carries the source's UIDs and the IOD's required attributes, the bundle's
checksums hold, the report has its pictures, and no patient data appears in any byte or file name."""

import hashlib
import io
import json
import zipfile

import numpy as np
import pydicom
import pytest
import trimesh
from PIL import Image

from medprint.dicom_stl import ENCAPSULATED_STL, encapsulated_stl, missing_attributes, read_demographics
from medprint.errors import InputError
from medprint.export_step import ExportSettings, export_case, run_export_step
from medprint.mesh import read_stl
from medprint.phantom import PATIENT_ID, PATIENT_NAME
from medprint.workflow import create_case, run_case

PHI = [PATIENT_NAME.encode(), PATIENT_ID.encode(), b"PHANTOM", b"20000101"]


@pytest.fixture(scope="module")
def exported(phantom_series, tmp_path_factory):
    case = create_case(tmp_path_factory.mktemp("case") / "knee-7", "knee-7")
    run_case(case, phantom_series)
    summary = run_export_step(case, lambda f, m: None)
    return case, summary


def test_step_records_its_outputs(exported):
    case, summary = exported
    assert case.steps["export"] == "done"
    assert summary.startswith("knee-7-bone: ")
    files = case.results["export"]["files"]
    assert set(files) == {"export/knee-7.3mf", "export/knee-7-bone.stl", "export/knee-7-bone.dcm",
                          "export/knee-7-qa.json", "export/knee-7-qa.html", "export/knee-7-bone-qa.png",
                          "export/knee-7-bundle.zip"}
    assert all(case.path(f).is_file() for f in files)


def test_exported_stl_and_3mf_match_the_model(exported):
    case, _ = exported
    printed = read_stl(case.path("export/knee-7-bone.stl"))
    verdict = case.results["export"]["parts"]["knee-7-bone"]
    # the phantom's sphere (r 12) and shell (r 14, 4 mm wall): 7238 + 6400 mm³
    expected = 4 / 3 * np.pi * (12 ** 3 + 14 ** 3 - 10 ** 3)
    assert printed.volume_mm3() == pytest.approx(expected, rel=0.03)
    assert verdict["verdict"] == "printable", verdict["reasons"]
    with zipfile.ZipFile(case.path("export/knee-7.3mf")) as z:
        model = z.read("3D/3dmodel.model").decode()
    assert 'unit="millimeter"' in model and 'name="knee-7-bone"' in model


def test_encapsulated_stl_references_the_source(exported, phantom_series):
    case, _ = exported
    ds = pydicom.dcmread(case.path("export/knee-7-bone.dcm"))
    assert missing_attributes(ds) == []
    assert ds.SOPClassUID == ENCAPSULATED_STL == ds.file_meta.MediaStorageSOPClassUID
    assert ds.StudyInstanceUID == case.source["study_instance_uid"]
    assert ds.FrameOfReferenceUID == case.source["frame_of_reference_uid"]
    source = pydicom.dcmread(next(phantom_series.iterdir()), stop_before_pixels=True)
    assert ds.StudyInstanceUID == source.StudyInstanceUID and ds.FrameOfReferenceUID == source.FrameOfReferenceUID
    cited = {item.ReferencedSOPInstanceUID for item in ds.SourceInstanceSequence}
    assert len(cited) == case.source["file_count"] == len(list(phantom_series.iterdir()))
    assert source.SOPInstanceUID in cited
    assert ds.Modality == "M3D" and ds.MIMETypeOfEncapsulatedDocument == "model/stl"
    assert ds.MeasurementUnitsCodeSequence[0].CodeValue == "mm"
    assert (ds.PatientName, ds.PatientID, ds.PatientIdentityRemoved) == ("", "", "YES")
    stl = bytes(ds.EncapsulatedDocument)[:ds.EncapsulatedDocumentLength]
    tm = trimesh.load(io.BytesIO(stl), file_type="stl", process=False)
    printed = read_stl(case.path("export/knee-7-bone.stl"))
    assert np.abs(np.asarray(tm.triangles) - printed.vertices[printed.faces]).max() < 1e-4  # LPS, mm


def test_demographics_only_on_request(exported, phantom_series):
    case, _ = exported
    printed = read_stl(case.path("export/knee-7-bone.stl"))
    asked = read_demographics(next(phantom_series.iterdir()))
    ds = encapsulated_stl(printed, case.source, "knee-7-bone", demographics=asked)
    assert str(ds.PatientName) == PATIENT_NAME and ds.PatientID == PATIENT_ID
    assert ds.PatientIdentityRemoved == "NO" and missing_attributes(ds) == []
    with pytest.raises(InputError, match="no DICOM study"):
        encapsulated_stl(printed, {}, "x")


def test_bundle_manifest_and_checksums(exported):
    case, _ = exported
    with zipfile.ZipFile(case.path("export/knee-7-bundle.zip")) as z:
        manifest = json.loads(z.read("manifest.json"))
        sums = dict(line.split("  ")[::-1] for line in z.read("SHA256SUMS").decode().splitlines())
        for entry in manifest["files"]:
            data = z.read(entry["file"])
            assert hashlib.sha256(data).hexdigest() == entry["sha256"] == sums[entry["file"]]
            assert len(data) == entry["bytes"]
        names = set(z.namelist())
    assert {"export/knee-7.3mf", "export/knee-7-bone.stl", "export/knee-7-qa.html", "case.json"} <= names
    assert manifest["software"].startswith("MedPrint ")
    assert manifest["source"]["series_instance_uid"] == case.source["series_instance_uid"]
    assert manifest["parts"]["knee-7-bone"]["verdict"] == "printable"


def test_report_has_pictures_and_figures(exported):
    case, _ = exported
    page = case.path("export/knee-7-qa.html").read_text()
    assert "knee-7-bone-qa.png" in page and "printable" in page and "cm³" in page
    image = np.asarray(Image.open(case.path("export/knee-7-bone-qa.png")).convert("RGB"))
    assert image.shape == (480, 960, 3)
    drawn = (image != 255).any(axis=2)
    assert drawn[:, :480].mean() > 0.05 and drawn[:, 480:].mean() > 0.05  # both views show the part
    green = (image[..., 1] > 150) & (image[..., 0] < 120)
    assert green.sum() > 1000  # thick walls (4 mm and more) are green


def test_no_patient_data_in_any_output(exported):
    case, _ = exported
    for path in case.folder.rglob("*"):
        assert not any(p.decode() in path.name for p in PHI)
        if path.is_file():
            data = path.read_bytes()
            assert not any(p in data for p in PHI), path
            if path.suffix in (".zip", ".3mf"):
                with zipfile.ZipFile(path) as z:
                    for name in z.namelist():
                        assert not any(p in z.read(name) or p.decode() in name for p in PHI), (path, name)
    stl_header = case.path("export/knee-7-bone.stl").read_bytes()[:80]
    assert stl_header.startswith(b"MedPrint") and b"SPACE=LPS" in stl_header


def test_thin_walls_make_a_case_not_printable(exported):
    case, _ = exported
    record = export_case(case, ExportSettings(min_wall_mm=5.0, dicom=False))
    part = record["parts"]["knee-7-bone"]
    assert part["verdict"] == "not printable"
    assert any("walls thinner than 5.0 mm" in r for r in part["reasons"])
