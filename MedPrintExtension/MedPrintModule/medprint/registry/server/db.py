"""The registry database: tables (SQLAlchemy 2 Core) and engines for SQLite and PostgreSQL.

``cases`` holds each submitted record (canonical JSON) with the facts the dashboard counts;
``agg`` holds those facts summed per site, month, dimension and key, so the dashboard reads a few
hundred rows whatever the number of cases. Cases are added to ``agg`` in batches (``rolled_up``)
when the dashboard is read, so submissions never wait on a shared counter row.
"""

from __future__ import annotations

from sqlalchemy import (BigInteger, Boolean, Column, DateTime, Float, ForeignKey, Index, Integer, MetaData, String,
                        Table, Text, UniqueConstraint, create_engine, event, false)
from sqlalchemy.engine import Engine

metadata = MetaData()
_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER PRIMARY KEY only

sites = Table(
    "sites", metadata,
    Column("site_id", String(32), primary_key=True),
    Column("name", String(200), nullable=False, server_default=""),
    Column("cost_per_or_minute", Float, nullable=False, server_default="62"),
    Column("minutes_per_model", Float, nullable=False, server_default="62"),
    Column("minutes_per_guide", Float, nullable=False, server_default="23"),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

tokens = Table(
    "tokens", metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("site_id", String(32), ForeignKey("sites.site_id"), nullable=True),
    Column("is_admin", Boolean, nullable=False, server_default=false()),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

cases = Table(
    "cases", metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("site_id", String(32), ForeignKey("sites.site_id"), nullable=False),
    Column("case_id", String(32), nullable=False),
    Column("idempotency_key", String(64), nullable=False),
    Column("payload_sha256", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("facts", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("month", String(7), nullable=False),
    Column("rolled_up", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("site_id", "idempotency_key", name="uq_cases_site_key"),
    UniqueConstraint("site_id", "case_id", name="uq_cases_site_case"),
    Index("ix_cases_site_received", "site_id", "id"),
)
Index("ix_cases_not_rolled_up", cases.c.id, postgresql_where=cases.c.rolled_up == false(),
      sqlite_where=cases.c.rolled_up == false())

agg = Table(
    "agg", metadata,
    Column("site_id", String(32), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("dim", String(32), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("n", BigInteger, nullable=False),
    Column("total", Float, nullable=False),
)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, fsync on commit, a busy timeout (for other processes)
    and write-locking transactions (BEGIN IMMEDIATE), so concurrent writers queue instead of failing."""
    if url.startswith("sqlite"):
        # one connection per process: SQLite has one writer at a time, so threads queue for the
        # connection instead of polling the file lock (which adds sleeps of up to 100 ms)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=1, max_overflow=0, pool_timeout=60)

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            dbapi_connection.execute("PRAGMA synchronous=FULL")
            dbapi_connection.execute("PRAGMA foreign_keys=ON")

        @event.listens_for(engine, "begin")
        def _begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        return engine
    return create_engine(url, pool_size=16, max_overflow=32, pool_recycle=3600)
