"""The OctoPrint client against a real OctoPrint 1.11 and its Virtual Printer on 127.0.0.1."""

from __future__ import annotations

import threading
import time

import pytest

from medprint.printing.octoprint import OctoPrintPrinter
from medprint.printing.printer import CANCELLED, FINISHED, PAUSED, PRINTING, PrinterError, follow
from medprint.printing.profiles import material_profile, printer_profile
from medprint.printing.slicing import SliceSettings, slice_parts
from print_servers import API_KEY, free_port, moves_gcode, start_octoprint


def test_sliced_job_printed_to_completion(octoprint, box_stl, tmp_path):
    printer_p = printer_profile("octoprint-virtual")
    sliced = slice_parts([box_stl((12, 12, 0.6))], tmp_path / "plate.gcode", printer_p,
                         material_profile("PLA", printer_p), SliceSettings(layer_height_mm=0.2))
    printer = OctoPrintPrinter("virtual", octoprint.url, API_KEY)
    assert printer.check()["server"].startswith("1.11")
    remote = printer.upload(sliced.output, "case-plate.gcode", start=True)
    assert remote == "case-plate.gcode"
    seen = []
    final = follow(printer, lambda f, m: seen.append((f, m)), poll_s=0.3, timeout_s=120)
    assert final.state == FINISHED and final.progress_pct == 100
    assert any("printing" in m for _, m in seen)
    # the slicer's heat-up ran on the virtual printer: it reached the PLA temperatures
    temps = printer.status().temperatures
    assert temps["tool0"][0] > 150 and temps["bed"][0] > 40
    # what OctoPrint stored is byte for byte what was sliced
    stored = printer.http.request("GET", "/downloads/files/local/case-plate.gcode").content
    assert stored == sliced.output.read_bytes()


def test_pause_resume_and_cancel_mid_print(octoprint, tmp_path):
    printer = OctoPrintPrinter("virtual", octoprint.url, API_KEY)
    remote = printer.upload(moves_gcode(tmp_path / "long.gcode", 4000), start=False)
    printer.start(remote)
    begin = time.monotonic()
    while printer.status().state != PRINTING:
        assert time.monotonic() - begin < 20
        time.sleep(0.1)
    printer.pause()
    begin = time.monotonic()
    while printer.status().state != PAUSED:
        assert time.monotonic() - begin < 10
        time.sleep(0.1)
    paused_at = printer.status().progress_pct
    assert paused_at is not None
    time.sleep(0.5)
    assert printer.status().progress_pct == paused_at
    printer.resume()
    begin = time.monotonic()  # OctoPrint may briefly report no progress while the job restarts
    while not ((now := printer.status()).state == PRINTING and (now.progress_pct or 0) > paused_at):
        assert time.monotonic() - begin < 10, f"no progress after resume: {now}"
        time.sleep(0.1)
    before_cancel = printer.status().progress_pct
    printer.cancel()
    final = follow(printer, poll_s=0.2, timeout_s=30)
    # cancelled part-way: OctoPrint may already have reset the job's progress when follow() looks
    assert final.state == CANCELLED and 0 < before_cancel < 100
    assert final.progress_pct is None or final.progress_pct < 100
    with pytest.raises(PrinterError, match="no job is running"):
        printer.cancel()


def test_wrong_api_key_is_a_clear_error(octoprint, tmp_path):
    printer = OctoPrintPrinter("virtual", octoprint.url, "not-the-key")
    with pytest.raises(PrinterError) as err:
        printer.upload(moves_gcode(tmp_path / "a.gcode", 10))
    assert "refused MedPrint's credentials" in str(err.value)
    assert "not-the-key" not in str(err.value) + err.value.hint + err.value.detail
    with pytest.raises(PrinterError, match="refused MedPrint's credentials .HTTP 403"):
        printer.status()


def test_nothing_listening_fails_fast(tmp_path):
    printer = OctoPrintPrinter("virtual", f"http://127.0.0.1:{free_port()}", API_KEY, timeout_s=2)
    begin = time.monotonic()
    with pytest.raises(PrinterError, match="Cannot reach OctoPrint"):
        printer.status()
    assert time.monotonic() - begin < 3


def test_server_stopped_mid_job_ends_with_an_error(tmp_path):
    server = start_octoprint(tmp_path / "octo")
    try:
        printer = OctoPrintPrinter("virtual", server.url, API_KEY, timeout_s=3)
        printer.upload(moves_gcode(tmp_path / "long.gcode", 4000), start=True)
        threading.Timer(1.5, server.stop).start()
        begin = time.monotonic()
        with pytest.raises(PrinterError, match="Cannot reach OctoPrint|did not answer"):
            follow(printer, poll_s=0.2, timeout_s=60)
        assert time.monotonic() - begin < 15
    finally:
        server.stop()


def test_job_through_the_virtual_printers_resend_errors(tmp_path):
    """The plugin's default simulated errors (resend, resend with timeout, missing line number,
    checksum mismatch at lines 100-115) are on: the job still completes."""
    server = start_octoprint(tmp_path / "octo", simulated_errors=True)
    try:
        printer = OctoPrintPrinter("virtual", server.url, API_KEY)
        printer.upload(moves_gcode(tmp_path / "job.gcode", 300), start=True)
        final = follow(printer, poll_s=0.3, timeout_s=120)
        assert final.state == FINISHED
        log = (tmp_path / "octo" / "logs" / "octoprint.log").read_text()
        assert "Got a resend request from the printer: requested line = 100" in log
    finally:
        server.stop()
