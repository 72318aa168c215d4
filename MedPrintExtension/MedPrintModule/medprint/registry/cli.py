"""``medprint registry ...``: the outbox (status, flush, submit), the case form's answers, codes, FHIR
export, and the server (serve, add-site, add-admin). Heavy imports stay inside the commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from ..errors import InputError, MedPrintError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Registry: case record, CPT codes, outbox (status/flush/submit), reference server.")
out = Console()
err = Console(stderr=True)
DEFAULT_DB = "sqlite:///medprint-registry.sqlite3"


def _fail(error: MedPrintError) -> None:
    err.print(f"[bold red]error:[/] {error.message}")
    if error.hint:
        err.print(f"[yellow]what to do:[/] {error.hint}")
    raise typer.Exit(2 if isinstance(error, InputError) else 1)


def _read_record(path: Path):
    from pydantic import ValidationError

    from .schema import CaseRecord
    try:
        return CaseRecord.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        _fail(InputError(f"There is no record file '{path}'."))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:8])
        _fail(InputError(f"'{path.name}' is not a valid case record: {problems}.",
                         hint="see `medprint registry schema` for the fields"))


@app.command()
def status():
    """Show the outbox: records pending, sent and rejected (no record contents)."""
    from .config import load_config, outbox_path
    from .outbox import Outbox
    from .submit import outbox_summary
    try:
        config = load_config()
    except MedPrintError as error:
        _fail(error)
    outbox = Outbox(outbox_path())
    table = Table(title=f"Registry outbox ({outbox.path})", title_justify="left")
    for column in ("case", "status", "attempts", "HTTP", "last error"):
        table.add_column(column)
    for e in outbox.entries():
        if e.status != "superseded":
            table.add_row(e.case_id, e.status, str(e.attempts), str(e.http_status or ""), e.last_error[:80])
    out.print(table)
    out.print(outbox_summary(outbox, f"{config.url} (site {config.site})" if config else None))


@app.command()
def flush(force: bool = typer.Option(False, help="send now, ignoring the retry back-off")):
    """Send the pending records to the configured registry."""
    from .client import RegistryClient, flush as flush_outbox
    from .config import load_config, outbox_path
    from .outbox import Outbox
    try:
        config = load_config()
        if config is None:
            raise InputError("No registry is configured, so nothing can be sent.",
                             hint="run `medprint registry configure`")
        report = flush_outbox(Outbox(outbox_path()), RegistryClient(config), force=force)
    except MedPrintError as error:
        _fail(error)
    out.print(report.summary())
    if report.retry or report.rejected:
        raise typer.Exit(1)


@app.command()
def configure(url: str = typer.Option(..., help="registry address (https://...)"),
              site: str = typer.Option(..., help="this site's registry ID"),
              token: str = typer.Option(..., prompt=True, hide_input=True, help="the site token")):
    """Save the registry address, site and token in the user's settings (owner-only file)."""
    from .client import RegistryClient
    from .config import RegistryConfig, save_config
    config = RegistryConfig(url=url.rstrip("/"), site=site, token=token)
    try:
        RegistryClient(config)
    except MedPrintError as error:
        _fail(error)
    out.print(f"saved to {save_config(config)}")


@app.command()
def submit(record_file: Path = typer.Argument(..., help="a case record (e.g. <case>/registry/anatomic_model.json)")):
    """Check a completed record (schema, codes, PHI), queue it and send it if a registry is configured."""
    from .client import RegistryClient
    from .config import load_config, outbox_path
    from .outbox import Outbox
    from .submit import submit_record
    record = _read_record(record_file)
    try:
        config = load_config()
        submitted = submit_record(record, Outbox(outbox_path()), RegistryClient(config) if config else None)
    except MedPrintError as error:
        _fail(error)
    for warning in submitted.warnings:
        err.print(f"[yellow]warning:[/] {warning}")
    out.print(f"{record.case_id}: {submitted.status}")


@app.command()
def answers(case_folder: Path = typer.Argument(..., help="a case folder"),
            set_: list[str] = typer.Option([], "--set", help="FIELD=VALUE, e.g. patient.age_band=60-69, "
                                                              "effort.cad.clinician=20 (repeatable; JSON values too)")):
    """Show the clinician's answers the register step reads (<case>/registry/answers.json), or change some
    (checked first: each wrong field is named and nothing is saved)."""
    from ..workflow import open_case
    from .answers import load_answers, save_answers
    try:
        case = open_case(case_folder)
        data = load_answers(case).model_dump(mode="json")
        for item in set_:
            path, sep, text = item.partition("=")
            if not sep or not path:
                raise InputError(f"'{item}' is not FIELD=VALUE.", hint="for example --set patient.age_band=60-69")
            place, keys = data, path.split(".")
            for key in keys[:-1]:
                place = place.setdefault(key, {}) if isinstance(place, dict) else {}
            try:
                place[keys[-1]] = json.loads(text)
            except json.JSONDecodeError:
                place[keys[-1]] = text
        saved = save_answers(case, data) if set_ else load_answers(case)
    except MedPrintError as error:
        _fail(error)
    print(json.dumps(saved.model_dump(mode="json", exclude_defaults=True), indent=2))


