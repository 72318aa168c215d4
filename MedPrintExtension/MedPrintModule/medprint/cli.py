"""``medprint``: the command line (typer), with a progress bar per stage and a one-screen summary."""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import __version__
from .errors import InputError, MedPrintError
from .export_cli import export, qa, repair
from .guide.cli import guide_command
from .mesh import write_stl
from .pipeline import SEGMENT_SHARE, ModelSettings, make_model
from .printing.cli import print_command, printers_app
from .registry.cli import app as registry_app
from .runtime import tune_process
from .segment import PRESETS
from .surface import available_methods
from .volume import load_volume
from .workflow import DEMO_CT

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="MedPrint: CT/MR -> print-ready models (LPS millimetres).")
console = Console(stderr=True)
out = Console()


@contextmanager
def _stages():
    """A rich progress display; ``stage(name)`` returns a progress(fraction, message) callback."""
    with Progress(TextColumn("{task.fields[stage]:<8}"), BarColumn(), TaskProgressColumn(),
                  TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                  transient=False) as bar:
        def stage(name: str):
            task = bar.add_task("", total=1.0, stage=name)

            def report(fraction: float, message: str) -> None:
                bar.update(task, completed=fraction, description=message)
            return report
        yield stage


def _fail(err: MedPrintError) -> None:
    console.print(f"[bold red]error:[/] {err.message}")
    if err.hint:
        console.print(f"[yellow]what to do:[/] {err.hint}")
    if err.detail:
        logging.getLogger("medprint").debug(err.detail)
    raise typer.Exit(2 if isinstance(err, InputError) else 1)


def _summary(title: str, stats: dict, times: dict, output: Path, space: str, warnings: tuple[str, ...]) -> None:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_row("output", str(output))
    table.add_row("voxels in segment", f"{stats['voxels']:,}")
    table.add_row("triangles", f"{stats['triangles']:,}")
    table.add_row("volume", f"{stats['volume_cm3']:.2f} cm³ (mask {stats['mask_volume_cm3']:.2f} cm³)")
    table.add_row("watertight", "yes" if stats["watertight"] else "[red]no[/]")
    table.add_row("coordinates", f"{space}, millimetres")
    table.add_row("time", "  ".join(f"{k} {v:.2f} s" for k, v in times.items()))
    out.print(table)
    for w in warnings:
        console.print(f"[yellow]warning:[/] {w}")


@app.command()
def model(
    input: Path = typer.Argument(..., help="DICOM folder, .nrrd/.nhdr or .nii/.nii.gz volume"),
    output: Path = typer.Option(..., "-o", "--output", help="STL file to write"),
    preset: str = typer.Option("bone", help=f"threshold preset: {', '.join(PRESETS)}"),
    low: Optional[float] = typer.Option(None, help="lower threshold in HU (overrides the preset)"),
    high: Optional[float] = typer.Option(None, help="upper threshold in HU (overrides the preset)"),
    smoothing: float = typer.Option(0.5, min=0.0, max=1.0, help="Slicer's smoothing factor, 0-1"),
    min_island: float = typer.Option(100.0, min=0.0, help="remove islands smaller than this (mm³)"),
    keep_largest: bool = typer.Option(False, help="keep only the largest connected piece"),
    fill_holes: bool = typer.Option(False, help="fill enclosed cavities"),
    closing: float = typer.Option(0.0, min=0.0, help="closing radius in mm (bridges small gaps)"),
    triangles: Optional[int] = typer.Option(None, min=100, help="decimate to about this many triangles"),
    method: str = typer.Option("auto", help="surface method: auto or one of " + ", ".join(available_methods())),
    space: str = typer.Option("LPS", help="coordinate system of the STL: LPS (Slicer's default) or RAS"),
    series: str = typer.Option("", help="SeriesInstanceUID to use when the folder holds several series"),
    allow_gaps: bool = typer.Option(False, help="interpolate across missing slices instead of refusing"),
    as_json: bool = typer.Option(False, "--json", help="print the summary as JSON"),
):
    """Turn a CT series into a watertight, smoothed surface (STL, millimetres)."""
    settings = ModelSettings(preset=preset, low_hu=low, high_hu=high, smoothing=smoothing,
                             min_island_mm3=min_island, keep_largest=keep_largest, fill_holes=fill_holes,
                             closing_mm=closing, target_triangles=triangles, method=method)
    if space not in ("LPS", "RAS"):
        _fail(InputError(f"'{space}' is not a coordinate system MedPrint writes.", hint="use LPS or RAS"))
    times = {}
    try:
        with _stages() as stage:
            start = time.perf_counter()
            volume = load_volume(input, series_uid=series, allow_gaps=allow_gaps, progress=stage("load"))
            times["load"] = time.perf_counter() - start
            result = make_model(volume, settings, progress=_split(stage("segment"), stage("surface")))
            times.update(result.stats["seconds"])
            start = time.perf_counter()
            report = stage("write")
            write_stl(result.mesh, output, space=space)
            report(1.0, output.name)
            times["write"] = time.perf_counter() - start
    except MedPrintError as err:
        _fail(err)
    if as_json:
        out.print_json(json.dumps({**result.stats, "seconds": times, "output": str(output),
                                   "warnings": list(volume.warnings)}))
    else:
        _summary(f"MedPrint {__version__} - {preset} model", result.stats, times, output, space, volume.warnings)
    if not result.stats["watertight"]:
        raise typer.Exit(1)


