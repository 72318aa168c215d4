"""``medprint qa | repair | export``: check, repair and export meshes or a case folder.

Heavy libraries load inside the commands, so ``medprint --help`` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from .errors import InputError, MedPrintError


def _printer_options(printer: str, build: Optional[list[float]], min_wall: Optional[float]):
    from .build_volume import printer_profile

    return printer_profile(printer, tuple(build) if build else None, min_wall)


def _meshes(input: Path):
    """(part name, mesh) of a mesh file (.stl .obj .ply) or of every part of a case folder."""
    from .mesh import Mesh, read_stl

    if input.is_dir():
        from .export_step import case_parts
        from .workflow import open_case

        case = open_case(input)
        return [(name, read_stl(path)) for name, path, _ in case_parts(case)], case
    if not input.exists():
        raise InputError(f"'{input}' does not exist.", hint="give a mesh file or a case folder")
    suffix = input.suffix.lower()
    if suffix == ".stl":
        return [(input.stem, read_stl(input))], None
    if suffix in (".obj", ".ply"):
        import trimesh

        try:
            tm = trimesh.load_mesh(str(input), process=True, force="mesh")
        except Exception as exc:
            raise InputError(f"'{input.name}' is not a readable mesh file.", detail=str(exc)) from exc
        return [(input.stem, Mesh.from_trimesh(tm))], None
    raise InputError(f"'{input.name}' is not a mesh MedPrint reads.",
                     hint="give an .stl, .obj or .ply file or a case folder")


def _fail(err: MedPrintError) -> None:
    from .cli import _fail as fail

    fail(err)


PRINTER_HELP = "printer profile: prusa-mk4, prusa-mini or form-3"


def qa(
    input: Path = typer.Argument(..., help="mesh file (.stl/.obj/.ply) or case folder"),
    printer: str = typer.Option("prusa-mk4", help=PRINTER_HELP),
    build: Optional[list[float]] = typer.Option(None, help="build volume x y z in mm (give it three times)"),
    min_wall: Optional[float] = typer.Option(None, help="thinnest printable wall, mm (default: the printer's)"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
):
    """Check meshes for printing. Exit status: 0 printable, 1 not printable as is, 2 could not read."""
    from .cli import out
    from .qa import PRINTABLE, QASettings, check_mesh

    try:
        settings = QASettings(printer=_printer_options(printer, build, min_wall))
        reports = {name: check_mesh(mesh, settings) for name, mesh in _meshes(input)[0]}
    except MedPrintError as err:
        _fail(err)
    if as_json:
        out.print_json(json.dumps({name: r.to_dict() for name, r in reports.items()}))
    else:
        for name, r in reports.items():
            out.print(f"[bold]{name}[/]: {r.verdict}  ({r.triangles:,} triangles, {r.volume_mm3 / 1000:.2f} cm³, "
                      f"{' × '.join(f'{s:.1f}' for s in r.size_mm)} mm, thinnest wall {r.min_wall_mm:.2f} mm)")
            for reason in r.reasons:
                out.print(f"  - {reason}")
    if any(r.verdict != PRINTABLE for r in reports.values()):
        raise typer.Exit(1)


def repair(
    input: Path = typer.Argument(..., help="mesh file (.stl/.obj/.ply)"),
    output: Path = typer.Option(..., "-o", "--output", help="repaired mesh to write (.stl .obj .ply .3mf)"),
    tolerance: float = typer.Option(0.1, min=0.0, help="the surface may move at most this far, mm"),
    max_hole: float = typer.Option(30.0, min=0.0, help="fill holes whose rim is at most this long, mm"),
    as_json: bool = typer.Option(False, "--json", help="print what was done as JSON"),
):
    """Repair a mesh; refused when the surface would move more than --tolerance. Exit 0 repaired and
    printable, 1 refused or still not printable, 2 could not read."""
    from .cli import out
    from .export import Part, write_parts
    from .qa import PRINTABLE, check_mesh
    from .repair import RepairSettings, repair_mesh

    try:
        (name, mesh), = _meshes(input)[0]
        result = repair_mesh(mesh, RepairSettings(tolerance_mm=tolerance, max_hole_mm=max_hole))
        report = check_mesh(result.mesh)
        write_parts([Part(name, result.mesh)], output, space=result.mesh.space)
    except MedPrintError as err:
        if isinstance(err, InputError):
            _fail(err)
        out.print(f"[red]not repaired:[/] {err}")
        raise typer.Exit(1)
    if as_json:
        out.print_json(json.dumps({**result.summary(), "verdict": report.verdict, "reasons": report.reasons,
                                   "output": str(output)}))
    else:
        done = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in result.actions.items() if v) or "nothing to do"
        out.print(f"{output}: {done}; surface moved ≤ {result.hausdorff_mm:.4f} mm; now {report.verdict}")
        for reason in report.reasons:
            out.print(f"  - {reason}")
    if report.verdict != PRINTABLE:
        raise typer.Exit(1)


def export(
    input: Path = typer.Argument(..., help="case folder, or a mesh file with -o"),
    output: Optional[Path] = typer.Option(None, "-o", "--output",
                                          help="write all parts to this file (.stl .obj .ply .3mf .dcm) instead "
                                               "of running the case's export step"),
    space: str = typer.Option("LPS", help="coordinate system of the file: LPS (Slicer's default) or RAS"),
    ascii_stl: bool = typer.Option(False, "--ascii", help="ASCII STL instead of binary"),
    each: bool = typer.Option(False, "--each", help="one file per part, in the folder -o names"),
    printer: Optional[str] = typer.Option(None, help=PRINTER_HELP + " (default: a printer of the case's guide "
                                                     "plan technology, resin form-3, FDM prusa-mk4; else prusa-mk4)"),
    tolerance: float = typer.Option(0.1, min=0.0, help="repair may move the surface at most this far, mm"),
    no_repair: bool = typer.Option(False, "--no-repair", help="export the parts as they are"),
    demographics_from: Optional[Path] = typer.Option(
        None, help="copy patient/study demographics from this DICOM file into .dcm output (off by default)"),
):
    """Export a case (3MF, STL, DICOM Encapsulated STL, QA report, bundle) or convert meshes."""
    from .cli import out

    if space not in ("LPS", "RAS"):
        _fail(InputError(f"'{space}' is not a coordinate system MedPrint writes.", hint="use LPS or RAS"))
    try:
        if output is None:
            from .export_step import ExportSettings, export_case
            from .workflow import open_case

            if not input.is_dir():
                raise InputError("Give a case folder, or -o to convert a mesh file.")
            record = export_case(open_case(input), ExportSettings(printer=printer, tolerance_mm=tolerance,
                                                                  repair=not no_repair))
            for name, part in record["parts"].items():
                out.print(f"[bold]{name}[/]: {part['verdict']}" + (f" ({part['repair_refused']})"
                                                                   if part["repair_refused"] else ""))
            for file in record["files"]:
                out.print(f"  {input / file}")
            return
        meshes, case = _meshes(input)
        if output.suffix.lower() == ".dcm":
            from .dicom_stl import read_demographics, write_encapsulated_stl

            if case is None:
                raise InputError("DICOM Encapsulated STL needs a case folder (its source series' UIDs).")
            demographics = read_demographics(demographics_from) if demographics_from else None
            for name, mesh in meshes:
                target = output if len(meshes) == 1 else output.with_name(f"{name}.dcm")
                write_encapsulated_stl(mesh, target, case.source, title=name, demographics=demographics)
                out.print(str(target))
            return
        from .export import COLORS, Part, write_each, write_parts

        colors = list(COLORS.values())
        parts = [Part(name, mesh, colors[min(n, len(colors) - 1)]) for n, (name, mesh) in enumerate(meshes)]
        if each:
            paths = write_each(parts, output, output.suffix.lstrip(".") or "stl", space, ascii_stl)
        else:
            paths = [write_parts(parts, output, space, ascii_stl)]
        for path in paths:
            out.print(str(path))
    except MedPrintError as err:
        _fail(err)
