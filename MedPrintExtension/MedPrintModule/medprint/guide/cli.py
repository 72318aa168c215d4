"""``medprint guide plan.json --bone bone.stl -o guide.stl``: design, verify and write a guide."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

out = Console()


def guide_command(
    plan: Path = typer.Argument(..., help="guide plan (JSON, LPS mm; see medprint.guide.plan)"),
    bone: Path = typer.Option(..., "--bone", help="bone surface the guide seats on (closed STL, LPS mm)"),
    output: Path = typer.Option(..., "-o", "--output", help="guide STL to write (LPS mm)"),
    report: Optional[Path] = typer.Option(None, "--report", help="also write the figures and checks as JSON"),
    step: float = typer.Option(0.2, min=0.05, max=1.0, help="height-map column spacing, mm"),
    as_json: bool = typer.Option(False, "--json", help="print the figures and checks as JSON"),
):
    """Design a surgical guide from a plan and a bone model, verify it, write it (exit 1 if a check fails)."""
    from ..cli import _fail, _stages
    from ..errors import MedPrintError
    from ..mesh import read_stl, write_stl
    from .design import design_guide
    from .plan import load_plan
    from .verify import verify_guide

    try:
        with _stages() as stage:
            the_plan = load_plan(plan)
            bone_mesh = read_stl(bone)
            guide = design_guide(the_plan, bone_mesh, step_mm=step, progress=stage("design"))
            result = verify_guide(guide, the_plan, bone_mesh, progress=stage("verify"))
            write_stl(guide.mesh, output, space="LPS")
    except MedPrintError as err:
        _fail(err)
    record = {"output": str(output), "coordinates": "LPS", "units": "mm", **guide.stats,
              "verification": result.to_dict()}
    if report:
        report.write_text(json.dumps(record, indent=2) + "\n")
    if as_json:
        out.print_json(json.dumps(record))
    else:
        _table(record, result)
    if not result.passed:
        raise typer.Exit(1)


def _table(record: dict, result) -> None:
    table = Table(title="MedPrint guide", show_header=True, title_justify="left")
    for column in ("feature", "check", "measured", "limit", ""):
        table.add_column(column)
    for c in result.checks:
        table.add_row(c.feature, c.name, f"{c.value:.3f} {c.unit}", f"{c.kind} {c.limit:g}",
                      "ok" if c.passed else "[red]FAILED[/]")
    out.print(table)
    seconds = "  ".join(f"{k} {v:.2f} s" for k, v in record["seconds"].items())
    label = f"label '{record['label']}' on the {record['label_place']}" if record["label"] else "no label"
    out.print(f"output {record['output']} ({record['triangles']:,} triangles, {record['volume_cm3']:.2f} cm³, "
              f"LPS mm); {label}; time {seconds}")
    for warning in record["warnings"]:
        out.print(f"[yellow]warning:[/] {warning}")
