"""The Slicer reference pipeline, run on Slicer's own classes (PyPI slicer-core, no Qt).

Copied from the project's shared recipe ``shared/recipes/slicer-core/reference_pipeline.py`` so the
benchmark does not depend on ../shared at run time. Changes from the recipe: the HU threshold is a
required argument; the JSON line also reports the import time, the RSS after the imports
(baseline) and the volume geometry; ``--smp`` can switch VTK's SMP backend (the recipe, and this
file by default, leave PyPI VTK's "Sequential" backend; Slicer's own VTK is built with TBB).
The pipeline itself (stages and what they time) is unchanged:

load the DICOM series with Slicer's archetype reader (vtkITK), threshold bone into a segment
(Segment Editor threshold: labelmap >= HU), convert to closed surface with Slicer's default rule
(smoothing factor 0.5), and export with the Segmentations logic to an LPS STL.

Usage: python slicer_reference.py DICOM_FOLDER OUT.stl HU [--smp sequential|stdthread]
Prints one JSON line with stage times (s), triangles, peak RSS and baseline RSS (MB).
"""
from process_stats import peak_rss_mb, vmhwm_mb
import time

_t_import = time.perf_counter()
import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import slicer  # noqa: E402
from vtkmodules.util import numpy_support as ns  # noqa: E402
from vtkmodules.vtkCommonCore import vtkSMPTools  # noqa: E402
from vtkmodules.vtkCommonDataModel import vtkPolyData  # noqa: E402
from vtkmodules.vtkCommonMath import vtkMatrix4x4  # noqa: E402

IMPORT_S = time.perf_counter() - _t_import
BASELINE_RSS_MB = peak_rss_mb()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("out")
    ap.add_argument("hu", type=float)
    ap.add_argument("--smp", choices=("sequential", "stdthread"), default="sequential")
    args = ap.parse_args()
    if args.smp == "stdthread":
        vtkSMPTools.SetBackend("STDThread")
        vtkSMPTools.Initialize(0)
    folder, out, hu = args.folder, args.out, args.hu

    t = {}
    t0 = time.perf_counter()
    scene = slicer.vtkMRMLScene()
    app = slicer.vtkSlicerApplicationLogic(); app.SetMRMLScene(scene)  # noqa: E702
    seglogic = slicer.vtkSlicerSegmentationsModuleLogic(); seglogic.SetMRMLScene(scene)  # noqa: E702

    def is_dicom(p):
        with open(p, "rb") as f:
            return f.read(132)[128:] == b"DICM"
    files = sorted(str(p) for p in Path(folder).iterdir() if p.is_file() and is_dicom(p))
    vol = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "CT")
    sn = slicer.vtkMRMLVolumeArchetypeStorageNode()
    sn.SetFileName(files[0])
    for f in files:
        sn.AddFileName(f)
    sn.SetSingleFile(False)
    scene.AddNode(sn)
    ok = sn.ReadData(vol)
    assert ok and vol.GetImageData() is not None, "Slicer reader failed"
    t["load"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    arr = ns.vtk_to_numpy(vol.GetImageData().GetPointData().GetScalars())
    mask = (arr >= hu).astype(np.uint8)
    lab = slicer.vtkOrientedImageData()
    lab.ShallowCopy(vol.GetImageData())
    lab.GetPointData().SetScalars(ns.numpy_to_vtk(mask, deep=1))
    m = vtkMatrix4x4(); vol.GetIJKToRASMatrix(m); lab.SetImageToWorldMatrix(m)  # noqa: E702
    seg = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Seg")
    seg.SetReferenceImageGeometryParameterFromVolumeNode(vol)
    sid = seg.AddSegmentFromBinaryLabelmapRepresentation(lab, "Bone", [0.9, 0.9, 0.8])
    t["segment"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    seg.GetSegmentation().SetConversionParameter("Smoothing factor", "0.5")
    seg.CreateClosedSurfaceRepresentation()
    t["surface"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    d = tempfile.mkdtemp()
    assert seglogic.ExportSegmentsClosedSurfaceRepresentationToFiles(d, seg, None, "STL", True, 1.0, False)
    stl = [f for f in os.listdir(d) if f.endswith(".stl")][0]
    os.replace(os.path.join(d, stl), out)
    os.rmdir(d)
    t["export"] = time.perf_counter() - t3
    t["total"] = time.perf_counter() - t0
    pd = vtkPolyData(); seg.GetClosedSurfaceRepresentation(sid, pd)  # noqa: E702
    ijk_to_ras = vtkMatrix4x4(); vol.GetIJKToRASMatrix(ijk_to_ras)  # noqa: E702
    print(json.dumps({
        "pipeline": "slicer", "dims": vol.GetImageData().GetDimensions(), "spacing": vol.GetSpacing(),
        "triangles": pd.GetNumberOfCells(), "times_s": t, "import_s": IMPORT_S,
        "baseline_rss_mb": BASELINE_RSS_MB, "smp_backend": vtkSMPTools.GetBackend(),
        "peak_rss_mb": peak_rss_mb(), "vmhwm_mb": vmhwm_mb()}))


if __name__ == "__main__":
    main()
