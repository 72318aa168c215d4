"""T1: MedPrintLib.dicom_source: a case made in Slicer from a volume its DICOM module loaded records
the source series (modality, slice thickness, UIDs, slices in order) as the command line records it;
a volume not from DICOM is recorded without one, and says why."""

import random

import pydicom
import pytest
import slicer

from MedPrintLib.dicom_source import INSTANCE_UIDS_ATTRIBUTE, source_of_node
from medprint.dicom import read_dicom_series
from medprint.pipeline import ModelSettings
from medprint.workflow import DEMO_CT, create_case, is_demo_case, open_case
from slicer_reader import read_ct_with_slicer


class FolderDatabase:
    """What ``slicer.dicomDatabase.fileForInstance`` answers, for the files of one folder."""

    def __init__(self, folder, leave_out: int = 0):
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.read_bytes()[128:132] == b"DICM")
        uids = [str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID) for p in files]
        self.files = dict(zip(uids[leave_out:], map(str, files[leave_out:])))
        self.uids = uids

    def fileForInstance(self, uid):  # noqa: N802 (ctkDICOMDatabase's name)
        return self.files.get(uid, "")


def _loaded_from_dicom(scene, folder, database):
    """A volume node as Slicer's DICOM scalar volume plugin leaves it: voxels, and the slices' UIDs."""
    node = read_ct_with_slicer(scene, folder)
    uids = list(database.uids)
    random.Random(7).shuffle(uids)  # the attribute's order is the loader's, not the slices'
    node.SetAttribute(INSTANCE_UIDS_ATTRIBUTE, " ".join(uids))
    return node


@pytest.mark.parametrize("series", ["abdomen-pancreas-ctcb001", "head-ge-tilt"])
def test_source_of_a_dicom_volume_is_the_command_lines(ct_dir, series):
    folder = ct_dir / series
    node = _loaded_from_dicom(slicer.vtkMRMLScene(), folder, FolderDatabase(folder))
    source, note = source_of_node(node, FolderDatabase(folder))
    reference = read_dicom_series(folder).source
    assert note == "" and source == reference
    assert source.modality == "CT" and source.slice_thickness_mm > 0
    assert source.file_count == len(source.sop_instance_uids) == reference.file_count > 20


def test_missing_files_and_volumes_not_from_dicom_are_named(ct_dir):
    folder = ct_dir / "abdomen-pancreas-ctcb001"
    scene = slicer.vtkMRMLScene()
    node = _loaded_from_dicom(scene, folder, FolderDatabase(folder))
    source, note = source_of_node(node, FolderDatabase(folder, leave_out=3))
    total = len(FolderDatabase(folder).uids)
    assert source.file_count == total - 3 and note.startswith(f"3 of the volume's {total} DICOM files")
    plain = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode")  # e.g. a NRRD or another module's result
    source, note = source_of_node(plain, FolderDatabase(folder))
    assert source.series_instance_uid == "" and "not loaded from DICOM" in note


def test_case_made_in_slicer_records_its_series_and_knows_the_demo(module, ct_dir, tmp_path, monkeypatch):
    """The Model step in Slicer records the series like ``medprint model``; the demo CT loaded through
    Slicer's DICOM module is recognised as the demo (its registry records stay in the case)."""
    scene = slicer.mrmlScene
    logic = module.MedPrintLogic()
    for folder, label in ((ct_dir / "abdomen-pancreas-ctcb001", "abdomen-2"), (DEMO_CT, "demo-in-slicer")):
        monkeypatch.setattr(slicer, "dicomDatabase", FolderDatabase(folder), raising=False)
        ct = _loaded_from_dicom(scene, folder, FolderDatabase(folder))
        case = create_case(tmp_path / label, label)
        logic.makeModel(ct, scene.AddNewNodeByClass("vtkMRMLModelNode"), ModelSettings(), case=case)
        recorded = open_case(case.folder)
        reference = read_dicom_series(folder).source
        assert recorded.source["series_instance_uid"] == reference.series_instance_uid
        assert recorded.source["modality"] == "CT" and recorded.source["warnings"] == []
        assert list(recorded.source["sop_instance_uids"]) == list(reference.sop_instance_uids)
        assert is_demo_case(recorded) == (folder == DEMO_CT)
    plain = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode")
    plain.Copy(ct)
    plain.RemoveAttribute(INSTANCE_UIDS_ATTRIBUTE)
    case = create_case(tmp_path / "nrrd", "nrrd-1")
    logic.makeModel(plain, scene.AddNewNodeByClass("vtkMRMLModelNode"), ModelSettings(), case=case)
    recorded = open_case(case.folder)
    assert recorded.source["modality"] == "" and "not loaded from DICOM" in recorded.source["warnings"][0]
