"""Serial streaming throughput (lines/s) to the Marlin simulator on a socat pty pair.

Ideal: the simulator alone consuming a pre-written file of numbered lines (no pty, no host, no
waiting for answers), measured in the same run. MedPrint: MarlinStreamer with
windows of 4 lines in flight (Marlin's default command buffer), 64 (a firmware with a large
buffer) and 1024 (the simulator's buffer is unbounded), with 0 % and 1 % of lines damaged on
arrival (the simulator asks for resends). Each round trip crosses two ptys and socat, so small
windows are bound by latency, not by MedPrint's own work: the last column is lines per second of
MedPrint's own CPU time. Checks that the simulator accepted every line exactly once, in order.
Prints medians of 3 runs.

    .venv/bin/python MedPrintExtension/Testing/benchmarks/bench_serial.py [--lines 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1] / "MedPrintModule"), str(HERE.parent / "printing")]

from marlin_rig import SIM, MarlinRig  # noqa: E402
from medprint.printing.marlin import MarlinStreamer, numbered  # noqa: E402


def job(lines: int) -> list[str]:
    return [f"G1 X{i % 200 / 2:.2f} Y{(i * 7) % 200 / 2:.2f} E{i * 0.0123:.4f} F2400" for i in range(lines)]


def ideal(folder: Path, commands: list[str]) -> float:
    """The simulator alone consuming a pre-written file of the numbered lines (replies discarded):
    its own lines/s, from its first byte read to its last line answered; best of three."""
    folder.mkdir(parents=True, exist_ok=True)
    prewritten, record = folder / "job.txt", folder / "accepted.txt"
    prewritten.write_bytes(b"".join(numbered(n, c) for n, c in enumerate(commands, 1)))
    rates = []
    for _ in range(3):  # the best of three: the ideal is what the simulator can do
        subprocess.run([sys.executable, str(SIM), str(prewritten), "--replies", os.devnull, "--record", str(record)],
                       check=True)
        assert record.read_text().splitlines() == commands
        rates.append(len(commands) / json.loads(Path(str(record) + ".json").read_text())["seconds"])
    return max(rates)


def streamed(folder: Path, commands: list[str], corrupt: float, window: int) -> tuple[float, int, float]:
    """MedPrint streaming to the simulator on the pty pair: lines/s, resends, and lines per second
    of MedPrint's own CPU time (what the host costs, without waiting for the ptys and socat)."""
    rig = MarlinRig(folder, "--corrupt", str(corrupt), "--seed", "7")
    try:
        streamer = MarlinStreamer(rig.host, window=window, poll_s=3600)
        streamer.open()
        cpu = time.process_time()
        stats = streamer.stream(commands, len(commands))
        cpu = time.process_time() - cpu
        streamer.close()
    finally:
        rig.stop()
    accepted = rig.accepted()
    assert accepted == commands, "lost, duplicated or reordered lines"
    return len(commands) / stats.seconds, stats.resends, len(commands) / cpu


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    commands = job(a.lines)
    cases = [(window, corrupt) for window in (4, 64, 1024) for corrupt in (0.0, 0.01)]
    with tempfile.TemporaryDirectory(prefix="bench-serial-") as tmp:
        alone, figures = [], {c: [] for c in cases}
        for run in range(a.runs):  # interleaved, so machine noise hits all alike
            alone.append(ideal(Path(tmp) / f"i{run}", commands))
            for n, (window, corrupt) in enumerate(cases):
                figures[(window, corrupt)].append(streamed(Path(tmp) / f"s{run}-{n}", commands, corrupt, window))
    best = statistics.median(alone)
    print(f"serial streaming, {a.lines} lines, median of {a.runs} runs (lines/s)")
    print(f"  ideal: simulator alone on a pre-written file  {best:9.0f}")
    print("  MedPrint to the simulator on a socat pty pair:      wall       vs ideal   MedPrint CPU only")
    for window, corrupt in cases:
        rate, resends, cpu = (statistics.median(f[i] for f in figures[(window, corrupt)]) for i in range(3))
        print(f"  window {window:>4}, {corrupt:>3.0%} damaged lines  {rate:9.0f}  {rate / best:5.0%}"
              f"  {cpu:9.0f} ({cpu / best:4.0%})  {resends:.0f} resends; every line once, in order")
    return 0


if __name__ == "__main__":
    sys.exit(main())
