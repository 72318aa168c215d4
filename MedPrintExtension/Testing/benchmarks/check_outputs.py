"""Checks the two STL outputs of one dataset (run by run.py in its own process).

    python check_outputs.py MEDPRINT.stl SLICER.stl VOXEL_MM SAMPLES

Prints one JSON line: per mesh the triangle count, watertightness (trimesh after merging vertices,
and ``medprint.mesh.read_stl(...).is_watertight()``), enclosed volume and file size; and the
symmetric surface distance between the two (``surface_distance.py``), also in voxels of VOXEL_MM.
"""

import json
import sys
import time
from pathlib import Path

PIPELINES = ("medprint", "slicer")


def check_outputs(stls: dict, spacing_mm: float, samples: int) -> dict:
    """Triangles, watertightness (trimesh and medprint), volume and the surface distance of the STLs."""
    from concurrent.futures import ThreadPoolExecutor

    import trimesh

    from medprint.mesh import read_stl
    from surface_distance import symmetric_distance

    start = time.perf_counter()

    def load(path):
        if path.suffix == ".trimesh":
            return trimesh.load(str(path.with_suffix(".stl")), process=True)  # merges coincident vertices
        return read_stl(path)

    jobs = [stls[p].with_suffix(s) for p in PIPELINES for s in (".trimesh", ".stl")]
    with ThreadPoolExecutor(max_workers=2) as pool:  # the merges are numpy sorts; two at once
        loaded = dict(zip(jobs, pool.map(load, jobs)))
    meshes, checks = {}, {}
    for name, path in stls.items():
        tm, ours = loaded[path.with_suffix(".trimesh")], loaded[path]
        meshes[name] = tm
        checks[name] = {
            "stl_triangles": int(len(tm.faces)),
            "watertight_trimesh": bool(tm.is_watertight),
            "watertight_medprint": bool(ours.is_watertight()),
            "volume_cm3": abs(ours.volume_mm3()) / 1000.0,
            "stl_mb": path.stat().st_size / 1e6,
        }
    loaded_s = time.perf_counter() - start
    t = time.perf_counter()
    dist = symmetric_distance(meshes["medprint"], meshes["slicer"], samples=samples)
    dist["seconds"] = time.perf_counter() - t
    dist["mean_voxels"] = dist["mean_mm"] / spacing_mm
    dist["voxel_mm"] = spacing_mm
    return {"meshes": checks, "distance": dist, "seconds": time.perf_counter() - start, "load_check_seconds": loaded_s}


if __name__ == "__main__":
    a, b, voxel, n = sys.argv[1:5]
    print(json.dumps(check_outputs({"medprint": Path(a), "slicer": Path(b)}, float(voxel), int(n))))