@app.command()
def codes(record_file: Path = typer.Argument(..., help="a case record JSON file"),
          payer: str = typer.Option("medicare", help="payer whose unit caps to check ('' for none)")):
    """Suggest CPT codes for a record and check the ones it claims."""
    from .cpt import check_codes, describe, suggest_codes
    record = _read_record(record_file)
    table = Table(title="Suggested CPT codes", title_justify="left")
    for column in ("code", "units", "meaning (MedPrint's words)"):
        table.add_column(column)
    for line in suggest_codes(record):
        table.add_row(line.code, str(line.units), describe(line.code))
    out.print(table)
    for f in check_codes(record, payer=payer) if record.cpt else []:
        err.print(f"[{'red' if f.level == 'error' else 'yellow'}]{f.level}:[/] {f.message}")


@app.command()
def fhir(record_file: Path = typer.Argument(..., help="a case record JSON file"),
         output: Optional[Path] = typer.Option(None, "-o", "--output", help="write here instead of stdout")):
    """Export a record as a FHIR R4 Bundle (JSON)."""
    from .fhir import to_bundle
    text = json.dumps(to_bundle(_read_record(record_file)), indent=2)
    if output:
        output.write_text(text + "\n")
    else:
        print(text)


@app.command()
def schema(output: Optional[Path] = typer.Option(None, "-o", "--output", help="write here instead of stdout")):
    """Print the case record's JSON Schema."""
    from .schema import json_schema
    text = json.dumps(json_schema(), indent=2, sort_keys=True)
    if output:
        output.write_text(text + "\n")
    else:
        print(text)


@app.command()
def serve(host: str = typer.Option("127.0.0.1", help="address to listen on"),
          port: int = typer.Option(8750, help="TCP port"),
          database_url: str = typer.Option(DEFAULT_DB, help="SQLAlchemy URL: sqlite:///file or "
                                                            "postgresql+psycopg://user@host/db"),
          max_body: int = typer.Option(64 * 1024, help="largest request body accepted (bytes)"),
          rate: float = typer.Option(20.0, help="submissions per second per token (0: no limit)"),
          burst: int = typer.Option(60, help="submissions per token accepted at once"),
          workers: int = typer.Option(1, min=1, help="server processes (the rate limit is per process)"),
          access_log: bool = typer.Option(True, help="log each request (method, path, status)")):
    """Run the reference registry server (migrates the database first; OpenAPI at /openapi.json)."""
    import os

    import uvicorn

    from .server.migrate import upgrade
    upgrade(database_url)
    os.environ.update(MEDPRINT_REGISTRY_DATABASE_URL=database_url, MEDPRINT_REGISTRY_MAX_BODY=str(max_body),
                      MEDPRINT_REGISTRY_RATE=str(rate), MEDPRINT_REGISTRY_BURST=str(burst))
    uvicorn.run("medprint.registry.server.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                access_log=access_log, log_level="info" if access_log else "warning")


@app.command("add-site")
def add_site(site: str = typer.Argument(..., help="the site's registry ID (lower-case letters, digits, '-')"),
             database_url: str = typer.Option(DEFAULT_DB, help="the server's database URL"),
             name: str = typer.Option("", help="display name"),
             cost_per_minute: float = typer.Option(62.0, help="cost of an operating-room minute ($)"),
             minutes_per_model: float = typer.Option(62.0, help="OR minutes saved per anatomic model"),
             minutes_per_guide: float = typer.Option(23.0, help="OR minutes saved per guide")):
    """Register a site on the server and print its token (shown once, stored hashed)."""
    from .server.auth import add_site as add
    from .server.db import make_engine
    from .server.migrate import upgrade
    upgrade(database_url)
    try:
        token = add(make_engine(database_url), site, name, cost_per_minute, minutes_per_model, minutes_per_guide)
    except MedPrintError as error:
        _fail(error)
    print(token)


@app.command("add-admin")
def add_admin(database_url: str = typer.Option(DEFAULT_DB, help="the server's database URL")):
    """Create an admin token (aggregates of every site) and print it once."""
    from .server.auth import add_admin as add
    from .server.db import make_engine
    from .server.migrate import upgrade
    upgrade(database_url)
    print(add(make_engine(database_url)))
