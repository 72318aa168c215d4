"""DICOM Encapsulated STL (PS3.3 A.85.1): a model that can go back to PACS beside its source series.

The STL inside is binary, in the patient coordinate system of the source's Frame of Reference (LPS,
millimetres). The instance joins the source's study (Study Instance UID) and frame of reference and
cites the slices it was made from (Source Instance Sequence). Demographics are copied only when the
caller passes them (:func:`read_demographics`); otherwise the patient fields are present and empty
(type 2) and Patient Identity Removed is YES.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Optional

from . import __version__
from .errors import InputError
from .mesh import Mesh, write_stl

ENCAPSULATED_STL = "1.2.840.10008.5.1.4.1.1.104.3"
#: what :func:`read_demographics` copies from a source file, and nothing else
DEMOGRAPHICS = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
                "AccessionNumber", "ReferringPhysicianName", "StudyID")
#: attributes of the IOD's modules (PS3.3 A.85.1) with their type: "1" present and not empty,
#: "2" present (may be empty)
REQUIRED = {
    # Patient
    "PatientName": "2", "PatientID": "2", "PatientBirthDate": "2", "PatientSex": "2",
    # General Study
    "StudyInstanceUID": "1", "StudyDate": "2", "StudyTime": "2", "ReferringPhysicianName": "2",
    "StudyID": "2", "AccessionNumber": "2",
    # Encapsulated Document Series
    "Modality": "1", "SeriesInstanceUID": "1", "SeriesNumber": "1",
    # Frame of Reference
    "FrameOfReferenceUID": "1", "PositionReferenceIndicator": "2",
    # General Equipment, Enhanced General Equipment
    "Manufacturer": "1", "ManufacturerModelName": "1", "DeviceSerialNumber": "1", "SoftwareVersions": "1",
    # Encapsulated Document
    "InstanceNumber": "1", "ContentDate": "2", "ContentTime": "2", "AcquisitionDateTime": "2",
    "BurnedInAnnotation": "1", "DocumentTitle": "2", "ConceptNameCodeSequence": "2",
    "MIMETypeOfEncapsulatedDocument": "1", "EncapsulatedDocument": "1", "EncapsulatedDocumentLength": "1",
    # Manufacturing 3D Model
    "MeasurementUnitsCodeSequence": "1",
    # SOP Common
    "SOPClassUID": "1", "SOPInstanceUID": "1",
}


def encapsulated_stl(mesh: Mesh, source: dict, title: str, demographics: Optional[dict] = None,
                     series_number: int = 3001):
    """A pydicom ``FileDataset`` holding ``mesh`` (converted to LPS) as Encapsulated STL.

    ``source`` is the case's record of its series (``case.source``: study, frame of reference,
    SOP class and instance UIDs); ``title`` names the model (case label + part, never patient data).
    """
    from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian, PYDICOM_IMPLEMENTATION_UID, generate_uid

    study, frame = source.get("study_instance_uid", ""), source.get("frame_of_reference_uid", "")
    if not study or not frame:
        raise InputError("The model has no DICOM study and frame of reference to go back to.",
                         hint="make the model from a DICOM series (NRRD and NIfTI files carry no study UIDs)")
    stl = _stl_bytes(mesh.in_space("LPS"))

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ENCAPSULATED_STL
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = ENCAPSULATED_STL
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    for keyword in DEMOGRAPHICS:
        setattr(ds, keyword, "")
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = "MedPrint: patient and study demographics not copied"
    if demographics:
        for keyword, value in demographics.items():
            if keyword not in DEMOGRAPHICS:
                raise InputError(f"'{keyword}' is not a demographic field MedPrint copies.")
            setattr(ds, keyword, value)
        ds.PatientIdentityRemoved = "NO"
        del ds.DeidentificationMethod
    ds.StudyInstanceUID = study
    ds.Modality = "M3D"
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber = series_number
    ds.SeriesDescription = "MedPrint 3D model"
    ds.FrameOfReferenceUID = frame
    ds.PositionReferenceIndicator = ""
    ds.Manufacturer = "MedPrint"
    ds.ManufacturerModelName = "MedPrint"
    ds.DeviceSerialNumber = "0"
    ds.SoftwareVersions = __version__
    ds.InstanceNumber = 1
    ds.ContentDate = ""
    ds.ContentTime = ""
    ds.AcquisitionDateTime = ""
    ds.BurnedInAnnotation = "NO"
    ds.DocumentTitle = title
    ds.ConceptNameCodeSequence = Sequence()
    ds.MIMETypeOfEncapsulatedDocument = "model/stl"
    ds.EncapsulatedDocumentLength = len(stl)
    ds.EncapsulatedDocument = stl + (b"\0" if len(stl) % 2 else b"")
    unit = Dataset()
    unit.CodeValue, unit.CodingSchemeDesignator, unit.CodeMeaning = "mm", "UCUM", "mm"
    ds.MeasurementUnitsCodeSequence = Sequence([unit])
    instances = source.get("sop_instance_uids") or []
    if instances and source.get("sop_class_uid"):
        items = []
        for uid in instances:
            item = Dataset()
            item.ReferencedSOPClassUID = source["sop_class_uid"]
            item.ReferencedSOPInstanceUID = uid
            items.append(item)
        ds.SourceInstanceSequence = Sequence(items)
    return ds


def write_encapsulated_stl(mesh: Mesh, path: str | Path, source: dict, title: str,
                           demographics: Optional[dict] = None) -> Path:
    """Write :func:`encapsulated_stl` to ``path`` (a DICOM Part 10 file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    encapsulated_stl(mesh, source, title, demographics).save_as(path, enforce_file_format=True)
    return path


def missing_attributes(ds) -> list[str]:
    """The :data:`REQUIRED` attributes ``ds`` lacks (type 1: also when empty)."""
    missing = []
    for keyword, kind in REQUIRED.items():
        if keyword not in ds or (kind == "1" and ds.data_element(keyword).is_empty):
            missing.append(keyword)
    return missing


def read_demographics(dicom_file: str | Path) -> dict:
    """The :data:`DEMOGRAPHICS` of one source DICOM file, for a user who asked to copy them."""
    import pydicom

    try:
        ds = pydicom.dcmread(str(dicom_file), stop_before_pixels=True)
    except Exception as exc:
        raise InputError(f"'{Path(dicom_file).name}' is not a readable DICOM file.", detail=str(exc)) from exc
    return {k: str(ds.get(k, "")) for k in DEMOGRAPHICS}


def _stl_bytes(mesh: Mesh) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return write_stl(mesh, Path(folder) / "model.stl", space="LPS").read_bytes()
