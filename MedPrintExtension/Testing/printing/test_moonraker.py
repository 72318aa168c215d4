"""The Moonraker client against a real Moonraker 0.11: files without Klipper, and printing through
Moonraker to the Klippy API-socket simulator."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from medprint.printing.config import PrinterConfig, connect
from medprint.printing.moonraker import MoonrakerPrinter
from medprint.printing.printer import CANCELLED, FINISHED, OFFLINE, PAUSED, PRINTING, PrinterError, follow
from print_servers import start_moonraker

KLIPPY_SIM = Path(__file__).with_name("klippy_sim.py")


def _gcode(tmp_path, name="part.gcode"):
    path = tmp_path / name
    path.write_text("".join(f"G1 X{i % 90} Y{i % 70} F3000\n" for i in range(300)))
    return path


def _wait_klippy_ready(url, timeout_s=20):
    import requests
    begin = time.monotonic()
    while requests.get(url + "/server/info", timeout=2).json()["result"]["klippy_state"] != "ready":
        assert time.monotonic() - begin < timeout_s, "Moonraker did not connect to the Klippy simulator"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def moonraker(tmp_path_factory):
    """A real Moonraker and the Klippy simulator on a unix socket (module-wide)."""
    folder = tmp_path_factory.mktemp("moon")
    socket, log = folder / "klippy.sock", folder / "klippy-scripts.log"
    klippy = subprocess.Popen([sys.executable, str(KLIPPY_SIM), str(socket), str(folder / "data" / "gcodes"),
                               "--job-seconds", "2", "--log", str(log)])
    server = start_moonraker(folder / "data", socket)
    try:
        _wait_klippy_ready(server.url)
        server.klippy_log = log
        yield server
    finally:
        server.stop()
        klippy.terminate()
        klippy.wait()


def test_upload_and_listing_without_klipper(tmp_path):
    server = start_moonraker(tmp_path / "data", tmp_path / "no-klippy.sock")
    try:
        printer = MoonrakerPrinter("voron", server.url)
        job = _gcode(tmp_path)
        assert printer.upload(job, "case-9.gcode") == "case-9.gcode"
        assert "case-9.gcode" in printer.files()
        assert (tmp_path / "data" / "gcodes" / "case-9.gcode").read_bytes() == job.read_bytes()
        assert printer.status().state == OFFLINE
        with pytest.raises(PrinterError, match="Klipper is not connected"):
            printer.start("case-9.gcode")
    finally:
        server.stop()


def test_print_followed_to_completion(moonraker, tmp_path):
    printer = connect(PrinterConfig("voron", "moonraker", moonraker.url))
    job = _gcode(tmp_path)
    printer.upload(job, "knee.gcode", start=True)
    status = printer.status()
    assert status.state == PRINTING and status.job == "knee.gcode" and status.temperatures["tool0"] == (215.0, 215.0)
    seen = []
    final = follow(printer, lambda f, m: seen.append(f), poll_s=0.1, timeout_s=30)
    assert final.state == FINISHED and final.progress_pct == 100
    assert any(0 < f < 1 for f in seen)
    assert 'SDCARD_PRINT_FILE FILENAME="knee.gcode"' in moonraker.klippy_log.read_text()


def test_pause_resume_cancel(moonraker, tmp_path):
    printer = MoonrakerPrinter("voron", moonraker.url)
    printer.upload(_gcode(tmp_path, "long.gcode"), start=True)
    printer.pause()
    assert printer.status().state == PAUSED
    printer.resume()
    assert printer.status().state == PRINTING
    printer.cancel()
    final = follow(printer, poll_s=0.1, timeout_s=10)
    assert final.state == CANCELLED and final.progress_pct < 100
    assert final.temperatures["tool0"][1] == 0 and final.temperatures["bed"][1] == 0
    scripts = moonraker.klippy_log.read_text().splitlines()
    assert scripts[-3:] == ["PAUSE", "RESUME", "CANCEL_PRINT"]
    with pytest.raises(PrinterError, match="No job is running"):
        printer.cancel()
