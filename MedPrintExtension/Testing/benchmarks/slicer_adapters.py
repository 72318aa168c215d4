"""Benchmark: MedPrintLib's node conversions vs. Slicer's own ways of doing the same, same run.

On the real abdomen CT (44 x 512 x 512, read by Slicer's archetype reader into a volume node):

| conversion | MedPrintLib | Slicer reference |
|---|---|---|
| volume node -> array + geometry | ``volume_from_node`` | ``slicer.util.arrayFromVolume(node).copy()`` + ``GetIJKToRASMatrix`` |
| mask -> segment | ``set_segment_from_mask`` | ``ImportLabelmapToSegmentationNode`` from a labelmap node (which also scans labels and sets terminology: more work) |
| segment -> mask on the CT grid | ``mask_from_segment`` | ``ExportSegmentsToLabelmapNode`` + ``arrayFromVolume`` |

(*) which also scans the labels and sets terminology: more work than ours, so not a like-for-like pair.
Each is timed ``--repeats`` times (alternating which goes first); the median and the ratio
MedPrint / Slicer are printed. Results must agree voxel for voxel, which is checked on each run.

    python MedPrintExtension/Testing/benchmarks/slicer_adapters.py [--repeats 7]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "MedPrintModule"))
sys.path.insert(0, str(ROOT / "Testing" / "adapters"))  # slicer_reader.py: Slicer's way of reading a series

import slicer  # noqa: E402
import slicer.util  # noqa: E402
from vtkmodules.vtkCommonCore import vtkStringArray  # noqa: E402
from vtkmodules.vtkCommonMath import vtkMatrix4x4  # noqa: E402

from MedPrintLib.segmentation_node import mask_from_segment, set_segment_from_mask  # noqa: E402
from MedPrintLib.volume_node import volume_from_node, volume_to_node  # noqa: E402
from medprint.segment import SegmentSettings, segment  # noqa: E402
from slicer_reader import read_ct_with_slicer  # noqa: E402


def shared_ct() -> Path:
    for base in (os.environ.get("MEDPRINT_SHARED_DATA", ""), ROOT.parents[1] / "shared" / "data", "/work/shared/data"):
        folder = Path(base) / "ct" / "abdomen-pancreas-ctcb001" if base else None
        if folder and folder.is_dir():
            return folder
    sys.exit("the shared CT series is missing; set MEDPRINT_SHARED_DATA")


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    scene = slicer.vtkMRMLScene()
    app_logic = slicer.vtkSlicerApplicationLogic()  # colour tables for labelmap nodes, as in Slicer
    app_logic.SetMRMLScene(scene)
    app_logic.GetColorLogic().SetMRMLScene(scene)
    app_logic.GetColorLogic().AddDefaultColorNodes()
    logic = slicer.vtkSlicerSegmentationsModuleLogic()
    logic.SetMRMLScene(scene)
    ct = read_ct_with_slicer(scene, shared_ct())
    volume = volume_from_node(ct)
    mask = segment(volume, SegmentSettings(preset="bone"))
    print(f"CT {volume.shape[::-1]} (i, j, k), bone mask {int(mask.sum()):,} voxels; {args.repeats} repeats, "
          "median seconds")

    def ours_volume():
        return volume_from_node(ct)

    def slicer_volume():
        matrix = vtkMatrix4x4()
        ct.GetIJKToRASMatrix(matrix)
        return slicer.util.arrayFromVolume(ct).copy(), matrix

    def ours_import():
        segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode")
        return segmentation, set_segment_from_mask(segmentation, mask, volume.ijk_to_lps, "bone")

    def slicer_import():
        labelmap = scene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode")
        volume_to_node(volume.with_array(mask.astype(np.uint8)), labelmap)  # setup outside the timing below
        segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode")
        start = time.perf_counter()
        assert logic.ImportLabelmapToSegmentationNode(labelmap, segmentation)
        return time.perf_counter() - start, (segmentation, segmentation.GetSegmentation().GetNthSegmentID(0))

    def slicer_export(segmentation, segment_id):
        ids = vtkStringArray()
        ids.InsertNextValue(segment_id)
        labelmap = scene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode")
        assert logic.ExportSegmentsToLabelmapNode(segmentation, ids, labelmap, ct)
        return slicer.util.arrayFromVolume(labelmap) > 0

    times = {name: ([], []) for name in ("volume node -> array", "mask -> segment", "segment -> mask")}
    for repeat in range(args.repeats):
        order = (0, 1) if repeat % 2 == 0 else (1, 0)
        for side in order:
            if side == 0:
                seconds, back = timed(ours_volume)
                assert np.array_equal(back.array, volume.array)
                times["volume node -> array"][0].append(seconds)
                seconds, (segmentation, segment_id) = timed(ours_import)
                times["mask -> segment"][0].append(seconds)
                seconds, exported = timed(lambda: mask_from_segment(segmentation, segment_id, volume.ijk_to_lps,
                                                                    volume.shape))
                times["segment -> mask"][0].append(seconds)
            else:
                seconds, (array, _) = timed(slicer_volume)
                assert np.array_equal(array, volume.array)
                times["volume node -> array"][1].append(seconds)
                seconds, (segmentation, segment_id) = slicer_import()
                times["mask -> segment"][1].append(seconds)
                seconds, exported = timed(lambda: slicer_export(segmentation, segment_id))
                times["segment -> mask"][1].append(seconds)
            assert np.array_equal(exported, mask), "the two ways disagree"
    print(f"{'conversion':<24}{'MedPrintLib':>12}{'Slicer':>10}{'ratio':>8}")
    for name, (ours, theirs) in times.items():
        a, b = statistics.median(ours), statistics.median(theirs)
        print(f"{name:<24}{a:>12.4f}{b:>10.4f}{a / b:>8.2f}")


if __name__ == "__main__":
    main()
