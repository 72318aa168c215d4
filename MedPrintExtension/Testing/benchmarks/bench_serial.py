"""Serial streaming throughput (lines/s) to the Marlin simulator on a socat pty pair.

Reference ("ideal", measured in the same run): the simulator consuming a pre-written file of the
numbered lines through the *same* transport — a plain writer pours the file into the host end of
the socat pty pair as fast as the port takes it and drains the replies. That is the transport's
ceiling, like for like with MedPrint. Without flow control the pty buffers fill up and the rate
drops a little, so the ideal is the best plain writer of the run: without flow control or with
any of the windows below (the previous reference, the simulator reading the file directly
without ptys or socat, is printed too, for comparison).

Latency bound per window: a minimal writer that keeps ``window`` pre-numbered lines in flight and
only counts ``ok`` (no checks, no resends). With a window of 4 (Marlin's command buffer, MedPrint's
default) every 4 lines wait for a round trip through two ptys and socat, so no host can approach
the ceiling there; the figure shows how close MedPrint is to what the window allows.

MedPrint: MarlinStreamer at windows 4, 64 and 1024, with 0 % and 1 % of lines damaged on arrival
(the simulator asks for resends); checks that the simulator accepted every line exactly once, in
order. Every rate is lines / host wall-clock seconds from the first byte written to the last ok.
Medians of ``--runs`` interleaved runs.

    .venv/bin/python MedPrintExtension/Testing/benchmarks/bench_serial.py [--lines 20000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time
import tty
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1] / "MedPrintModule"), str(HERE.parent / "printing")]

from marlin_rig import SIM, MarlinRig  # noqa: E402
from medprint.printing.marlin import MarlinStreamer, numbered  # noqa: E402

WINDOWS = (4, 64, 1024)


def job(lines: int) -> list[str]:
    return [f"G1 X{i % 200 / 2:.2f} Y{(i * 7) % 200 / 2:.2f} E{i * 0.0123:.4f} F2400" for i in range(lines)]


def prewritten(commands: list[str]) -> bytes:
    return b"M110 N0\n" + b"".join(numbered(n, c) for n, c in enumerate(commands, 1))


def sim_on_file(folder: Path, commands: list[str]) -> float:
    """The previous reference: the simulator reading the pre-written file itself (no ptys, no
    socat), replies discarded; its own lines/s from its first byte read to its last line answered."""
    folder.mkdir(parents=True, exist_ok=True)
    file, record = folder / "job.txt", folder / "accepted.txt"
    file.write_bytes(prewritten(commands))
    subprocess.run([sys.executable, str(SIM), str(file), "--replies", os.devnull, "--record", str(record)],
                   check=True)
    assert record.read_text().splitlines() == commands
    return len(commands) / json.loads(Path(str(record) + ".json").read_text())["seconds"]


def plain_writer(folder: Path, commands: list[str], window: Optional[int]) -> float:
    """A minimal host on the pty pair: the pre-written numbered lines, all at once as fast as the
    port takes them (``window`` None: the transport's ceiling) or ``window`` lines in flight,
    counting replies only. Lines/s from the first byte written to the last ok read."""
    rig = MarlinRig(folder)
    try:
        fd = os.open(rig.host, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(fd)
        heard = b""
        while b"start" not in heard:  # the simulator is up
            if select.select([fd], [], [], 5)[0]:
                heard += os.read(fd, 4096)
        data = prewritten(commands)
        ends = [i + 1 for i, byte in enumerate(data) if byte == 10]  # byte offset after each line
        oks, sent, wanted = 0, 0, len(commands) + 1
        begin = time.perf_counter()
        while oks < wanted:
            limit = len(data) if window is None else ends[min(oks + window, wanted) - 1]
            if sent < limit:
                try:
                    sent += os.write(fd, data[sent:limit])
                except BlockingIOError:
                    pass
            readable, _, _ = select.select([fd], [fd] if sent < limit else [], [], 5)
            if readable:
                oks += os.read(fd, 65536).count(b"\n")  # without errors every reply is one "ok" line
        seconds = time.perf_counter() - begin
        os.close(fd)
    finally:
        rig.stop()
    assert rig.accepted() == commands
    return len(commands) / seconds


def medprint(folder: Path, commands: list[str], corrupt: float, window: int) -> tuple[float, int]:
    """MarlinStreamer to the simulator on the pty pair: lines/s and resends."""
    rig = MarlinRig(folder, "--corrupt", str(corrupt), "--seed", "7")
    try:
        streamer = MarlinStreamer(rig.host, window=window, poll_s=3600)
        streamer.open()
        stats = streamer.stream(commands, len(commands))
        streamer.close()
    finally:
        rig.stop()
    assert rig.accepted() == commands, "lost, duplicated or reordered lines"
    return len(commands) / stats.seconds, stats.resends


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    commands = job(a.lines)
    figures: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-serial-") as tmp:
        for run in range(a.runs):  # interleaved, so machine noise hits all alike
            def add(key, value):
                figures.setdefault(key, []).append(value)
            folder = Path(tmp) / str(run)
            add("file", sim_on_file(folder / "file", commands))
            add("ceiling", plain_writer(folder / "ceiling", commands, None))
            for window in WINDOWS:
                add(("plain", window), plain_writer(folder / f"plain{window}", commands, window))
                for corrupt in (0.0, 0.01):
                    add((window, corrupt), medprint(folder / f"m{window}-{corrupt}", commands, corrupt, window))
    med = {k: statistics.median(v) if not isinstance(v[0], tuple) else
           tuple(statistics.median(x[i] for x in v) for i in range(2)) for k, v in figures.items()}
    ceiling = max([med["ceiling"]] + [med[("plain", w)] for w in WINDOWS])
    print(f"serial streaming, {a.lines} lines, median of {a.runs} runs (lines/s, host wall clock)")
    print(f"  ideal: the simulator consuming the pre-written file through the socat pty pair  {ceiling:9.0f}")
    print(f"  (the plain writer without flow control                                          {med['ceiling']:9.0f})")
    print(f"  (previous reference: the simulator reading the file itself, no ptys or socat    {med['file']:9.0f})")
    print("  window  minimal writer (% ideal)   MedPrint 0 % errors (% ideal, % minimal)   MedPrint 1 % errors")
    for window in WINDOWS:
        plain = med[("plain", window)]
        rate, _ = med[(window, 0.0)]
        bad, resends = med[(window, 0.01)]
        print(f"  {window:>6}  {plain:9.0f} ({plain / ceiling:4.0%})        {rate:9.0f} ({rate / ceiling:4.0%}, "
              f"{rate / plain:4.0%})              {bad:9.0f}, {resends:.0f} resends, every line once, in order")
    return 0


if __name__ == "__main__":
    sys.exit(main())
