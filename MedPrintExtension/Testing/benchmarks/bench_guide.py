"""Guide benchmark (not a test): a guide with 4 sleeves and 1 slot on a ~500k-triangle real bone.

    python MedPrintExtension/Testing/benchmarks/bench_guide.py [--triangles N] [--repeats N] [--vtk-timeout S]
    make bench

The bone is the shared lumbar CT's bone model (``<shared>/data/ct/abdomen-pancreas-ctcb001``),
subdivided and decimated to about N triangles (default 500,000; cached in bench-out/cache). The plan
is the demo plan (two laminar sleeves, a spinous-process slot) plus two more laminar sleeves. It
prints MedPrint's time per stage (median of the repeats) against the target (under 5 s in total),
then runs the same CSG on the same solids with VTK's vtkBooleanOperationPolyDataFilter (the
vtkbool-style boolean) in a child process, and prints its time and whether its result is watertight.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path.insert(0, str(REPO / "MedPrintExtension" / "MedPrintModule"))
SHARED = next((p for p in (Path(os.environ.get("MEDPRINT_SHARED_DATA", "")), REPO.parent / "shared" / "data",
                           Path("/work/shared/data")) if str(p) != "." and p.is_dir()), None)
TARGET_S = 5.0


def bone_mesh(cache: Path, triangles: int):
    """The lumbar CT's bone model at about ``triangles`` (midpoint-subdivided, then decimated)."""
    from medprint.mesh import Mesh, read_stl, write_stl

    path = cache / f"lumbar-bone-{triangles}.stl"
    if not path.exists():
        import trimesh
        from vtkmodules.vtkFiltersCore import vtkQuadricDecimation

        from medprint.pipeline import make_model
        from medprint.volume import load_volume

        bone = make_model(load_volume(SHARED / "ct" / "abdomen-pancreas-ctcb001")).mesh
        vertices, faces = trimesh.remesh.subdivide(bone.vertices, bone.faces)
        fine = Mesh(vertices, faces)
        decimate = vtkQuadricDecimation()
        decimate.SetInputData(fine.to_polydata())
        decimate.SetTargetReduction(1.0 - triangles / fine.triangle_count)
        decimate.VolumePreservationOn()
        decimate.Update()
        write_stl(Mesh.from_polydata(decimate.GetOutput()), path)
    return read_stl(path)


def four_sleeve_plan(bone):
    """The demo plan plus two laminar sleeves 6 mm below the first two, entries on this bone's surface."""
    from dataclasses import replace

    from medprint.guide.plan import load_plan
    from medprint.guide.step import DEMO_PLAN
    from medprint.rays import RayCaster

    plan = load_plan(DEMO_PLAN)
    extra = []
    caster = RayCaster(bone)
    for t, x in zip(plan.trajectories, (-5.0, 19.0)):
        start = np.array([[x, 300.0, t.entry_lps[2] - 6.0]])
        _, distance = caster.first_hits(start, np.array([[0.0, -1.0, 0.0]]), 0.0, 300.0)
        entry = (x, 300.0 - float(distance[0]), t.entry_lps[2] - 6.0)
        extra.append(replace(t, name=t.name + "-low", entry_lps=entry))
    plan = replace(plan, trajectories=[*plan.trajectories, *extra],
                   contact=replace(plan.contact, radius_mm=10.0))
    return plan.validated()


