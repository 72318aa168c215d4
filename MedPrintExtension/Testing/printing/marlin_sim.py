"""A Marlin firmware simulator on one end of a pty pair (the test suite's printer for USB serial).

It checks line numbers and checksums like Marlin (``Error:checksum mismatch`` / ``Error:Line
Number is not Last Line Number+1``, then ``Resend: <last+1>`` and ``ok``), answers ``ok`` to every
line, reports temperatures for M105 and while waiting for heat (M109/M190, broken by M108),
sends ``echo:busy: processing`` during homing, and can inject damaged lines, spontaneous resend
requests, a disconnect, a halt (``Error:Printer halted`` + ``!!``) or silence. On exit it writes
the commands it accepted, in order, and its final state (heater targets, counters, seconds from
its first byte to its last) as JSON. With ``--replies`` it reads PORT to its end (a pre-written
file) and writes its answers elsewhere: the benchmark's ideal.

    python marlin_sim.py PORT [--corrupt P] [--resend P] [--seed S] [--busy S] [--record FILE]
                              [--disconnect-after N] [--halt-after N] [--silent-after N] [--replies FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import select
import signal
import sys
import time
from functools import reduce
from operator import xor

_LINE = re.compile(rb"^N(-?\d+) (.*)\*(\d+)$")
_PARAM_S = re.compile(rb"S(-?[\d.]+)")


class Sim:
    def __init__(self, fd: int, args, out_fd: int):
        self.fd, self.out_fd, self.args = fd, out_fd, args
        self.first_byte = self.done_at = 0.0  # perf_counter seconds: first byte read, last batch answered
        self.rng = random.Random(args.seed)
        self.last = 0
        self.accepted: list[bytes] = []
        self.counts = {"received": 0, "corrupted": 0, "rejected": 0, "injected_resends": 0, "busy": 0}
        self.temp = {"T": 21.3, "B": 21.3}
        self.target = {"T": 0.0, "B": 0.0}
        self.buffer = b""
        self.silent = False
        self.out: list[bytes] = []  # replies of the current batch
        self.pending = b""          # replies the port has not taken yet

    # --- I/O ---------------------------------------------------------------------------------
    def send(self, text: bytes) -> None:
        self.out.append(text)

    def flush(self) -> None:
        """Queue what was sent and write what the port takes now; a UART never blocks on sending,
        so neither does the simulator (a blocking write here could deadlock it with socat)."""
        if self.out and not self.silent:
            self.pending += b"".join(self.out)
        self.out.clear()
        self._write()

    def _write(self) -> None:
        if self.pending:
            try:
                self.pending = self.pending[os.write(self.out_fd, self.pending):]
            except BlockingIOError:
                pass

    def read(self, timeout: float) -> bool:
        """Wait up to ``timeout`` for input (writing queued output meanwhile); False at end of input."""
        writing = [self.out_fd] if self.pending else []
        ready, writable, _ = select.select([self.fd], writing, [], timeout)
        if writable:
            self._write()
        if not ready:
            return True
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return True
        except OSError:
            return False
        if not data:
            return False
        self.first_byte = self.first_byte or time.perf_counter()
        self.buffer += data
        return True

    # --- firmware ----------------------------------------------------------------------------
    def report(self) -> bytes:
        return b"T:%.2f /%.2f B:%.2f /%.2f @:0 B@:0" % (self.temp["T"], self.target["T"],
                                                        self.temp["B"], self.target["B"])

    def reject(self, error: bytes) -> None:
        self.counts["rejected"] += 1
        self.send(b"Error:%s, Last Line: %d\nResend: %d\nok\n" % (error, self.last, self.last + 1))

    def handle(self, raw: bytes) -> None:
        line = raw.strip()
        if not line:
            return
        self.counts["received"] += 1
        if line.startswith(b"N") and self.args.corrupt and self.rng.random() < self.args.corrupt:
            i = self.rng.randrange(len(line))
            line = line[:i] + bytes([line[i] ^ (1 << self.rng.randrange(7))]) + line[i + 1:]
            self.counts["corrupted"] += 1
        if line.startswith(b"N"):
            match = _LINE.match(line)
            if not match:
                return self.reject(b"No Checksum with line number")
            number, command, check = int(match.group(1)), match.group(2), int(match.group(3))
            if reduce(xor, line[:line.rindex(b"*")], 0) != check:
                return self.reject(b"checksum mismatch")
            if command.startswith(b"M110"):
                self.last = number
                self.send(b"ok\n")
                return
            if number != self.last + 1:
                return self.reject(b"Line Number is not Last Line Number+1")
            if self.args.resend and self.rng.random() < self.args.resend:
                self.counts["injected_resends"] += 1
                self.send(b"Resend: %d\nok\n" % number)
                return
            self.last = number
        elif b"*" in line:  # a damaged "N": Marlin refuses a checksum without a line number
            return self.reject(b"No Line Number with checksum")
        else:
            command = line
            if command.startswith(b"M110"):
                self.last = int(command.split(b"N")[1]) if b"N" in command else 0
                self.send(b"ok\n")
                return
        self.accepted.append(command)
        self.execute(command)
        count = len(self.accepted)
        if count == self.args.disconnect_after:
            self.flush()
            raise EOFError
        if count == self.args.halt_after:
            self.send(b"Error:Printer halted. kill() called!\n!! kill\n")
            self.flush()
            self.silent = True
        if count == self.args.silent_after:
            self.flush()
            self.silent = True

    def execute(self, command: bytes) -> None:
        code = command.split(b" ", 1)[0]
        if code == b"M105":
            self.send(b"ok " + self.report() + b"\n")
            return
        if code in (b"M104", b"M109", b"M140", b"M190"):
            match = _PARAM_S.search(command)
            heater = b"T" if code in (b"M104", b"M109") else b"B"
            self.target[heater.decode()] = float(match.group(1)) if match else 0.0
            if code in (b"M109", b"M190"):
                self.wait_for_heat(heater.decode())
        elif code in (b"G28", b"G29") and self.args.busy:
            end = time.monotonic() + self.args.busy
            while time.monotonic() < end:
                self.send(b"echo:busy: processing\n")
                self.counts["busy"] += 1
                self.flush()
                time.sleep(min(0.2, max(0.0, end - time.monotonic())))
        self.send(b"ok\n")

    def wait_for_heat(self, heater: str) -> None:
        """Heat at ``--heat-rate`` °C/s, reporting every 0.1 s; an M108 on the line ends the wait."""
        last = time.monotonic()
        while self.temp[heater] < self.target[heater] - 1:
            self.read(0.1)
            if b"M108" in self.buffer:  # the emergency parser sees it before the command queue
                self.send(b"echo:Wait for heat cancelled\n")
                break
            now = time.monotonic()
            self.temp[heater] = min(self.target[heater], self.temp[heater] + self.args.heat_rate * (now - last))
            last = now
            self.send(self.report() + b" W:?\n")
            self.flush()

    def run(self) -> None:
        self.send(b"start\n")
        self.flush()
        while True:
            if not self.read(1.0):
                return
            *lines, self.buffer = self.buffer.split(b"\n")
            for line in lines:
                if self.silent:
                    continue
                self.handle(line)
            self.flush()
            self.done_at = time.perf_counter()

    def save(self) -> None:
        if self.args.record:
            with open(self.args.record, "wb") as f:
                f.write(b"\n".join(self.accepted) + (b"\n" if self.accepted else b""))
            with open(self.args.record + ".json", "w") as f:
                json.dump({"targets": self.target, "temperatures": self.temp, "last_line": self.last,
                           "seconds": self.done_at - self.first_byte, **self.counts}, f)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("port")
    ap.add_argument("--corrupt", type=float, default=0.0, help="fraction of numbered lines damaged on arrival")
    ap.add_argument("--resend", type=float, default=0.0, help="fraction of good lines answered with Resend")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--busy", type=float, default=0.0, help="seconds G28/G29 take (busy: every 0.2 s)")
    ap.add_argument("--heat-rate", type=float, default=400.0, help="°C per second")
    ap.add_argument("--record", default="")
    ap.add_argument("--disconnect-after", type=int, default=-1)
    ap.add_argument("--halt-after", type=int, default=-1)
    ap.add_argument("--silent-after", type=int, default=-1)
    ap.add_argument("--replies", default="", help="write replies here instead of to PORT (PORT may be a file)")
    args = ap.parse_args(argv)
    fd = os.open(args.port, (os.O_RDONLY if args.replies else os.O_RDWR) | os.O_NOCTTY)
    out_fd = os.open(args.replies, os.O_WRONLY) if args.replies else fd
    os.set_blocking(out_fd, False)
    sim = Sim(fd, args, out_fd)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        sim.run()
    except EOFError:
        pass
    finally:
        sim.save()
        os.close(fd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
