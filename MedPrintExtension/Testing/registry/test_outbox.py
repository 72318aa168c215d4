"""The SQLite outbox: durable before any send, one entry per record, superseding, back-off bounds."""

from __future__ import annotations

import sqlite3

from registry_records import make_record

from medprint.registry.client import backoff_seconds, stamp_site
from medprint.registry.outbox import Outbox


def test_a_put_is_on_disk_and_visible_to_another_connection(tmp_path):
    outbox = Outbox(tmp_path / "o.sqlite3")
    record = make_record("site-a")
    entry = outbox.put(record, study_ref="1.2.3.4 /cases/x")
    with sqlite3.connect(tmp_path / "o.sqlite3") as db:
        (payload, status), = db.execute("SELECT payload, status FROM entries").fetchall()
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert bytes(payload) == record.payload() and status == "pending"
    assert entry.key and len(entry.key) == 32
    assert outbox.study_ref(record.case_id) == "1.2.3.4 /cases/x"
    assert "1.2.3.4" not in record.payload().decode()


def test_changed_records_supersede_and_sent_ones_stay_sent(tmp_path):
    outbox = Outbox(tmp_path / "o.sqlite3")
    record = make_record("site-a", parts=2)
    first = outbox.put(record)
    changed = make_record("site-a", parts=3, case_id=record.case_id)
    second = outbox.put(changed)
    assert second.key != first.key and outbox.get(first.key).status == "superseded"
    assert [e.key for e in outbox.due()] == [second.key]
    outbox.mark_sent(second.key, 201)
    assert outbox.put(changed).key == second.key and outbox.due(force=True) == []
    assert outbox.counts() == {"superseded": 1, "sent": 1}


def test_retry_and_reject_bookkeeping(tmp_path):
    outbox = Outbox(tmp_path / "o.sqlite3")
    a, b = outbox.put(make_record("site-a")), outbox.put(make_record("site-a"))
    outbox.mark_retry(a.key, "registry answered 503", next_attempt_at=2e9, http_status=503)
    outbox.mark_rejected(b.key, 422, '{"detail": "bad"}')
    assert outbox.due(now=1e9) == [] and [e.key for e in outbox.due(now=1e9, force=True)] == [a.key]
    assert outbox.get(a.key).attempts == 1 and outbox.get(b.key).status == "rejected"


def test_backoff_doubles_with_jitter_and_is_capped():
    for attempts, nominal in ((1, 30), (2, 60), (3, 120), (8, 3600), (30, 3600)):
        waits = [backoff_seconds(attempts) for _ in range(200)]
        assert 0.8 * nominal <= min(waits) and max(waits) <= 1.2 * nominal
        assert max(waits) - min(waits) > 0.1 * nominal  # jittered


def test_records_queued_before_configuration_get_the_site_when_sent():
    record = make_record("unassigned")
    assert b'"site":"site-b"' in stamp_site(record.payload(), "site-b")
    assert stamp_site(record.payload(), "unassigned") == record.payload()