def vtk_csg(operands, queue) -> None:
    """The design's CSG sequence with vtkBooleanOperationPolyDataFilter; puts (seconds, watertight,
    triangles, failed operations) on ``queue``. A failed operation (VTK reports an error and
    returns nothing) is listed and skipped, so the rest of the sequence still runs."""
    from vtkmodules.vtkCommonCore import vtkObject
    from vtkmodules.vtkFiltersCore import vtkCleanPolyData, vtkTriangleFilter
    from vtkmodules.vtkFiltersGeneral import vtkBooleanOperationPolyDataFilter

    from medprint.guide.solids import to_arrays
    from medprint.mesh import Mesh

    vtkObject.GlobalWarningDisplayOff()
    failed = []

    def poly(solid):
        return Mesh(*to_arrays(solid)).to_polydata()

    def boolean(a, b, op, name):
        f = vtkBooleanOperationPolyDataFilter()
        {"union": f.SetOperationToUnion, "difference": f.SetOperationToDifference}[op]()
        f.SetInputData(0, a)
        f.SetInputData(1, b)
        f.Update()
        if f.GetOutput().GetNumberOfPolys() == 0:
            failed.append(name)
            return a
        tri = vtkTriangleFilter()
        tri.SetInputData(f.GetOutput())
        tri.Update()
        return tri.GetOutput()

    o = operands
    start = time.perf_counter()
    result = boolean(poly(o.plate), poly(o.blocked), "difference", "plate - blocked bone")
    names = [f"sleeve {k + 1}" for k in range(len(o.tubes))] + [f"housing {k + 1}" for k in range(len(o.housings))]
    for feature, seat, name in zip([*o.tubes, *o.housings], o.seats, names):
        result = boolean(result, boolean(poly(feature), poly(seat), "difference", f"{name} - plate"), "union",
                         f"+ {name}")
    cutters = [*o.channels, *o.slots] + ([o.label] if o.label is not None else [])
    for k, cutter in enumerate(cutters):
        result = boolean(result, poly(cutter), "difference", f"- cutter {k + 1}")
    seconds = time.perf_counter() - start
    clean = vtkCleanPolyData()
    clean.SetInputData(result)
    clean.Update()
    mesh = Mesh.from_polydata(clean.GetOutput())
    queue.put((seconds, mesh.triangle_count > 0 and mesh.is_watertight(), mesh.triangle_count, failed))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--triangles", type=int, default=500_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--vtk-timeout", type=float, default=300.0, help="seconds before VTK's run is stopped")
    ap.add_argument("--cache", type=Path, default=REPO / "bench-out" / "cache")
    args = ap.parse_args()
    if SHARED is None:
        sys.exit("the shared CT data is missing; set MEDPRINT_SHARED_DATA")
    args.cache.mkdir(parents=True, exist_ok=True)

    from medprint.guide.design import design_guide
    from medprint.guide.verify import verify_guide

    bone = bone_mesh(args.cache, args.triangles)
    plan = four_sleeve_plan(bone)
    print(f"bone: {bone.triangle_count:,} triangles; plan: {len(plan.trajectories)} sleeves, {len(plan.cuts)} slot")
    runs = []
    for _ in range(args.repeats):
        start, cpu = time.perf_counter(), time.process_time()
        guide = design_guide(plan, bone)
        runs.append({**guide.stats["seconds"], "total": time.perf_counter() - start,
                     "cpu": time.process_time() - cpu})
    median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    start = time.perf_counter()
    report = verify_guide(guide, plan, bone)
    verify_s = time.perf_counter() - start
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall times grow with it; cpu is this process's)")
    print("MedPrint design, median of", args.repeats, "runs: " + "  ".join(f"{k} {v:.2f} s" for k, v in median.items()))
    print(f"  total {median['total']:.2f} s (target < {TARGET_S:g} s: {'met' if median['total'] < TARGET_S else 'NOT met'});"
          f" guide {guide.mesh.triangle_count:,} triangles, watertight {guide.mesh.is_watertight()};"
          f" verification {verify_s:.2f} s, {'all checks passed' if report.passed else report.failures()}")

    queue = multiprocessing.get_context("fork").Queue()
    child = multiprocessing.get_context("fork").Process(target=vtk_csg, args=(guide.operands, queue))
    child.start()
    child.join(args.vtk_timeout)
    if child.is_alive():
        child.kill()
        child.join()
        print(f"VTK vtkBooleanOperationPolyDataFilter, same CSG: did not finish within {args.vtk_timeout:g} s "
              f"(manifold3d CSG {median['csg']:.2f} s)")
        return
    if queue.empty():
        print(f"VTK vtkBooleanOperationPolyDataFilter, same CSG: the process died (exit code {child.exitcode}) "
              f"without a result (manifold3d CSG {median['csg']:.2f} s)")
        return
    seconds, watertight, triangles, failed = queue.get()
    ratio = seconds / median["csg"] if median["csg"] > 0 else float("inf")
    print(f"VTK vtkBooleanOperationPolyDataFilter, same CSG: {seconds:.2f} s ({ratio:.1f} x manifold3d's "
          f"{median['csg']:.2f} s), {triangles:,} triangles, watertight {watertight}; "
          f"{len(failed)} operation(s) failed" + (f": {', '.join(failed)}" if failed else ""))


if __name__ == "__main__":
    main()
