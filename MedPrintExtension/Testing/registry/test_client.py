"""The outbox client against the real server (SQLite and PostgreSQL): submit, duplicate, server down
and back, client killed between write and send or between send and acknowledgement; no record is
lost or duplicated."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

from registry_records import make_record
from registry_services import MODULE_DIR
from sqlalchemy import select

from medprint.registry.client import RegistryClient, flush
from medprint.registry.config import RegistryConfig
from medprint.registry.outbox import Outbox
from medprint.registry.server.db import cases


def stored_ids(engine, site_id: str) -> list[str]:
    with engine.connect() as conn:
        return [r.case_id for r in conn.execute(select(cases.c.case_id).where(cases.c.site_id == site_id))]


def client_for(server, site) -> RegistryClient:
    return RegistryClient(RegistryConfig(url=server.url, site=site[0], token=site[1]), timeout=(2.0, 5.0))


def test_submit_and_duplicate_flush_make_one_row(server, engine, site, tmp_path):
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    record = make_record(site[0])
    entry = outbox.put(record)
    assert outbox.put(record).key == entry.key  # the same record is queued once
    report = flush(outbox, client_for(server, site))
    assert report.sent == [record.case_id] and outbox.get(entry.key).http_status == 201
    # a second send of the same entry (as after a lost acknowledgement) is a duplicate, not a new row
    response = client_for(server, site).send(outbox.get(entry.key))
    assert response.status_code == 409
    assert flush(outbox, client_for(server, site), force=True).sent == []
    assert stored_ids(engine, site[0]) == [record.case_id]


def test_server_down_keeps_records_then_flushes_them(server, engine, site, tmp_path):
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    records = [make_record(site[0]) for _ in range(3)]
    server.kill()
    try:
        for record in records:
            outbox.put(record)
        started = time.monotonic()
        report = flush(outbox, client_for(server, site))
        assert time.monotonic() - started < 5.0
        assert len(report.retry) == 3 and outbox.counts() == {"pending": 3}
        entry = outbox.entries()[0]
        assert entry.attempts == 1 and "unreachable" in entry.last_error
        assert entry.next_attempt_at > time.time() + 20  # backed off (30 s +-20 % after one failure)
        assert outbox.due() == []  # nothing is due before the back-off ends
    finally:
        server.start()
    report = flush(outbox, client_for(server, site), force=True)
    assert sorted(report.sent) == sorted(r.case_id for r in records)
    assert outbox.counts() == {"sent": 3}
    assert sorted(stored_ids(engine, site[0])) == sorted(r.case_id for r in records)


_KILLED_CLIENT = textwrap.dedent("""
    import os, signal, sys
    from medprint.registry.client import RegistryClient
    from medprint.registry.config import RegistryConfig
    from medprint.registry.outbox import Outbox
    from medprint.registry.schema import CaseRecord
    outbox_file, record_file, stage, url, site, token = sys.argv[1:]
    outbox = Outbox(outbox_file)
    entry = outbox.put(CaseRecord.model_validate_json(open(record_file).read()))
    if stage == "after-send":
        assert RegistryClient(RegistryConfig(url, site, token)).send(entry).status_code == 201
    os.kill(os.getpid(), signal.SIGKILL)
""")


def run_killed_client(tmp_path, outbox_file, record, stage, server, site) -> int:
    record_file = tmp_path / f"{record.case_id}.json"
    record_file.write_bytes(record.payload())
    proc = subprocess.run([sys.executable, "-c", _KILLED_CLIENT, str(outbox_file), str(record_file), stage,
                           server.url, *site], env={**os.environ, "PYTHONPATH": str(MODULE_DIR)},
                          capture_output=True, timeout=60)
    return proc.returncode


def test_client_killed_between_write_and_send_resends_once(server, engine, site, tmp_path):
    outbox_file = tmp_path / "outbox.sqlite3"
    record = make_record(site[0])
    assert run_killed_client(tmp_path, outbox_file, record, "before-send", server, site) == -9
    assert stored_ids(engine, site[0]) == []
    outbox = Outbox(outbox_file)  # the restarted client
    assert [e.case_id for e in outbox.due()] == [record.case_id]
    assert flush(outbox, client_for(server, site)).sent == [record.case_id]
    assert flush(outbox, client_for(server, site), force=True).sent == []
    assert stored_ids(engine, site[0]) == [record.case_id]


def test_client_killed_between_send_and_acknowledgement_makes_no_duplicate(server, engine, site, tmp_path):
    outbox_file = tmp_path / "outbox.sqlite3"
    record = make_record(site[0])
    assert run_killed_client(tmp_path, outbox_file, record, "after-send", server, site) == -9
    assert stored_ids(engine, site[0]) == [record.case_id]
    outbox = Outbox(outbox_file)
    assert outbox.counts() == {"pending": 1}  # the acknowledgement never reached the outbox
    assert flush(outbox, client_for(server, site)).sent == [record.case_id]
    assert outbox.entries()[0].http_status == 409
    assert stored_ids(engine, site[0]) == [record.case_id]


def test_server_killed_mid_flush_loses_and_duplicates_nothing(server, engine, site, tmp_path):
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    records = [make_record(site[0]) for _ in range(150)]
    for record in records:
        outbox.put(record)
    first = {}
    flusher = threading.Thread(target=lambda: first.update(report=flush(outbox, client_for(server, site))))
    flusher.start()
    while outbox.counts().get("sent", 0) < 5:
        time.sleep(0.005)
    server.kill()
    flusher.join(30)
    try:
        assert 5 <= len(first["report"].sent) < 150 and first["report"].retry
    finally:
        server.start()
    for _ in range(3):
        flush(outbox, client_for(server, site), force=True)
    assert outbox.counts() == {"sent": 150}
    ids = stored_ids(engine, site[0])
    assert len(ids) == 150 and sorted(ids) == sorted(r.case_id for r in records)
