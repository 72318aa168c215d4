"""The PrusaLink client against a server following PrusaLink's OpenAPI (digest and API-key auth)."""

from __future__ import annotations

import time

import pytest

from medprint.printing.config import PrinterConfig, connect
from medprint.printing.printer import CANCELLED, FINISHED, PAUSED, PRINTING, PrinterError, follow
from medprint.printing.prusalink import PrusaLinkPrinter
from prusalink_server import PrusaLinkSim


@pytest.fixture
def link():
    sims = []

    def start(**kwargs):
        sims.append(PrusaLinkSim(**kwargs))
        return sims[-1]
    yield start
    for sim in sims:
        sim.stop()


def _gcode(tmp_path, lines=500):
    path = tmp_path / "job.gcode"
    path.write_text("".join(f"G1 X{i % 90} Y{i % 70} F3000\n" for i in range(lines)))
    return path


def test_digest_auth_upload_print_and_follow(link, tmp_path):
    sim = link(password="s3cret-pw")
    printer = connect(PrinterConfig("mk4", "prusalink", sim.url, username="maker", password="s3cret-pw"))
    job = _gcode(tmp_path)
    assert printer.upload(job, "case 7.gcode", start=True) == "case 7.gcode"
    assert sim.files["case 7.gcode"] == job.read_bytes()  # body intact after the digest challenge
    seen = []
    final = follow(printer, lambda f, m: seen.append(f), poll_s=0.1, timeout_s=20)
    assert final.state == FINISHED and final.progress_pct == 100
    assert 0 < min(seen) < 1 and seen == sorted(seen)
    # the first request drew the digest challenge (401); every later one was digest-authenticated
    assert sim.requests[0][2] == "" and len(sim.requests) > 5
    assert all(how == "digest" for _, _, how in sim.requests[1:])
    assert ("PUT", "/api/v1/files/usb/case%207.gcode", "digest") in sim.requests


def test_api_key_auth_start_pause_resume_cancel(link, tmp_path):
    sim = link(api_key="key-abc", job_seconds=30)
    printer = PrusaLinkPrinter("mk4", sim.url, api_key="key-abc")
    printer.upload(_gcode(tmp_path), "part.gcode")
    assert sim.job is None
    printer.start("part.gcode")
    status = printer.status()
    assert status.state == PRINTING and status.temperatures == {"tool0": (215.0, 215.0), "bed": (60.0, 60.0)}
    printer.pause()
    assert printer.status().state == PAUSED
    printer.resume()
    assert printer.status().state == PRINTING
    with pytest.raises(PrinterError, match="busy"):
        printer.start("part.gcode")
    printer.cancel()
    final = follow(printer, poll_s=0.1, timeout_s=5)
    assert final.state == CANCELLED and final.progress_pct < 10
    assert {how for _, _, how in sim.requests} == {"api-key"}
    with pytest.raises(PrinterError, match="No job is running"):
        printer.cancel()


def test_wrong_password_and_wrong_key_are_clear_errors(link, tmp_path):
    sim = link(password="right", api_key="right-key")
    for printer in (PrusaLinkPrinter("mk4", sim.url, username="maker", password="wrong"),
                    PrusaLinkPrinter("mk4", sim.url, api_key="wrong-key")):
        with pytest.raises(PrinterError) as err:
            printer.upload(_gcode(tmp_path), start=True)
        assert "refused MedPrint's credentials (HTTP 401)" in str(err.value)
        assert "wrong" not in str(err.value) + err.value.hint + err.value.detail
    assert sim.files == {}


def test_upload_while_printing_is_refused(link, tmp_path):
    sim = link(api_key="k", job_seconds=30)
    printer = PrusaLinkPrinter("mk4", sim.url, api_key="k")
    printer.upload(_gcode(tmp_path), "a.gcode", start=True)
    with pytest.raises(PrinterError, match="did not take the file: Printer is busy"):
        printer.upload(_gcode(tmp_path), "b.gcode", start=True)
    time.sleep(0.1)
    assert printer.status().job == "a.gcode" and 0 < printer.status().progress_pct < 100
