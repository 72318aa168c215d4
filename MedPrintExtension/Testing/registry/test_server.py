"""The registry server as a real uvicorn process on SQLite and on PostgreSQL: migrations, submissions,
idempotency, refusals (nothing stored), site isolation, dashboard figures and CSV export."""

from __future__ import annotations

import csv
import io
import json
import threading
import uuid

import requests
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from registry_records import make_record
from registry_services import RegistryServer
from sqlalchemy import func, inspect, select

from medprint.registry.server import store
from medprint.registry.server.auth import add_admin
from medprint.registry.server.db import agg, cases, metadata


def post(server, token, body: bytes, key: str = "", **headers):
    return requests.post(server.url + "/api/v1/cases", data=body, timeout=10, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json",
        "Idempotency-Key": key or uuid.uuid4().hex, **headers})


def rows(engine, site_id: str) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(cases).where(cases.c.site_id == site_id)).scalar_one()


def test_migrations_from_empty_match_the_models(engine):
    assert set(inspect(engine).get_table_names()) >= {"sites", "tokens", "cases", "agg", "alembic_version"}
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one() == "0001"


def test_submit_then_duplicate_is_one_row(server, engine, site):
    site_id, token = site
    record = make_record(site_id, parts=5)
    first = post(server, token, record.payload(), key="key-00000001")
    assert first.status_code == 201, first.text
    assert first.json() == {"status": "created", "case_id": record.case_id}
    again = post(server, token, record.payload(), key="key-00000001")
    assert again.status_code == 409 and again.json()["status"] == "duplicate"
    other_key = post(server, token, record.payload(), key="key-00000002")
    assert other_key.status_code == 409 and other_key.json()["status"] == "case_exists"
    assert rows(engine, site_id) == 1
    stored = requests.get(f"{server.url}/api/v1/cases/{record.case_id}", timeout=10,
                          headers={"Authorization": f"Bearer {token}"})
    assert stored.status_code == 200
    assert stored.json() == json.loads(record.payload())
    assert {c["code"]: c["units"] for c in stored.json()["cpt"]} == {"0559T": 1, "0560T": 4}


def test_same_key_with_another_record_is_refused(server, engine, site):
    site_id, token = site
    assert post(server, token, make_record(site_id).payload(), key="reused-key-1").status_code == 201
    response = post(server, token, make_record(site_id).payload(), key="reused-key-1")
    assert response.status_code == 422 and "different record" in response.text
    assert rows(engine, site_id) == 1


def test_bad_input_gets_the_right_4xx_and_nothing_is_stored(server, engine, site):
    site_id, token = site
    good = json.loads(make_record(site_id, parts=3).payload())

    addon_alone = {**good, "cpt": [{"code": "0560T", "units": 2}]}
    response = post(server, token, json.dumps(addon_alone).encode())
    assert response.status_code == 422
    assert "0560T is an add-on code and needs 0559T" in response.json()["detail"][0]["msg"]

    guide_code_on_model = {**good, "cpt": [{"code": "0561T", "units": 1}]}
    assert post(server, token, json.dumps(guide_code_on_model).encode()).status_code == 422

    missing = {k: v for k, v in good.items() if k != "digital_model"}
    response = post(server, token, json.dumps(missing).encode())
    assert response.status_code == 422
    assert ["digital_model"] in [e["loc"] for e in response.json()["detail"]]

    with_uid = {**good, "study_instance_uid": "1.2.826.0.1.3680043.8.498.1"}
    response = post(server, token, json.dumps(with_uid).encode())
    assert response.status_code == 422 and response.json()["detail"][0]["type"] == "extra_forbidden"

    with_mesh = {**good, "attachments": [{"name": "face.stl", "data": "c29saWQ="}]}
    assert post(server, token, json.dumps(with_mesh).encode()).status_code == 422

    text = "seen by Dr. Moreau on 03/04/2025, MRN 00123456"
    phi = {**good, "imaging": {**good["imaging"], "indication_text": text}}
    response = post(server, token, json.dumps(phi).encode())
    assert response.status_code == 422
    spans = {text[e["start"]:e["end"]] for e in response.json()["detail"]}
    assert {"Dr. Moreau", "03/04/2025"} <= spans and any("00123456" in s for s in spans)
    assert "Moreau" not in json.dumps([e["loc"] for e in response.json()["detail"]])

    big = {**good, "imaging": {**good["imaging"], "indication_text": "x" * 70_000}}
    response = post(server, token, json.dumps(big).encode())
    assert response.status_code == 413

    assert post(server, "mps_not-a-token", json.dumps(good).encode()).status_code == 401
    assert requests.post(server.url + "/api/v1/cases", data=json.dumps(good), timeout=10,
                         headers={"Idempotency-Key": uuid.uuid4().hex}).status_code == 401
    assert post(server, token, json.dumps(good).encode(), key="bad key!").status_code == 400
    assert rows(engine, site_id) == 0

    assert post(server, token, json.dumps(good).encode()).status_code == 201
    assert rows(engine, site_id) == 1


