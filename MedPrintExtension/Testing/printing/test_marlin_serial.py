"""USB serial printing: MedPrint's Marlin streamer against the Marlin simulator on a socat pty pair."""

from __future__ import annotations

import subprocess
import time

import pytest

from marlin_rig import MarlinRig
from medprint.printing.config import PrinterConfig, connect
from medprint.printing.gcode import commands
from medprint.printing.marlin import SAFE_STOP, MarlinPrinter, MarlinStreamer, checksum, numbered
from medprint.printing.printer import CANCELLED, FINISHED, PAUSED, PRINTING, PrinterError, follow
from medprint.printing.profiles import material_profile, printer_profile
from medprint.printing.slicing import slice_parts


@pytest.fixture
def rig(tmp_path):
    rigs = []

    def start(*args):
        rigs.append(MarlinRig(tmp_path / f"rig{len(rigs)}", *args))
        return rigs[-1]
    yield start
    for r in rigs:
        r.stop()


def moves(n: int) -> list[str]:
    return [f"G1 X{i % 150 / 2:.1f} Y{(i * 7) % 150 / 2:.1f} E{i * 0.01:.3f} F3000" for i in range(n)]


def test_checksum_is_marlins():
    # values from Marlin's own examples (the XOR of every byte before '*')
    assert checksum("N1 G28") == 18 and numbered(1, "G28") == b"N1 G28*18\n"
    assert numbered(123, "M105") == b"N123 M105*" + str(checksum("N123 M105")).encode() + b"\n"


@pytest.mark.parametrize("window", [1, 4, 16])
def test_every_line_once_in_order_despite_damaged_lines(rig, window):
    r = rig("--corrupt", "0.02", "--resend", "0.01", "--busy", "0.5", "--seed", str(window))
    job = ["G28"] + moves(3000)
    streamer = MarlinStreamer(r.host, window=window, poll_s=0.2)
    streamer.open()
    stats = streamer.stream(job, len(job))
    streamer.close()
    r.stop()
    state = r.state()
    assert state["corrupted"] > 30 and state["injected_resends"] > 10 and state["busy"] >= 2
    assert stats.resends >= state["corrupted"] // 2  # every damaged line was asked for again
    accepted = [c for c in r.accepted() if c != "M105"]
    assert accepted == job  # nothing lost, nothing twice, in order
    assert stats.polls >= 1 and r.accepted().count("M105") == stats.polls


def test_large_window_with_errors_does_not_deadlock(rig):
    # 1000 lines in flight and long error replies fill both directions of the ptys at once
    r = rig("--corrupt", "0.005", "--seed", "3")
    job = moves(3000)
    streamer = MarlinStreamer(r.host, window=1000, timeout_s=5)
    streamer.open()
    stats = streamer.stream(job)
    streamer.close()
    r.stop()
    assert stats.resends >= 5 and r.accepted() == job


def test_idle_status_asks_for_temperatures(rig):
    r = rig()
    printer = connect(PrinterConfig("usb", "serial", r.host))
    status = printer.status()
    printer.close()
    assert status.state == "idle" and status.temperatures == {"tool0": (21.3, 0.0), "bed": (21.3, 0.0)}


def test_wait_for_heat_and_temperature_reports(rig):
    r = rig("--heat-rate", "150")
    streamer = MarlinStreamer(r.host, poll_s=0.1)
    streamer.open()
    stats = streamer.stream(["M140 S60", "M104 S200", "M190 S60", "M109 S200", "G28"] + moves(50))
    streamer.close()
    assert stats.temperatures["tool0"] == (pytest.approx(200, abs=1.5), 200.0)
    assert stats.temperatures["bed"] == (pytest.approx(60, abs=1.5), 60.0)
    assert stats.seconds > 1.0  # the simulator needs about 1.3 s to heat at 150 °C/s


def test_sliced_job_streamed_line_for_line(rig, box_stl, tmp_path):
    profile = printer_profile("prusa-mk4")
    sliced = slice_parts([box_stl((10, 10, 1))], tmp_path / "job.gcode", profile, material_profile("PLA", profile))
    r = rig("--corrupt", "0.01", "--heat-rate", "2000")
    printer = connect(PrinterConfig("usb", "serial", r.host, "prusa-mk4"))
    assert isinstance(printer, MarlinPrinter)
    printer.upload(sliced.output, start=True)
    final = follow(printer, poll_s=0.05, timeout_s=60)
    printer.close()
    r.stop()
    assert final.state == FINISHED and final.progress_pct == 100
    assert [c for c in r.accepted() if c != "M105"] == list(commands(sliced.output))