def _split(first, second):
    """One 0..1 progress callback of ``make_model`` feeding two bars: segment, then surface."""
    def report(fraction: float, message: str) -> None:
        if fraction < SEGMENT_SHARE:
            first(fraction / SEGMENT_SHARE, message)
        else:
            first(1.0, "done")
            second((fraction - SEGMENT_SHARE) / (1.0 - SEGMENT_SHARE), message)
    return report




@app.command()
def demo(
    folder: Optional[Path] = typer.Option(None, "--out", help="case folder to write (default: a new temp folder)"),
    input: Optional[Path] = typer.Option(None, "--input", help="use this CT instead of the built-in one"),
    phantom: bool = typer.Option(False, "--phantom", help="use a procedural CT phantom written as DICOM"),
):
    """Run the whole workflow on a built-in CT: model, guide, export, print (slice), register (no network)."""
    from .phantom import demo_phantom
    from .workflow import STEP_RUNNERS, create_case, run_case, run_later_step

    if phantom and input:
        _fail(InputError("Choose either --input or --phantom, not both."))
    folder = folder or Path(tempfile.mkdtemp(prefix="medprint-demo-"))
    try:
        case = create_case(folder, "demo")
        with _stages() as stage:
            if phantom:
                input = folder / "input-dicom"
                report = stage("phantom")
                demo_phantom(input, progress=report, overwrite=True)
                report(1.0, f"CT phantom written as DICOM to {input}")
            result, stl = run_case(case, input or DEMO_CT, ModelSettings(), progress=stage("model"))
            summaries = {step: run_later_step(case, step, stage(step)) for step in STEP_RUNNERS}
    except MedPrintError as err:
        _fail(err)
    _summary("MedPrint demo - bone model", result.stats, result.stats["seconds"], stl, "LPS",
             tuple(case.source["warnings"]))
    for step, state in case.steps.items():
        reason = summaries.get(step) or case.to_json()["unavailable"].get(step, "")
        out.print(f"  {step:<9} {state}" + (f"  ({reason})" if reason else ""))
    out.print(f"Case folder: [bold]{folder}[/]")


# The other steps' commands live beside their cores (heavy libraries are imported inside the commands).
app.command("guide")(guide_command)
app.command("qa")(qa)
app.command("repair")(repair)
app.command("export")(export)
app.command("print")(print_command)
app.add_typer(printers_app, name="printers")
app.add_typer(registry_app, name="registry")


@app.callback()
def main(verbose: bool = typer.Option(False, "-v", "--verbose", help="log technical details")):
    tune_process()
    logging.basicConfig(level=logging.DEBUG if verbose else logging.ERROR, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")


if __name__ == "__main__":
    app()
