"""The local outbox: every record is written here (SQLite, fsynced on commit) before any network call.

An entry is ``pending`` until the registry acknowledges it (2xx, or 409 for a duplicate), then
``sent``; a record the registry refuses for its content (400/413/422) becomes ``rejected`` and waits
for a person. Each entry has an idempotency key, so resending after a crash never makes a second
record. The ``local_link`` table keeps the link from the random registry case ID to the local study
(never sent). Safe for several processes: each operation opens its own connection.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

from ..errors import MedPrintError
from .schema import CaseRecord

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    payload BLOB NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    http_status INTEGER,
    last_error TEXT NOT NULL DEFAULT '',
    sent_at REAL
);
CREATE INDEX IF NOT EXISTS entries_due ON entries (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS entries_case ON entries (case_id);
CREATE TABLE IF NOT EXISTS local_link (
    case_id TEXT PRIMARY KEY,
    study_ref TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Entry:
    key: str
    case_id: str
    payload: bytes
    status: str
    attempts: int
    next_attempt_at: float
    http_status: Optional[int]
    last_error: str


class Outbox:
    """An outbox database file (created on first use)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except sqlite3.Error as exc:
            raise MedPrintError("The registry outbox cannot be opened.", hint=f"check {self.path}",
                                detail=str(exc)) from exc
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")  # a commit is on disk (fsync) before it returns
            yield db
        finally:
            db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def put(self, record: CaseRecord, study_ref: str = "") -> Entry:
        """Store ``record`` durably and return its entry. A case already sent is not queued again;
        a pending entry of the same case with other content is replaced by a new entry (new key)."""
        payload = record.payload()
        with self._transaction() as db:
            rows = db.execute("SELECT key, payload, status FROM entries WHERE case_id = ? AND status != "
                              "'superseded' ORDER BY created_at", (record.case_id,)).fetchall()
            for key, old, status in rows:
                if status == "sent" or bytes(old) == payload:
                    return self._get(db, key)
                db.execute("UPDATE entries SET status = 'superseded' WHERE key = ?", (key,))
            key = uuid.uuid4().hex
            db.execute("INSERT INTO entries (key, case_id, payload, created_at) VALUES (?, ?, ?, ?)",
                       (key, record.case_id, payload, time.time()))
            if study_ref:
                db.execute("INSERT OR REPLACE INTO local_link (case_id, study_ref) VALUES (?, ?)",
                           (record.case_id, study_ref))
            return self._get(db, key)

    @staticmethod
    def _get(db: sqlite3.Connection, key: str) -> Entry:
        row = db.execute("SELECT key, case_id, payload, status, attempts, next_attempt_at, http_status, "
                         "last_error FROM entries WHERE key = ?", (key,)).fetchone()
        return Entry(row[0], row[1], bytes(row[2]), *row[3:])

    def get(self, key: str) -> Entry:
        with self._connect() as db:
            return self._get(db, key)

    def due(self, now: Optional[float] = None, force: bool = False) -> list[Entry]:
        """Pending entries whose retry time has come (all pending ones with ``force``), oldest first."""
        now = time.time() if now is None else now
        with self._connect() as db:
            keys = db.execute("SELECT key FROM entries WHERE status = 'pending' AND (? OR next_attempt_at <= ?) "
                              "ORDER BY created_at", (int(force), now)).fetchall()
            return [self._get(db, k) for (k,) in keys]

    def mark_sent(self, key: str, http_status: int) -> None:
        with self._transaction() as db:
            db.execute("UPDATE entries SET status = 'sent', http_status = ?, sent_at = ?, attempts = attempts + 1, "
                       "last_error = '' WHERE key = ?", (http_status, time.time(), key))

    def mark_retry(self, key: str, error: str, next_attempt_at: float, http_status: Optional[int] = None) -> None:
        with self._transaction() as db:
            db.execute("UPDATE entries SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, "
                       "http_status = ? WHERE key = ?", (error[:500], next_attempt_at, http_status, key))

    def mark_rejected(self, key: str, http_status: int, error: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE entries SET status = 'rejected', attempts = attempts + 1, http_status = ?, "
                       "last_error = ? WHERE key = ?", (http_status, error[:2000], key))

    def counts(self) -> dict[str, int]:
        with self._connect() as db:
            return dict(db.execute("SELECT status, COUNT(*) FROM entries GROUP BY status").fetchall())

    def entries(self) -> list[Entry]:
        with self._connect() as db:
            keys = db.execute("SELECT key FROM entries ORDER BY created_at").fetchall()
            return [self._get(db, k) for (k,) in keys]

    def study_ref(self, case_id: str) -> str:
        """The local study a registry case ID stands for ("" if unknown); stays on this machine."""
        with self._connect() as db:
            row = db.execute("SELECT study_ref FROM local_link WHERE case_id = ?", (case_id,)).fetchone()
            return row[0] if row else ""
