"""Registry server load benchmark on 127.0.0.1 (not a test; bounded, stops by itself).

    python MedPrintExtension/Testing/benchmarks/bench_registry.py [--seconds 10] [--clients 32]
        [--workers 2] [--cases 1000000] [--only sqlite|postgresql]

Per backend (SQLite file, PostgreSQL cluster in a temp folder with fsync on):
1. load: ``--clients`` concurrent keep-alive HTTP clients post valid, distinct case records for
   ``--seconds``; accepted submissions/s and p50/p99 latency (server: ``--workers`` uvicorn
   processes on PostgreSQL, one on SQLite; rate limit off, access log off);
2. kill: the same load, the server SIGKILLed mid-load; every case the server acknowledged (201)
   must be in the database afterwards ("lost" counts those that are not);
3. dashboard: ``--cases`` cases seeded by bulk load (PostgreSQL COPY, SQLite executemany) over 20
   sites and 24 months with their aggregates, then the dashboard figures are timed (median of 5) in
   process and over HTTP, against a reference measured in the same run: one plain GROUP BY of the
   cases table (cases per site and month, a single chart of the dashboard); and the rollup cost of
   10,000 fresh submissions.
Targets (issue 7): >= 500 submissions/s on PostgreSQL, dashboard < 300 ms at 1M cases, 0 lost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTING = HERE.parent
MODULE_DIR = TESTING.parent / "MedPrintModule"
for p in (str(MODULE_DIR), str(TESTING / "registry")):
    if p not in sys.path:
        sys.path.insert(0, p)

import requests  # noqa: E402
from registry_records import make_record  # noqa: E402
from registry_services import PostgresCluster, RegistryServer  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from medprint.registry.deid import new_case_id  # noqa: E402
from medprint.registry.server import store  # noqa: E402
from medprint.registry.server.auth import add_admin, add_site  # noqa: E402
from medprint.registry.server.db import cases, make_engine  # noqa: E402
from medprint.registry.server.migrate import upgrade  # noqa: E402

PLACEHOLDER = "c-" + "0" * 24


def templates(site: str) -> list[tuple[bytes, list]]:
    """Distinct record shapes (1-5 parts, a guide), payload with a placeholder case ID, and facts."""
    records = [make_record(site, parts=p) for p in (1, 2, 3, 5)] + [make_record(site, object_type="anatomic_guide")]
    return [(r.payload().replace(r.case_id.encode(), PLACEHOLDER.encode()), store.facts(r)) for r in records]


async def _client(port: int, token: str, shapes: list, stop_at: float, out: list) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = 0
    try:
        while time.monotonic() < stop_at:
            case_id = new_case_id()
            body = shapes[i % len(shapes)][0].replace(PLACEHOLDER.encode(), case_id.encode())
            i += 1
            head = (f"POST /api/v1/cases HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                    f"Content-Type: application/json\r\nIdempotency-Key: {uuid.uuid4().hex}\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n").encode()
            start = time.perf_counter()
            writer.write(head + body)
            await writer.drain()
            status = int((await reader.readline()).split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            out.append((status, time.perf_counter() - start, case_id))
    except (ConnectionError, asyncio.IncompleteReadError, IndexError, OSError):
        out.append((0, 0.0, ""))  # the server went away
    finally:
        writer.close()


def load(port: int, token: str, shapes: list, clients: int, seconds: float, kill_after=None, server=None) -> list:
    """Run ``clients`` concurrent clients for ``seconds``; optionally SIGKILL the server after ``kill_after``."""
    async def main():
        out: list = []
        stop_at = time.monotonic() + seconds
        tasks = [asyncio.create_task(_client(port, token, shapes, stop_at, out)) for _ in range(clients)]
        if kill_after is not None:
            await asyncio.sleep(kill_after)
            server.kill()
        await asyncio.gather(*tasks)
        return out
    return asyncio.run(main())


def summary(results: list, seconds: float) -> dict:
    accepted = [lat for status, lat, _ in results if status == 201]
    statuses = Counter(status for status, _, _ in results)
    lat = sorted(accepted)
    return {"accepted_per_s": round(len(accepted) / seconds, 1), "accepted": len(accepted),
            "p50_ms": round(1000 * lat[len(lat) // 2], 1) if lat else None,
            "p99_ms": round(1000 * lat[int(len(lat) * 0.99)], 1) if lat else None, "statuses": dict(statuses)}


def seed(engine, url: str, n: int, shapes: list, sites: list[str]) -> float:
    """Bulk-load ``n`` cases (rolled up) with their aggregate rows; returns seconds."""
    start = time.perf_counter()
    months = [f"{2024 + m // 12}-{m % 12 + 1:02d}" for m in range(24)]
    now = datetime(2025, 6, 1, tzinfo=timezone.utc).isoformat()
    sums: dict = {}

    def rows():
        for i in range(n):
            payload, facts = shapes[i % len(shapes)]
            site, month = sites[i % len(sites)], months[(i // len(sites)) % len(months)]
            case_id = f"c-{i:024x}"
            for dim, key, count, amount in facts:
                cell = sums.setdefault((site, month, dim, key), [0, 0.0])
                cell[0] += count
                cell[1] += amount
            yield (site, case_id, uuid.UUID(int=i).hex, "0" * 64, payload.decode().replace(PLACEHOLDER, case_id),
                   json.dumps(facts), now, month)

    columns = "site_id, case_id, idempotency_key, payload_sha256, payload, facts, received_at, month, rolled_up"
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cur, cur.copy(f"COPY cases ({columns}) FROM STDIN") as copy:
                for row in rows():
                    copy.write_row((*row, True))
            raw.commit()
        finally:
            raw.close()
    else:
        import sqlite3
        db = sqlite3.connect(url.split("///", 1)[1])
        db.execute("PRAGMA journal_mode=WAL")
        with db:
            db.executemany(f"INSERT INTO cases ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)", rows())
        db.close()
    with engine.begin() as conn:
        conn.execute(store.agg.insert(), [dict(site_id=k[0], month=k[1], dim=k[2], key=k[3], n=v[0], total=v[1])
                                          for k, v in sums.items()])
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE cases"))
            conn.execute(text("ANALYZE agg"))
    return time.perf_counter() - start


def timed(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def bench_backend(kind: str, url: str, args, folder: Path) -> dict:
    upgrade(url)
    engine = make_engine(url)
    site = "bench-load"
    token = add_site(engine, site)
    shapes = templates(site)
    out = {}
    workers = 1 if kind == "sqlite" else args.workers  # SQLite has one writer: one process queues best
    server = RegistryServer(url, folder / f"{kind}.log", rate=0, workers=workers, access_log=False)
    try:
        results = load(server.port, token, shapes, args.clients, args.seconds)
        out["load"] = summary(results, args.seconds)
        print(f"[{kind}] load: {out['load']}", flush=True)
        killed = load(server.port, token, shapes, args.clients, args.seconds, kill_after=args.seconds / 2, server=server)
        acked = {case_id for status, _, case_id in killed if status == 201}
        with engine.connect() as conn:
            stored = set(conn.execute(select(cases.c.case_id).where(cases.c.case_id.in_(acked))).scalars()) if acked \
                else set()
        out["kill"] = {"acknowledged": len(acked), "lost": len(acked - stored)}
        print(f"[{kind}] kill mid-load: {out['kill']}", flush=True)
        server.start()
        start = time.perf_counter()
        store.rollup(engine)
        out["rollup_after_load_ms"] = round((time.perf_counter() - start) * 1000, 1)
        with engine.connect() as conn:
            before = conn.execute(select(func.count()).select_from(cases)).scalar_one()
        sites = [f"seed-{i:02d}" for i in range(20)]
        for s in sites:
            add_site(engine, s)
        out["seed_s"] = round(seed(engine, url, args.cases, templates("seed-00"), sites), 1)
        with engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(cases)).scalar_one()
        out["cases"] = total
        print(f"[{kind}] seeded {total - before:,} cases in {out['seed_s']} s ({total:,} in all)", flush=True)
        admin = add_admin(engine)
        headers = {"Authorization": f"Bearer {admin}"}
        out["dashboard_ms"] = {
            "figures_in_process_admin": round(timed(lambda: store.aggregates(engine, None)), 1),
            "figures_in_process_site": round(timed(lambda: store.aggregates(engine, "seed-03")), 1),
            "http_json_admin": round(timed(lambda: requests.get(server.url + "/api/v1/dashboard", headers=headers,
                                                                timeout=60).raise_for_status()), 1),
            "http_html_admin": round(timed(lambda: requests.get(server.url + "/dashboard", headers=headers,
                                                                timeout=60).raise_for_status()), 1),
        }

        def reference():
            with engine.connect() as conn:
                conn.execute(select(cases.c.site_id, cases.c.month, func.count()).group_by(cases.c.site_id,
                                                                                          cases.c.month)).all()
        out["dashboard_ms"]["reference_group_by_cases"] = round(timed(reference, 3), 1)
        ratio = out["dashboard_ms"]["reference_group_by_cases"] / out["dashboard_ms"]["http_json_admin"]
        print(f"[{kind}] dashboard at {total:,} cases: {out['dashboard_ms']} "
              f"(one GROUP BY of the cases table takes {ratio:.1f}x the whole dashboard request)", flush=True)
        # 10,000 fresh submissions; the first dashboard read afterwards rolls them up
        n_fresh = 0
        deadline = time.monotonic() + 120
        while n_fresh < 10_000 and time.monotonic() < deadline:
            n_fresh += sum(1 for status, _, _ in load(server.port, token, shapes, args.clients, 2.0) if status == 201)
        start = time.perf_counter()
        requests.get(server.url + "/api/v1/dashboard", headers=headers, timeout=120).raise_for_status()
        out["dashboard_after_fresh"] = {"fresh_cases": n_fresh,
                                        "first_read_ms": round((time.perf_counter() - start) * 1000, 1)}
        print(f"[{kind}] first dashboard read after {n_fresh:,} fresh submissions: "
              f"{out['dashboard_after_fresh']['first_read_ms']} ms", flush=True)
    finally:
        server.stop()
        engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="medprint-bench-registry-"))
    results = {}
    if args.only in (None, "sqlite"):
        results["sqlite"] = bench_backend("sqlite", f"sqlite:///{folder / 'registry.sqlite3'}", args, folder)
    if args.only in (None, "postgresql"):
        cluster = PostgresCluster(fsync=True)
        try:
            results["postgresql"] = bench_backend("postgresql", cluster.create_database("bench"), args, folder)
        finally:
            cluster.stop()
    print(json.dumps(results, indent=2))
    pg = results.get("postgresql")
    if pg:
        print(f"targets: >= 500 submissions/s on PostgreSQL: {pg['load']['accepted_per_s']} "
              f"({'met' if pg['load']['accepted_per_s'] >= 500 else 'NOT met'}); dashboard < 300 ms at "
              f"{pg['cases']:,} cases: {pg['dashboard_ms']['http_json_admin']} ms; lost acknowledged records: "
              f"{pg['kill']['lost']}")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
