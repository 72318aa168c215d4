"""Slicer's own way of loading a DICOM series (the archetype reader, vtkITK), on slicer-core's MRML
classes: the reference the adapter tests and the adapter benchmark compare MedPrint with."""

from pathlib import Path

import slicer


def read_ct_with_slicer(scene, folder: Path):
    """A scalar volume node of the DICOM series in ``folder``, read as Slicer reads a volume."""
    files = sorted(str(p) for p in folder.iterdir() if p.is_file() and p.read_bytes()[128:132] == b"DICM")
    assert files, f"no DICOM files in {folder}"
    node = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "CT")
    storage = slicer.vtkMRMLVolumeArchetypeStorageNode()
    storage.SetFileName(files[0])
    for name in files:
        storage.AddFileName(name)
    storage.SetSingleFile(False)
    scene.AddNode(storage)
    assert storage.ReadData(node)
    return node
