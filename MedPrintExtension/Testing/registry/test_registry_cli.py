"""``medprint registry ...`` commands: schema, codes, FHIR, submit, status, flush, configure, add-site."""

from __future__ import annotations

import json
import stat

from registry_records import make_record
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from medprint.cli import app

runner = CliRunner()


def test_schema_codes_and_fhir(tmp_path):
    result = runner.invoke(app, ["registry", "schema"])
    assert result.exit_code == 0 and json.loads(result.stdout)["title"] == "CaseRecord"
    record_file = tmp_path / "record.json"
    record_file.write_bytes(make_record("site-a", parts=4).payload())
    result = runner.invoke(app, ["registry", "codes", str(record_file)])
    assert result.exit_code == 0 and "0559T" in result.stdout and "0560T │ 3" in result.stdout
    result = runner.invoke(app, ["registry", "fhir", str(record_file), "-o", str(tmp_path / "b.json")])
    assert result.exit_code == 0 and json.loads((tmp_path / "b.json").read_text())["resourceType"] == "Bundle"


def test_submit_queues_clean_records_and_refuses_phi(user_dirs):
    clean = user_dirs / "clean.json"
    clean.write_bytes(make_record("site-a").payload())
    result = runner.invoke(app, ["registry", "submit", str(clean)])
    assert result.exit_code == 0 and "queued (no registry configured)" in result.stdout
    dirty = json.loads(make_record("site-a").payload())
    dirty["imaging"]["indication_text"] = "call 617-555-0143"
    dirty_file = user_dirs / "dirty.json"
    dirty_file.write_text(json.dumps(dirty))
    result = runner.invoke(app, ["registry", "submit", str(dirty_file)])
    assert result.exit_code == 2 and "look like a phone number" in " ".join(result.stderr.split())
    status = runner.invoke(app, ["registry", "status"])
    assert status.exit_code == 0 and "1 pending, 0 sent, 0 rejected; registry: none configured" in status.stdout
    result = runner.invoke(app, ["registry", "flush"])
    assert result.exit_code == 2 and "No registry is configured" in " ".join(result.stderr.split())


def test_configure_keeps_the_token_owner_only_and_refuses_plain_http(user_dirs):
    result = runner.invoke(app, ["registry", "configure", "--url", "http://registry.example.org", "--site", "site-a",
                                 "--token", "mps_x"])
    assert result.exit_code == 2 and "not HTTPS" in " ".join(result.stderr.split())
    result = runner.invoke(app, ["registry", "configure", "--url", "https://registry.example.org/", "--site",
                                 "site-a"], input="mps_secret\n")
    assert result.exit_code == 0 and "mps_secret" not in result.stdout
    path = user_dirs / "config" / "registry.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"url": "https://registry.example.org", "site": "site-a",
                                            "token": "mps_secret"}


def test_add_site_prints_a_token_stored_only_as_a_hash(tmp_path):
    url = f"sqlite:///{tmp_path / 'reg.sqlite3'}"
    result = runner.invoke(app, ["registry", "add-site", "site-z", "--database-url", url, "--cost-per-minute", "40"])
    assert result.exit_code == 0
    token = result.stdout.strip()
    assert token.startswith("mps_") and len(token) > 40
    with create_engine(url).connect() as conn:
        hashes = conn.execute(text("SELECT token_sha256 FROM tokens")).scalars().all()
        cost = conn.execute(text("SELECT cost_per_or_minute FROM sites")).scalar_one()
    assert len(hashes) == 1 and token not in hashes[0] and len(hashes[0]) == 64 and cost == 40
    again = runner.invoke(app, ["registry", "add-site", "site-z", "--database-url", url])
    assert again.exit_code == 2 and "exists already" in " ".join(again.stderr.split())


def test_a_changed_record_of_a_sent_case_is_not_sent_again(user_dirs):
    from medprint.registry.outbox import Outbox
    record = make_record("site-a")
    path = user_dirs / "record.json"
    path.write_bytes(record.payload())
    assert runner.invoke(app, ["registry", "submit", str(path)]).exit_code == 0
    outbox = Outbox(user_dirs / "data" / "registry-outbox.sqlite3")
    outbox.mark_sent(outbox.entries()[0].key, 201)
    changed = json.loads(record.payload())
    changed["assessment"]["usefulness"] = 4
    path.write_text(json.dumps(changed))
    result = runner.invoke(app, ["registry", "submit", str(path)])
    assert result.exit_code == 0 and "this version was not sent" in " ".join(result.stdout.split())
    assert outbox.counts() == {"sent": 1}
