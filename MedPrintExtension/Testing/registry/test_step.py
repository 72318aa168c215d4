"""The "register" workflow step: on a phantom series (a stand-in patient) with no registry (no
network at all) and with an unreachable one (bounded time); on the built-in demo CT (kept in the
case folder, never sent); guide and print results mapped to two coded records; and sent to the real
server with no patient name, ID, UID or date in the payload, the outbox, the logs or the rows."""

from __future__ import annotations

import json
import logging
import shutil
import socket
import time
from pathlib import Path

import pydicom
import pytest
from sqlalchemy import select

from medprint.cli import DEMO_CT
from medprint.phantom import PATIENT_ID, PATIENT_NAME, demo_phantom
from medprint.registry.cpt import suggest_codes
from medprint.registry.deid import records_from_case
from medprint.registry.outbox import Outbox
from medprint.registry.schema import CaseRecord
from medprint.registry.server.db import cases
from medprint.registry.step import run_register
from medprint.workflow import create_case, open_case, run_case
from registry_services import free_port


@pytest.fixture(scope="module")
def modelled(tmp_path_factory):
    """Case folders modelled once: the built-in demo CT, and a phantom series (a stand-in patient)."""
    root = tmp_path_factory.mktemp("cases")
    demo = create_case(root / "demo", "demo")
    run_case(demo, DEMO_CT)
    demo_phantom(root / "dicom")
    patient = create_case(root / "patient", "patient")
    run_case(patient, root / "dicom")
    return {"demo": demo.folder, "patient": patient.folder}


@pytest.fixture
def patient_case(modelled, tmp_path):
    return Path(shutil.copytree(modelled["patient"], tmp_path / "patient"))


@pytest.fixture
def connections(monkeypatch):
    """Every socket connection attempted during the test (the attempts still happen)."""
    attempts = []
    real_connect = socket.socket.connect
    monkeypatch.setattr(socket.socket, "connect", lambda self, addr: (attempts.append(addr), real_connect(self, addr)))
    return attempts


def configure_registry(monkeypatch, url: str, site: str = "site-x", token: str = "mps_secret-token-value"):
    monkeypatch.setenv("MEDPRINT_REGISTRY_URL", url)
    monkeypatch.setenv("MEDPRINT_REGISTRY_SITE", site)
    monkeypatch.setenv("MEDPRINT_REGISTRY_TOKEN", token)


def test_without_registry_the_record_is_queued_and_nothing_touches_the_network(patient_case, user_dirs,
                                                                              connections):
    case = open_case(patient_case)
    summary = run_register(case, lambda f, m: None)
    assert connections == []
    assert summary == "0559T x1 queued (no registry configured)"
    (result,) = open_case(patient_case).results["register"]["records"]
    assert result["object_type"] == "anatomic_model" and result["status"] == "queued (no registry configured)"
    assert result["cpt"] == [{"code": "0559T", "units": 1}]
    assert any("no printed model" in w for w in result["warnings"])
    outbox = Outbox(user_dirs / "data" / "registry-outbox.sqlite3")
    entries = outbox.entries()
    assert [e.case_id for e in entries] == [result["case_id"]] and entries[0].status == "pending"
    record = CaseRecord.model_validate_json(entries[0].payload)
    assert record.site == "unassigned" and record.imaging.source_imaging[0].modality == "CT"
    assert record.imaging.source_imaging[0].slice_thickness_mm == pytest.approx(case.source["slice_thickness_mm"])
    assert record.patient.age_band == "unknown" and record.assessment.usefulness == "unknown"
    on_disk = json.loads((patient_case / result["record"]).read_text())
    assert on_disk == record.model_dump(mode="json")
    # running the step again keeps the case ID and queues nothing new
    run_register(open_case(patient_case), lambda f, m: None)
    assert open_case(patient_case).results["register"]["records"][0]["case_id"] == result["case_id"]
    assert [e.status for e in outbox.entries()] == ["pending"]


def test_unreachable_registry_leaves_the_record_queued_quickly(patient_case, user_dirs, monkeypatch):
    configure_registry(monkeypatch, f"http://127.0.0.1:{free_port()}")
    started = time.monotonic()
    summary = run_register(open_case(patient_case), lambda f, m: None)
    assert time.monotonic() - started < 10
    assert "queued (registry unreachable" in summary
    entry = Outbox(user_dirs / "data" / "registry-outbox.sqlite3").entries()[0]
    assert entry.status == "pending" and entry.attempts == 1
    assert "mps_secret-token-value" not in (patient_case / "case.json").read_text()


def test_the_demo_ct_is_never_sent_even_with_a_registry(modelled, tmp_path, user_dirs, monkeypatch, connections):
    folder = Path(shutil.copytree(modelled["demo"], tmp_path / "demo"))
    configure_registry(monkeypatch, f"http://127.0.0.1:{free_port()}")
    summary = run_register(open_case(folder), lambda f, m: None)
    assert summary == "0559T x1 demo data: kept in the case folder, never sent"
    assert connections == []
    assert not (user_dirs / "data").exists()  # the user's outbox is untouched
    (entry,) = Outbox(folder / "registry" / "demo-outbox.sqlite3").entries()
    assert entry.status == "pending" and CaseRecord.model_validate_json(entry.payload).site == "unassigned"


