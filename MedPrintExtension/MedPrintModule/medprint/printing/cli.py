"""``medprint print`` and ``medprint printers list|add|test|remove``. Heavy imports stay inside the
commands; the progress bars and error display are the main CLI's."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

out = Console()
printers_app = typer.Typer(add_completion=False, no_args_is_help=True,
                           help="Printers MedPrint sends jobs to (kept in the user's config folder).")


def print_command(
    targets: List[Path] = typer.Argument(..., help="a case folder, STL/3MF parts, or one sliced .gcode/.sl1"),
    printer: Optional[str] = typer.Option(None, "--printer", "-p", help="configured printer to send to"),
    profile: Optional[str] = typer.Option(None, help="printer profile to slice for (default: the printer's)"),
    material: Optional[str] = typer.Option(None, help="PLA, PETG, resin-standard, resin-biocompatible"),
    layer_height: Optional[float] = typer.Option(None, help="layer height, mm"),
    infill: float = typer.Option(15.0, help="infill, percent"),
    supports: bool = typer.Option(False, help="generate supports"),
    slicer: str = typer.Option("prusa", help="prusa (PrusaSlicer) or cura (CuraEngine, filament only)"),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="G-code file to write"),
    dry_run: bool = typer.Option(False, "--dry-run", help="stop after slicing"),
    follow_job: bool = typer.Option(True, "--follow/--no-follow", help="follow the job until it ends"),
):
    """Slice (if needed), upload, start and follow a print job."""
    from ..cli import _fail, _stages
    from ..errors import InputError, MedPrintError
    from .config import get_printer
    from .gcode import format_duration
    from .job import SLICED_SUFFIXES, prepare, send
    from .profiles import default_material, material_profile, printer_profile, printers_that_fit
    from .slicing import SliceSettings, part_size_mm

    try:
        config = get_printer(printer) if printer else None
        if config is None and not dry_run:
            raise InputError("Say which printer to send to (--printer NAME), or slice only (--dry-run).")
        if config is not None and config.takes_3mf and not dry_run:
            model, label = _model(targets)
            with _stages() as stage:
                status = send(config, model, f"{label}{model.suffix.lower()}", follow_job, stage("print"))
            out.print(f"{config.name} sliced {model.name} itself: {status.state}")
            return
        parts, label, folder = _parts(targets)
        if profile or config:
            chosen = printer_profile(profile or config.profile)
        elif parts[0].suffix.lower() in SLICED_SUFFIXES:
            chosen = printer_profile("prusa-mk4")
        else:
            fitting = printers_that_fit([part_size_mm(p) for p in parts])
            chosen = fitting[0] if fitting else printer_profile("prusa-mk4")  # the slicer step explains
        mat = material_profile(material or default_material(chosen), chosen)
        output = output or folder / f"{label}-{chosen.name}{chosen.sliced_suffix}"
        with _stages() as stage:
            sliced = prepare(parts, output, chosen, mat, SliceSettings(layer_height, infill, supports),
                             stage("slice"), slicer)
        est = sliced.estimates
        table = Table(title=f"Sliced for {chosen.name} ({mat.name})" + (f" with {sliced.slicer}" if sliced.slicer else ""),
                      show_header=False, title_justify="left")
        table.add_row("output", str(sliced.output))
        table.add_row("print time", format_duration(est.print_seconds) if est.print_seconds else "unknown")
        if est.filament_g is not None:
            table.add_row("filament", f"{est.filament_g:.1f} g, {est.filament_mm / 1000:.2f} m")
        if est.material_cm3 is not None:
            table.add_row("material", f"{est.material_cm3:.1f} cm³")
        if est.layers:
            table.add_row("layers", str(est.layers))
        out.print(table)
        if dry_run:
            out.print("Dry run: stopped after slicing.")
            return
        try:
            with _stages() as stage:
                status = send(config, sliced.output, f"{label}{sliced.output.suffix}", follow_job, stage("print"))
        except KeyboardInterrupt:  # a serial job stops with MedPrint (heaters off); a server's goes on
            out.print("Stopped." if config.kind == "serial" else
                      f"Stopped following; the job goes on on {config.name} (medprint printers test {config.name}).")
            raise typer.Exit(130)
        out.print(f"{config.name}: {status.state}" + (f" ({status.message})" if status.message else ""))
    except MedPrintError as err:
        _fail(err)


def _parts(targets: list[Path]) -> tuple[list[Path], str, Path]:
    """The files to print, a label for output names, and the folder for the G-code."""
    from ..errors import InputError
    from ..workflow import open_case
    from .step import case_parts

    if len(targets) == 1 and targets[0].is_dir():
        case = open_case(targets[0])
        return case_parts(case), case.label, case.path("print")
    missing = [t.name for t in targets if not t.is_file()]
    if missing:
        raise InputError(f"'{missing[0]}' does not exist.")
    return targets, targets[0].stem, targets[0].parent


def _model(targets: list[Path]) -> tuple[Path, str]:
    """The model a printer that slices itself gets: a case's 3MF from the export step, or one
    given .3mf/.stl file; and a label for its remote name."""
    from ..errors import InputError
    from ..workflow import open_case
    from .step import export_3mf

    if len(targets) == 1 and targets[0].is_dir():
        case = open_case(targets[0])
        model = export_3mf(case)
        if model is None:
            raise InputError("This printer slices 3MF itself, and the case has no 3MF yet.",
                             hint="run the export step first (medprint export)")
        return model, case.label
    if len(targets) != 1 or targets[0].suffix.lower() not in (".3mf", ".stl") or not targets[0].is_file():
        raise InputError("This printer slices models itself: give one .3mf (or .stl) file or a case folder.")
    return targets[0], targets[0].stem


@printers_app.command("list")
def list_printers():
    """The configured printers (secrets are never shown)."""
    from ..cli import _fail
    from ..errors import MedPrintError
    from .config import load_printers, printers_file

    try:
        printers = load_printers()
    except MedPrintError as err:
        _fail(err)
    table = Table(title=f"Printers ({printers_file()})", title_justify="left")
    for column in ("name", "kind", "address", "profile", "takes", "credentials"):
        table.add_column(column)
    for p in printers.values():
        creds = ", ".join(k for k, v in (("api key", p.api_key), ("password", p.password)) if v) or "none"
        takes = f"3MF ({p.remote_slicer})" if p.takes_3mf else "G-code"
        table.add_row(p.name, p.kind, p.address, p.profile, takes, f"{creds} set" if creds != "none" else creds)
    out.print(table)


@printers_app.command("add")
def add_printer(
    name: str = typer.Argument(..., help="a name for the printer"),
    kind: str = typer.Option(..., help="octoprint, moonraker, prusalink or serial"),
    address: str = typer.Option(..., help="web address (http://...) or serial port (/dev/ttyACM0)"),
    profile: str = typer.Option("", help="printer profile to slice for"),
    api_key: str = typer.Option("", envvar="MEDPRINT_PRINTER_API_KEY",
                                help="API key (omit it to be asked without echo, or set env MEDPRINT_PRINTER_API_KEY)"),
    username: str = typer.Option("", help="user name (PrusaLink digest auth)"),
    password: str = typer.Option("", envvar="MEDPRINT_PRINTER_PASSWORD",
                                 help="password (omit it to be asked without echo, or set env MEDPRINT_PRINTER_PASSWORD)"),
    baudrate: int = typer.Option(115200, help="serial speed"),
    remote_slicer: str = typer.Option("", help="OctoPrint only: its slicer plugin (e.g. prusaslicer); the "
                                                "printer then gets 3MF and slices it itself"),
):
    """Add or replace a printer in the user's config (mode 0600). A missing API key or password
    is asked for with hidden input."""
    from ..cli import _fail
    from ..errors import MedPrintError
    from .config import PrinterConfig, save_printer

    try:
        config = PrinterConfig(name, kind, address, profile, api_key, username, password, baudrate,
                               remote_slicer=remote_slicer)
        _ask_secret(config)
        path = save_printer(config)
    except MedPrintError as err:
        _fail(err)
    out.print(f"Printer '{name}' saved in {path}")


def _ask_secret(config) -> None:
    """Ask for the secret ``config`` lacks, without echoing it: OctoPrint's API key, PrusaLink's
    password (with a user name) or API key, Moonraker's API key (empty when it asks for none)."""
    if config.api_key or config.password or config.kind == "serial":
        return
    if config.kind == "prusalink" and config.username:
        config.password = typer.prompt(f"PrusaLink password of {config.username}", hide_input=True)
    elif config.kind == "moonraker":
        config.api_key = typer.prompt("Moonraker API key (Enter if it asks for none)", default="",
                                      hide_input=True, show_default=False)
    else:
        label = "OctoPrint" if config.kind == "octoprint" else "PrusaLink"
        config.api_key = typer.prompt(f"{label} API key", hide_input=True)


@printers_app.command("remove")
def remove(name: str = typer.Argument(...)):
    """Remove a printer from the user's config."""
    from ..cli import _fail
    from ..errors import MedPrintError
    from .config import remove_printer

    try:
        remove_printer(name)
    except MedPrintError as err:
        _fail(err)
    out.print(f"Printer '{name}' removed")


@printers_app.command("test")
def test_printer(name: str = typer.Argument(...), timeout: float = typer.Option(5.0, help="seconds")):
    """Connect to a printer and show its state and temperatures."""
    from ..cli import _fail
    from ..errors import MedPrintError
    from .config import connect, get_printer

    try:
        printer = connect(get_printer(name), timeout)
        try:
            status = printer.status()
        finally:
            printer.close()
    except MedPrintError as err:
        _fail(err)
    temps = ", ".join(f"{h} {a:.1f}/{t or 0:.0f}°C" for h, (a, t) in sorted(status.temperatures.items())
                      if a is not None)
    out.print(f"{name}: {status.state}" + (f"; {temps}" if temps else "")
              + (f"; job {status.job} {status.progress_pct:.0f} %" if status.job and status.progress_pct else ""))