def test_sites_see_only_their_own_cases(server, engine, site):
    a_id, a_token = site
    b_id = "other-" + uuid.uuid4().hex[:8]
    from medprint.registry.server.auth import add_site
    b_token = add_site(engine, b_id)
    record_b = make_record(b_id)
    assert post(server, b_token, record_b.payload()).status_code == 201

    as_a = requests.get(f"{server.url}/api/v1/cases/{record_b.case_id}", timeout=10,
                        headers={"Authorization": f"Bearer {a_token}"})
    assert as_a.status_code == 404 and record_b.case_id not in as_a.text.replace("no such case", "")
    forged = post(server, a_token, make_record(b_id).payload())  # site A posting as site B
    assert forged.status_code == 403
    assert rows(engine, b_id) == 1 and rows(engine, a_id) == 0
    export_a = requests.get(f"{server.url}/api/v1/export.csv", timeout=10, headers={"Authorization": f"Bearer {a_token}"})
    assert record_b.case_id not in export_a.text
    admin = add_admin(engine)
    as_admin = requests.get(f"{server.url}/api/v1/cases/{record_b.case_id}", timeout=10,
                            headers={"Authorization": f"Bearer {admin}"})
    assert as_admin.status_code == 403
    assert post(server, admin, record_b.payload()).status_code == 403


def test_dashboard_figures_and_csv_of_seeded_cases(server, engine, site):
    site_id, token = site
    seeded = [make_record(site_id, parts=p) for p in (1, 2, 5)] + \
             [make_record(site_id, parts=1, object_type="anatomic_guide")]
    for record in seeded:
        assert post(server, token, record.payload()).status_code == 201
    figures = requests.get(server.url + "/api/v1/dashboard", timeout=10,
                           headers={"Authorization": f"Bearer {token}"}).json()
    assert figures["cases"] == 4 and figures["anatomic_models"] == 3 and figures["anatomic_guides"] == 1
    assert figures["by_cpt"] == {"0559T": {"cases": 3, "units": 3}, "0560T": {"cases": 2, "units": 5},
                                 "0561T": {"cases": 1, "units": 1}}
    assert figures["by_technology"] == {"vat_photopolymerisation": 4}
    assert figures["estimated_or_minutes_saved"] == 3 * 62 + 23
    assert figures["estimated_dollars_saved"] == (3 * 62 + 23) * 62
    assert figures["clinician_minutes_saved"] == {"n": 4, "total": 120.0}
    assert figures["mean_minutes"]["segmentation.non_clinician"] == {"n": 4, "mean": 90.0}

    text = requests.get(server.url + "/api/v1/export.csv", timeout=10,
                        headers={"Authorization": f"Bearer {token}"}).text
    table = list(csv.DictReader(io.StringIO(text)))
    assert [r["case_id"] for r in table] == [r.case_id for r in seeded]
    assert table[2]["cpt"] == "0559Tx1 0560Tx4" and table[3]["cpt"] == "0561Tx1"

    admin = add_admin(engine)
    admin_csv = requests.get(server.url + "/api/v1/export.csv", timeout=10,
                             headers={"Authorization": f"Bearer {admin}"}).text
    assert "case_id" not in admin_csv.splitlines()[0]
    mine = [r for r in csv.DictReader(io.StringIO(admin_csv)) if r["site"] == site_id and r["dimension"] == "cpt"]
    assert {r["key"]: int(float(r["total"])) for r in mine} == {"0559T": 3, "0560T": 5, "0561T": 1}


def test_openapi_documents_the_case_record(server):
    spec = requests.get(server.url + "/openapi.json", timeout=10).json()
    body = spec["paths"]["/api/v1/cases"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/CaseRecord"}
    assert "digital_model" in spec["components"]["schemas"]["CaseRecord"]["required"]


def test_rate_limit_refuses_with_429_and_stores_nothing_refused(database_url, engine, site, tmp_path):
    site_id, token = site
    limited = RegistryServer(database_url, tmp_path / "limited.log", rate=1.0, burst=3)
    try:
        codes = [post(limited, token, make_record(site_id).payload()).status_code for _ in range(6)]
    finally:
        limited.stop()
    assert codes[:3] == [201, 201, 201] and 429 in codes[3:]
    assert rows(engine, site_id) == codes.count(201)


def test_concurrent_rollups_count_each_case_once(server, engine, site):
    site_id, _ = site
    for _ in range(300):
        record = make_record(site_id)
        assert store.insert_case(engine, site_id, uuid.uuid4().hex, record).outcome == "created"
    threads = [threading.Thread(target=store.rollup, args=(engine,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with engine.connect() as conn:
        counted = conn.execute(select(func.sum(agg.c.n)).where(agg.c.site_id == site_id, agg.c.dim == "cases")
                               ).scalar_one()
        units = conn.execute(select(func.sum(agg.c.total)).where(agg.c.site_id == site_id, agg.c.key == "0560T")
                             ).scalar_one()
        waiting = conn.execute(select(func.count()).select_from(cases).where(
            cases.c.site_id == site_id, cases.c.rolled_up == False)).scalar_one()  # noqa: E712
    assert (counted, units, waiting) == (300, 300.0, 0)
