"""Storing submissions idempotently, and summing them into the dashboard's aggregates."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from ..schema import UNKNOWN, CaseRecord
from .db import agg, cases, sites

ROLLUP_BATCH = 50_000
ROLLUP_LOCK = 0x4D505247  # PostgreSQL advisory lock key of the rollup ("MPRG")


def facts(record: CaseRecord) -> list[list]:
    """What the dashboard counts of one case: ``[dimension, key, count, amount]`` rows."""
    rows = [["cases", "all", 1, 0.0], ["object_type", record.digital_model.object_type, 1, 0.0],
            ["indication", record.imaging.indication_category, 1, 0.0],
            ["parts", "count", 1, float(len(record.digital_model.parts))]]
    rows += [["cpt", line.code, 1, float(line.units)] for line in record.cpt]
    rows += [["technology", model.technology, 1, 0.0] for model in record.physical_models]
    effort = record.effort
    for bucket in ("consultation", "segmentation", "cad", "post_processing"):
        for staff in ("clinician", "non_clinician"):
            minutes = getattr(getattr(effort, bucket), staff)
            if minutes != UNKNOWN:
                rows.append(["effort", f"{bucket}.{staff}", 1, float(minutes)])
    for dim, key, value in (("effort", "printer_run", effort.printer_run_minutes), ("cost", "usd", effort.cost_usd),
                            ("estimate", "minutes_saved", record.assessment.minutes_saved_estimate),
                            ("assessment", "usefulness", record.assessment.usefulness)):
        if value != UNKNOWN:
            rows.append([dim, key, 1, float(value)])
    rows.append(["plan_changed", record.assessment.plan_changed, 1, 0.0])
    return rows


@dataclass(frozen=True)
class Stored:
    """The outcome of a submission: ``created`` (new row), ``duplicate`` (same key, same record),
    ``key_conflict`` (same key, other record) or ``case_exists`` (the site holds this case ID)."""

    outcome: str
    case_id: str


def _insert(conn: Connection):
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)


#: The submission INSERT per dialect, built once (values are bound per call).
_ADD_CASE = {name: dialect.insert(cases).on_conflict_do_nothing().returning(cases.c.id)
             for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))}


def insert_case(engine: Engine, site_id: str, key: str, record: CaseRecord,
                now: Optional[datetime] = None) -> Stored:
    """Store ``record`` for ``site_id`` once per idempotency ``key`` (one transaction)."""
    payload = record.payload()
    digest = hashlib.sha256(payload).hexdigest()
    now = now or datetime.now(timezone.utc)
    # one INSERT is atomic on its own: on PostgreSQL it runs in autocommit (one round trip; the
    # commit is durable before the answer); SQLite takes its write lock with BEGIN IMMEDIATE
    writer = engine.connect().execution_options(isolation_level="AUTOCOMMIT") \
        if engine.dialect.name == "postgresql" else engine.begin()
    with writer as conn:
        row = conn.execute(_ADD_CASE[conn.dialect.name], dict(
            site_id=site_id, case_id=record.case_id, idempotency_key=key, payload_sha256=digest,
            payload=payload.decode(), facts=json.dumps(facts(record)), received_at=now,
            month=now.strftime("%Y-%m"), rolled_up=False)).first()
        if row is not None:
            return Stored("created", record.case_id)
        same_key = conn.execute(select(cases.c.case_id, cases.c.payload_sha256).where(
            and_(cases.c.site_id == site_id, cases.c.idempotency_key == key))).first()
    if same_key is None:
        return Stored("case_exists", record.case_id)
    return Stored("duplicate" if same_key.payload_sha256 == digest else "key_conflict", same_key.case_id)


def get_case(engine: Engine, site_id: str, case_id: str) -> Optional[dict]:
    """A site's own case (None for another site's case or none)."""
    with engine.connect() as conn:
        row = conn.execute(select(cases.c.payload).where(
            and_(cases.c.site_id == site_id, cases.c.case_id == case_id))).first()
    return json.loads(row.payload) if row else None


def rollup(engine: Engine) -> int:
    """Add the cases not yet summed into ``agg``, in batches; returns how many. Safe to run from
    several processes: rollups take turns (PostgreSQL advisory lock, SQLite's write lock) and each
    case is claimed once by ``UPDATE ... WHERE NOT rolled_up RETURNING``."""
    done = 0
    while True:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(select(func.pg_advisory_xact_lock(ROLLUP_LOCK)))
            pending = select(cases.c.id).where(cases.c.rolled_up == False).limit(ROLLUP_BATCH)  # noqa: E712
            rows = conn.execute(update(cases).where(cases.c.id.in_(pending.scalar_subquery()),
                                                    cases.c.rolled_up == False)  # noqa: E712
                                .values(rolled_up=True).returning(cases.c.site_id, cases.c.month,
                                                                  cases.c.facts)).all()
            if not rows:
                return done
            sums: dict[tuple, list] = defaultdict(lambda: [0, 0.0])
            for site_id, month, case_facts in rows:
                for dim, key, n, amount in json.loads(case_facts):
                    cell = sums[(site_id, month, dim, key)]
                    cell[0] += n
                    cell[1] += amount
            values = [dict(site_id=k[0], month=k[1], dim=k[2], key=k[3], n=v[0], total=v[1])
                      for k, v in sorted(sums.items())]
            stmt = _insert(conn)(agg)
            conn.execute(stmt.on_conflict_do_update(
                index_elements=[agg.c.site_id, agg.c.month, agg.c.dim, agg.c.key],
                set_={"n": agg.c.n + stmt.excluded.n, "total": agg.c.total + stmt.excluded.total}), values)
            done += len(rows)


#: Dimensions whose value depends on the site's settings (OR minutes per model/guide, $ per minute).
PER_SITE_DIMS = ("object_type", "estimate")


def aggregates(engine: Engine, site_id: Optional[str]) -> tuple[list, list, dict]:
    """The dashboard's sums for one site (or every site for None), after rolling up new cases:
    ``(month, dim, key, n, total)`` rows over all sites, ``(site, dim, key, n, total)`` rows of the
    dimensions priced per site, and each site's value settings."""
    rollup(engine)
    where = [agg.c.site_id == site_id] if site_id is not None else []
    by_month = select(agg.c.month, agg.c.dim, agg.c.key, func.sum(agg.c.n), func.sum(agg.c.total)) \
        .where(*where).group_by(agg.c.month, agg.c.dim, agg.c.key)
    by_site = select(agg.c.site_id, agg.c.dim, agg.c.key, func.sum(agg.c.n), func.sum(agg.c.total)) \
        .where(agg.c.dim.in_(PER_SITE_DIMS), *where).group_by(agg.c.site_id, agg.c.dim, agg.c.key)
    settings_query = select(sites.c.site_id, sites.c.cost_per_or_minute, sites.c.minutes_per_model,
                            sites.c.minutes_per_guide).where(*([sites.c.site_id == site_id] if site_id else []))
    with engine.connect() as conn:
        month_rows = [tuple(r) for r in conn.execute(by_month)]
        site_rows = [tuple(r) for r in conn.execute(by_site)]
        settings = {r.site_id: {"cost_per_or_minute": r.cost_per_or_minute, "minutes_per_model": r.minutes_per_model,
                                "minutes_per_guide": r.minutes_per_guide} for r in conn.execute(settings_query)}
    return month_rows, site_rows, settings


def aggregate_rows(engine: Engine):
    """Every aggregate row ``(site, month, dim, key, n, total)`` (the admin's CSV)."""
    rollup(engine)
    with engine.connect() as conn:
        yield from (tuple(r) for r in conn.execute(
            select(agg.c.site_id, agg.c.month, agg.c.dim, agg.c.key, agg.c.n, agg.c.total)
            .order_by(agg.c.site_id, agg.c.month, agg.c.dim, agg.c.key)))


def site_cases(engine: Engine, site_id: str):
    """A site's cases, oldest first: ``(case_id, month, payload dict)``."""
    with engine.connect() as conn:
        for row in conn.execute(select(cases.c.case_id, cases.c.month, cases.c.payload)
                                .where(cases.c.site_id == site_id).order_by(cases.c.id)):
            yield row.case_id, row.month, json.loads(row.payload)
