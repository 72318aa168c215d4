"""A socat pty pair with the Marlin simulator on one end (the host end is a serial port path)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

SIM = Path(__file__).with_name("marlin_sim.py")


class MarlinRig:
    """``host`` is the port MedPrint opens; ``stop()`` ends the simulator and socat, then
    ``accepted()``/``state()`` read what the simulator recorded."""

    def __init__(self, folder: Path, *sim_args: str):
        folder.mkdir(parents=True, exist_ok=True)
        self.host, fw = str(folder / "ttyHOST"), str(folder / "ttyFW")
        self.record = folder / "accepted.txt"
        self.socat = subprocess.Popen(["socat", f"pty,raw,echo=0,link={self.host}",
                                       f"pty,raw,echo=0,wait-slave,link={fw}"], stderr=subprocess.DEVNULL)
        begin = time.monotonic()
        while not (Path(self.host).exists() and Path(fw).exists()):
            assert self.socat.poll() is None and time.monotonic() - begin < 5, "socat did not make the ptys"
            time.sleep(0.02)
        self.sim = subprocess.Popen([sys.executable, str(SIM), fw, "--record", str(self.record), *sim_args])

    def stop(self) -> None:
        for proc in (self.sim, self.socat):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

    def accepted(self) -> list[str]:
        return self.record.read_text().splitlines()

    def state(self) -> dict:
        return json.loads(Path(str(self.record) + ".json").read_text())
