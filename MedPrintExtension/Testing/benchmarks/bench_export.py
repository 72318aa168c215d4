"""Export benchmark (not a test): QA + repair + 3MF export of a ~2-million-triangle bone mesh.

    python MedPrintExtension/Testing/benchmarks/bench_export.py [--cache DIR] [--triangles N]
    make bench

The mesh is the bone model of the benchmark's 512 x 512 x 400 CT phantom (phantom_scene.py),
decimated to about N triangles (default 2,000,000) and cached as an STL. In the same process it
times MedPrint's full QA (topology, shells, holes, self-intersections, wall thickness), its repair
pass and its 3MF writer, against trimesh's own checks (``is_watertight``, ``is_winding_consistent``)
and trimesh's 3MF export, and prints the ratios. Target: full QA under 10 s on the 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path.insert(0, str(REPO / "MedPrintExtension" / "MedPrintModule"))
sys.path.insert(0, str(HERE))


def bone_mesh(cache: Path, triangles: int):
    """The phantom's bone model decimated to about ``triangles``, cached as an STL in ``cache``."""
    from medprint.mesh import read_stl, write_stl

    path = cache / f"phantom-bone-{triangles}.stl"
    if not path.exists():
        from medprint.pipeline import ModelSettings, make_model
        from medprint.volume import load_volume
        from phantom_scene import ensure_phantom

        volume = load_volume(ensure_phantom(cache))
        write_stl(make_model(volume, ModelSettings(target_triangles=triangles)).mesh, path)
    return read_stl(path)


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("MEDPRINT_BENCH_CACHE",
                                                                      REPO / "bench-out" / "cache")))
    ap.add_argument("--triangles", type=int, default=2_000_000)
    args = ap.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)

    import trimesh

    from medprint.export import Part, write_parts
    from medprint.qa import check_mesh
    from medprint.repair import repair_mesh
    from medprint.runtime import tune_process

    tune_process()
    mesh = bone_mesh(args.cache, args.triangles)
    print(f"bone mesh: {mesh.triangle_count:,} triangles, {len(mesh.vertices):,} vertices")
    with tempfile.TemporaryDirectory() as folder:
        report, t_qa = timed(check_mesh, mesh)
        result, t_repair = timed(repair_mesh, mesh, checked=report)  # as the export step runs it
        alone, t_alone = timed(repair_mesh, mesh)  # a full repair pass that knows nothing
        _, t_3mf = timed(write_parts, [Part("bone", result.mesh)], Path(folder) / "bone.3mf")
        size = (Path(folder) / "bone.3mf").stat().st_size

        tm = trimesh.Trimesh(mesh.vertices, mesh.faces, process=False)
        (watertight, consistent), t_tm_checks = timed(lambda: (tm.is_watertight, tm.is_winding_consistent))
        data, t_tm_3mf = timed(trimesh.exchange.threemf.export_3MF, tm)

    print(f"QA verdict: {report.verdict}; watertight {report.watertight} (trimesh {watertight}, "
          f"winding consistent {consistent}); thinnest wall {report.min_wall_mm:.3f} mm; "
          f"self-intersecting faces {report.self_intersecting_faces}")
    print("QA stages: " + ", ".join(f"{k} {v:.2f} s" for k, v in report.seconds.items()))
    print(f"repair: {', '.join(f'{k} {v}' for k, v in alone.actions.items() if v) or 'nothing to do'}; "
          f"moved {alone.hausdorff_mm} mm")
    rows = [("full QA (incl. wall thickness)", t_qa, t_tm_checks, "trimesh is_watertight + is_winding_consistent"),
            ("repair after QA", t_repair, None, "(given the QA report)"),
            ("repair alone", t_alone, None, "(every repair check run again)"),
            ("3MF export", t_3mf, t_tm_3mf, f"trimesh export_3MF ({size / 1e6:.1f} MB vs {len(data) / 1e6:.1f} MB)"),
            ("QA + repair + 3MF", t_qa + t_repair + t_3mf, t_tm_checks + t_tm_3mf, "trimesh checks + 3MF")]
    print(f"{'stage':<34}{'MedPrint':>10}{'trimesh':>10}{'ratio':>8}  reference")
    for name, ours, theirs, what in rows:
        ratio = f"{ours / theirs:8.2f}" if theirs else " " * 8
        print(f"{name:<34}{ours:9.2f}s" + (f"{theirs:9.2f}s" if theirs else " " * 10) + f"{ratio}  {what}")
    print(f"target: full QA < 10 s -> {'met' if t_qa < 10 else 'NOT met'} ({t_qa:.2f} s)")


if __name__ == "__main__":
    main()