def test_guide_and_sent_print_make_two_coded_records(tmp_path):
    case = create_case(tmp_path / "case", "guided")
    case.source = {"modality": "CT", "slice_thickness_mm": 1.25, "series_instance_uid": "1.2.3.4.5"}
    case.results["model"] = {"file": "models/guided-bone.stl", "settings": {"preset": "bone"}}
    (tmp_path / "case" / "guide").mkdir()
    (tmp_path / "case" / "guide" / "plan.json").write_text(json.dumps({"cuts": [{}], "trajectories": [{}, {}],
                                                                       "side": "left"}))
    case.results["guide"] = {"file": "guide/guided-guide.stl", "plan": "guide/plan.json"}
    case.results["print"] = {"printer_make": "Formlabs", "printer_model": "Form 3B", "technology": "SLA",
                             "material": "resin-standard", "print_minutes": 95.4, "sent": {"state": "Printing"},
                             "parts": ["models/guided-bone.stl", "guide/guided-guide.stl"]}
    case.steps.update(model="done", guide="done", print="done")
    ids = {}
    model, guide = records_from_case(case, "site-a", ids, 2026)
    assert set(ids) == {"anatomic_model", "anatomic_guide"} and ids["anatomic_guide"] == guide.case_id
    assert codes(suggest_codes(model)) == {"0559T": 1} and codes(suggest_codes(guide)) == {"0561T": 1}
    assert (guide.digital_model.guide_type, guide.digital_model.parts[0].laterality) == ("cutting", "left")
    (printed,) = model.physical_models
    assert (printed.technology, printed.print_minutes, model.effort.printer_run_minutes) == \
        ("vat_photopolymerisation", 95, 95)
    assert guide.physical_models[0].printer_model == "Form 3B"
    assert "1.2.3.4.5" not in model.payload().decode() + guide.payload().decode()
    del case.results["print"]["sent"]  # sliced, never sent: nothing was printed
    assert [r.physical_models for r in records_from_case(case, "site-a", ids, 2026)] == [[], []]


def codes(lines):
    return {line.code: line.units for line in lines}


def test_no_phi_from_the_source_dicom_reaches_payload_outbox_logs_or_server(server, engine, site, tmp_path,
                                                                            user_dirs, monkeypatch, caplog):
    files = demo_phantom(tmp_path / "dicom")
    header = pydicom.dcmread(files[0], stop_before_pixels=True)
    identifiers = {PATIENT_NAME, PATIENT_ID, *PATIENT_NAME.split("^")}
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID",
                    "StudyDate", "SeriesDate", "ContentDate", "AcquisitionDate", "AccessionNumber", "StudyID",
                    "InstitutionName", "DeviceSerialNumber", "PatientBirthDate"):
        value = str(header.get(keyword, "") or "")
        if len(value) >= 4:
            identifiers.add(value)
    assert {str(header.PatientName), header.PatientID, header.StudyInstanceUID} <= identifiers
    monkeypatch.setenv("MEDPRINT_REGISTRY_URL", server.url)
    monkeypatch.setenv("MEDPRINT_REGISTRY_SITE", site[0])
    monkeypatch.setenv("MEDPRINT_REGISTRY_TOKEN", site[1])
    caplog.set_level(logging.DEBUG)
    messages = []
    case = create_case(tmp_path / "case", "phi-check")
    run_case(case, tmp_path / "dicom", progress=lambda f, m: messages.append(m))
    summary = run_register(open_case(case.folder), lambda f, m: messages.append(m))
    assert summary == "0559T x1 sent"

    outbox_file = user_dirs / "data" / "registry-outbox.sqlite3"
    payloads = [e.payload.decode() for e in Outbox(outbox_file).entries()]
    with engine.connect() as conn:
        stored = [r.payload for r in conn.execute(select(cases.c.payload).where(cases.c.site_id == site[0]))]
    assert len(stored) == 1 and json.loads(stored[0])["case_id"] == json.loads(payloads[0])["case_id"]
    outbox_bytes = b"".join(p.read_bytes() for p in outbox_file.parent.iterdir())
    texts = {"payload": "".join(payloads), "stored rows": "".join(stored),
             "case record": (case.folder / "registry" / "anatomic_model.json").read_text(),
             "logs": caplog.text + "\n".join(messages), "server log": server.log_file.read_text()}
    for where, text in texts.items():
        leaked = sorted(value for value in identifiers if value in text)
        assert leaked == [], f"{leaked} reached the {where}"
    assert [v for v in (PATIENT_NAME, PATIENT_ID, *PATIENT_NAME.split("^")) if v.encode() in outbox_bytes] == []
