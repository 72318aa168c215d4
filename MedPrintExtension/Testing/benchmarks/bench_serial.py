"""Serial streaming throughput (lines/s) to the Marlin simulator on a socat pty pair.

Ideal: the simulator alone consuming a pre-written file of numbered lines, written into the pty as
fast as it takes them (no flow control), measured in the same run. MedPrint: MarlinStreamer with
windows of 4 lines in flight (Marlin's default command buffer) and 64 (a firmware with a large
buffer), with 0 % and 1 % of lines damaged on arrival (the simulator asks for resends).
Checks that the simulator accepted every line exactly once, in order. Prints medians of 3 runs.

    .venv/bin/python MedPrintExtension/Testing/benchmarks/bench_serial.py [--lines 20000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import tty
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[0] / "MedPrintModule"), str(HERE.parent / "printing"),
                str(HERE.parents[1] / "MedPrintModule")]

from marlin_rig import MarlinRig  # noqa: E402
from medprint.printing.marlin import MarlinStreamer, numbered  # noqa: E402


def job(lines: int) -> list[str]:
    return [f"G1 X{i % 200 / 2:.2f} Y{(i * 7) % 200 / 2:.2f} E{i * 0.0123:.4f} F2400" for i in range(lines)]


def ideal(folder: Path, commands: list[str]) -> float:
    """The simulator consuming a pre-written file: all lines written at once, oks counted."""
    data = b"M110 N0\n" + b"".join(numbered(n, c) for n, c in enumerate(commands, 1))
    rig = MarlinRig(folder)
    try:
        fd = os.open(rig.host, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(fd)  # as pyserial sets the port up for MedPrint
        begin = time.perf_counter()
        writer = threading.Thread(target=lambda: [os.write(fd, data[i:i + 65536])
                                                  for i in range(0, len(data), 65536)])
        writer.start()
        oks, buffer = 0, b""
        while oks < len(commands) + 1:
            buffer += os.read(fd, 65536)
            oks += buffer.count(b"ok\n")
            buffer = buffer[buffer.rfind(b"\n") + 1:]
        seconds = time.perf_counter() - begin
        writer.join()
        os.close(fd)
    finally:
        rig.stop()
    assert rig.accepted() == commands
    return len(commands) / seconds


def streamed(folder: Path, commands: list[str], corrupt: float, window: int) -> tuple[float, int]:
    rig = MarlinRig(folder, "--corrupt", str(corrupt), "--seed", "7")
    try:
        streamer = MarlinStreamer(rig.host, window=window, poll_s=3600)
        streamer.open()
        stats = streamer.stream(commands, len(commands))
        streamer.close()
    finally:
        rig.stop()
    accepted = rig.accepted()
    assert accepted == commands, "lost, duplicated or reordered lines"
    return len(commands) / stats.seconds, stats.resends


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    commands = job(a.lines)
    cases = [(window, corrupt) for window in (4, 64) for corrupt in (0.0, 0.01)]
    with tempfile.TemporaryDirectory(prefix="bench-serial-") as tmp:
        ideal_rates, rates, resends = [], {c: [] for c in cases}, {c: [] for c in cases}
        for run in range(a.runs):  # interleaved, so machine noise hits all alike
            ideal_rates.append(ideal(Path(tmp) / f"i{run}", commands))
            for n, (window, corrupt) in enumerate(cases):
                rate, count = streamed(Path(tmp) / f"s{run}-{n}", commands, corrupt, window)
                rates[(window, corrupt)].append(rate)
                resends[(window, corrupt)].append(count)
    best = statistics.median(ideal_rates)
    print(f"serial streaming, {a.lines} lines, median of {a.runs} runs (lines/s)")
    print(f"  ideal (simulator alone, pre-written file)   {best:9.0f}")
    for window, corrupt in cases:
        rate = statistics.median(rates[(window, corrupt)])
        print(f"  MedPrint, window {window:>2}, {corrupt:>4.0%} damaged lines  {rate:9.0f}  {rate / best:5.0%} of ideal"
              f"  ({statistics.median(resends[(window, corrupt)]):.0f} resends; every line once, in order)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