def test_cancel_breaks_the_heat_wait_and_switches_heaters_off(rig):
    r = rig("--heat-rate", "5")  # M109 S200 would take about 40 s
    printer = MarlinPrinter("usb", r.host)
    job = r.record.parent / "job.gcode"
    job.write_text("\n".join(["M140 S60", "M109 S200"] + moves(200)) + "\n")
    printer.upload(job, start=True)
    time.sleep(1.0)
    assert printer.status().state == PRINTING and printer.status().temperatures["tool0"][1] == 200
    begin = time.monotonic()
    printer.cancel()
    printer.wait(10)
    assert time.monotonic() - begin < 3
    assert printer.status().state == CANCELLED
    printer.close()
    r.stop()
    accepted = [c for c in r.accepted() if c != "M105"]
    assert accepted[-len(SAFE_STOP):] == list(SAFE_STOP) and "M108" in accepted
    assert len(accepted) < 20  # the job's moves after the heat wait were dropped
    assert r.state()["targets"] == {"T": 0.0, "B": 0.0}


def test_pause_stops_feeding_and_resume_finishes(rig):
    r = rig()
    printer = MarlinPrinter("usb", r.host, window=2)
    job = r.record.parent / "job.gcode"
    job.write_text("\n".join(["G4 P0"] * 5 + moves(20000)) + "\n")
    printer.upload(job, start=True)
    time.sleep(0.3)
    printer.pause()
    time.sleep(0.2)
    done = printer.status().progress_pct
    time.sleep(0.5)
    assert printer.status().state == PAUSED and printer.status().progress_pct == done < 100
    printer.resume()
    printer.wait(120)
    assert printer.status().state == FINISHED
    printer.close()
    r.stop()
    assert len([c for c in r.accepted() if c != "M105"]) == 20005


def test_disconnect_ends_the_job_with_an_error(rig):
    r = rig("--disconnect-after", "500")
    streamer = MarlinStreamer(r.host, timeout_s=30)
    streamer.open()
    begin = time.monotonic()
    with pytest.raises(PrinterError, match="connection to the printer .* was lost"):
        streamer.stream(moves(5000))
    assert time.monotonic() - begin < 5  # not the 30 s silence timeout: the port reports the loss
    streamer.close()


def test_silence_times_out(rig):
    r = rig("--silent-after", "100")
    streamer = MarlinStreamer(r.host, timeout_s=1.0)
    streamer.open()
    begin = time.monotonic()
    with pytest.raises(PrinterError, match="stopped answering for 1 s"):
        streamer.stream(moves(1000))
    assert time.monotonic() - begin < 3
    streamer.close()


def test_printer_halt_is_an_error(rig):
    r = rig("--halt-after", "100")
    streamer = MarlinStreamer(r.host, timeout_s=10)
    streamer.open()
    with pytest.raises(PrinterError, match="Printer halted"):
        streamer.stream(moves(1000))
    streamer.close()


def test_no_printer_on_the_port(tmp_path):
    host = tmp_path / "ttyHOST"
    socat = subprocess.Popen(["socat", f"pty,raw,echo=0,link={host}", f"pty,raw,echo=0,link={tmp_path / 'fw'}"],
                             stderr=subprocess.DEVNULL)
    try:
        while not host.exists():
            time.sleep(0.02)
        streamer = MarlinStreamer(str(host), connect_timeout_s=1.5)
        with pytest.raises(PrinterError, match="does not answer"):
            streamer.open()
        with pytest.raises(PrinterError, match="Cannot open"):
            MarlinStreamer(str(tmp_path / "no-such-port")).open()
    finally:
        socat.terminate()
        socat.wait()


def test_disconnect_while_followed_reports_the_lost_connection(rig):
    r = rig("--disconnect-after", "300")
    printer = MarlinPrinter("usb", r.host)
    job = r.record.parent / "job.gcode"
    job.write_text("\n".join(moves(3000)) + "\n")
    printer.upload(job, start=True)
    with pytest.raises(PrinterError, match="was lost"):
        follow(printer, poll_s=0.05, timeout_s=20)
    printer.close()
