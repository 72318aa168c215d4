"""MedPrint's pipeline for the benchmark, run in its own process (one run per process).

load_volume -> make_model(volume, ModelSettings(preset="bone", low_hu=HU)) -> write_stl(space="LPS").
Everything the pipeline uses (medprint, pydicom, scipy.ndimage, the VTK filters) is imported up
front, so the stage times leave out import time as the Slicer reference's do (inside Slicer all of
it is loaded already); the import time and the RSS after the imports are reported separately.

Usage: python medprint_pipeline.py DICOM_FOLDER OUT.stl HU    (medprint must be importable)
Prints one JSON line with stage times (s), triangles, peak RSS and baseline RSS (MB).
"""
from process_stats import peak_rss_mb, vmhwm_mb
import time

_t_import = time.perf_counter()
import argparse  # noqa: E402
import json  # noqa: E402

import numpy as np  # noqa: E402
import pydicom  # noqa: E402,F401
import scipy.ndimage  # noqa: E402,F401
import vtkmodules.util.numpy_support  # noqa: E402,F401
import vtkmodules.vtkCommonDataModel  # noqa: E402,F401
import vtkmodules.vtkFiltersCore  # noqa: E402,F401
import vtkmodules.vtkFiltersGeneral  # noqa: E402,F401
from vtkmodules.vtkCommonCore import vtkSMPTools  # noqa: E402

import medprint.dicom  # noqa: E402,F401
import medprint.surface  # noqa: E402,F401
from medprint.mesh import write_stl  # noqa: E402
from medprint.pipeline import ModelSettings, make_model  # noqa: E402
from medprint.runtime import tune_process  # noqa: E402
from medprint.volume import load_volume  # noqa: E402

tune_process()  # as the `medprint` command does

IMPORT_S = time.perf_counter() - _t_import
BASELINE_RSS_MB = peak_rss_mb()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("out")
    ap.add_argument("hu", type=float)
    args = ap.parse_args()

    t = {}
    t0 = time.perf_counter()
    volume = load_volume(args.folder)
    t["load"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    result = make_model(volume, ModelSettings(preset="bone", low_hu=args.hu))
    t_model = time.perf_counter() - t1
    t["segment"] = result.stats["seconds"]["segment"]
    t["surface"] = result.stats["seconds"]["surface"]
    t2 = time.perf_counter()
    write_stl(result.mesh, args.out, space="LPS")
    t["export"] = time.perf_counter() - t2
    t["total"] = time.perf_counter() - t0
    stats = {k: v for k, v in result.stats.items() if k != "seconds"}
    print(json.dumps({
        "pipeline": "medprint", "dims": list(volume.shape[::-1]), "spacing": volume.spacing.tolist(),
        "triangles": result.mesh.triangle_count, "times_s": t, "make_model_s": t_model,
        "import_s": IMPORT_S, "baseline_rss_mb": BASELINE_RSS_MB, "smp_backend": vtkSMPTools.GetBackend(),
        "volume_warnings": list(volume.warnings), "stats": stats, "array_dtype": str(volume.array.dtype),
        "peak_rss_mb": peak_rss_mb(), "vmhwm_mb": vmhwm_mb()}, default=float))


if __name__ == "__main__":
    main()
