"""USB serial printing with Marlin's host protocol (pyserial).

Every command goes out as ``N<n> <command>*<checksum>`` (checksum: XOR of the bytes before ``*``),
after ``M110 N0`` resets the printer's line counter. At most ``window`` lines are in flight: each
line sent gets exactly one ``ok`` (accepted or not), so the count of unanswered lines is exact.
``Resend: N`` / ``rs N`` rewinds to line N; the lines already in flight behind it are rejected by
the printer and each asks for N again, and those repeats are ignored. ``busy:`` and temperature
reports keep the connection alive while the printer waits (homing, M109/M190 wait-for-heat);
silence for ``timeout_s`` with lines in flight, a lost port, ``!!`` or an ``Error:`` that is not a
transmission error end the job with an error. Cancel breaks a heat wait (M108) and switches the
heaters off. ``M105`` is sent every ``poll_s`` for temperatures. Streaming costs one write, one
select and one read per exchange: new lines are numbered and written as a batch of all the window
allows, and plain ``ok`` replies are counted without being decoded.
"""

from __future__ import annotations

import io
import os
import re
import select
import threading
import time
from dataclasses import dataclass, field
from functools import reduce
from itertools import count, islice
from operator import xor
from pathlib import Path
from typing import Iterable, Iterator, Optional

from ..progress import Progress, no_progress
from .gcode import commands
from .printer import CANCELLED, ERROR, FINISHED, IDLE, PAUSED, PRINTING, PrinterError, PrinterStatus

#: Sent on cancel, after the lines in flight: hotend and bed off, fan off, motors off.
SAFE_STOP = ("M104 S0", "M140 S0", "M107", "M84")
#: Lines kept for resends (at least; a printer asks only for lines still in flight).
HISTORY_LINES = 4096
#: Seconds between two progress reports while streaming (a report per line would cost more than the line).
PROGRESS_S = 0.1
_TEMP = re.compile(r"\b(T\d?|B|C):\s*(-?[\d.]+)\s*/\s*(-?[\d.]+)")
_RESEND = re.compile(r"^(?:Resend|rs)[: ]\s*N?:?\s*(\d+)", re.I)
#: Error texts that report a damaged or out-of-order line; the printer asks for a resend after them.
_TRANSMISSION = ("checksum", "line number", "no line number", "format error", "expected line", "missing")
_HEATER_NAMES = {"T": "tool0", "T0": "tool0", "T1": "tool1", "B": "bed", "C": "chamber"}


def checksum(text: str) -> int:
    """Marlin's line checksum: the XOR of all bytes."""
    return reduce(xor, text.encode("ascii"), 0)


def _fileno(port) -> Optional[int]:
    """The descriptor of a POSIX serial port, None for pyserial URL handlers (loop://, socket://)."""
    import serial

    try:
        return port.fileno()
    except (AttributeError, serial.SerialException, io.UnsupportedOperation):
        return None


def _port_errors() -> tuple:
    """What a lost port raises."""
    import serial

    return serial.SerialException, OSError


def numbered(number: int, command: str) -> bytes:
    """``N<number> <command>*<checksum>\\n``."""
    return numbered_lines(number, [command])[0]


def numbered_lines(first: int, commands: list[str]) -> list[bytes]:
    """:func:`numbered` for consecutive lines from ``first``, in one go (the streaming hot path)."""
    texts = [f"N{n} {c}".encode("ascii") for n, c in zip(count(first), commands)]
    return [b"%s*%d\n" % (t, reduce(xor, t, 0)) for t in texts]


@dataclass
class StreamStats:
    """What a job took: lines of the job, lines transmitted (with resends and polls), resends, s."""

    job_lines: int = 0
    transmitted: int = 0
    resends: int = 0
    polls: int = 0
    seconds: float = 0.0
    temperatures: dict = field(default_factory=dict)


class MarlinStreamer:
    """Streams commands to a Marlin printer on ``port`` (a device path or a pyserial URL)."""

    def __init__(self, port: str, baudrate: int = 115200, window: int = 4, timeout_s: float = 10.0,
                 poll_s: float = 2.0, connect_timeout_s: float = 5.0):
        if window < 1:
            raise ValueError("window must be at least 1")
        self.port_name, self.baudrate = port, baudrate
        self.window, self.timeout_s, self.poll_s = window, timeout_s, poll_s
        self.connect_timeout_s = connect_timeout_s
        self.serial = None
        self._fd: Optional[int] = None  # the port's file descriptor (None: a pyserial URL handler)
        self.temperatures: dict = {}
        self._last_line = 0
        self._buffer = b""  # received, not yet a whole line
        self._out = b""     # queued for the printer, not yet taken by the port
        self._paused = threading.Event()
        self._cancel = threading.Event()

    # --- connection -------------------------------------------------------------------------
    def open(self) -> None:
        """Open the port and reset the line counter (``M110 N0``), waiting for its ``ok``."""
        import serial

        try:
            self.serial = serial.serial_for_url(self.port_name, self.baudrate, timeout=0.05, write_timeout=5)
            self._fd = _fileno(self.serial)
            if self._fd is not None:
                self._poll = select.poll()
                self._poll.register(self._fd, select.POLLIN)
                self._polling_out = False
            self._buffer = self._out = b""
            self._last_line = 0  # the printer's line counter, reset by M110 N0 below
        except (serial.SerialException, OSError, ValueError) as exc:
            raise PrinterError(f"Cannot open the printer's serial port {self.port_name}.",
                               hint="check the cable and the port name, and that no other program uses it",
                               detail=str(exc)) from None
        deadline = time.monotonic() + self.connect_timeout_s
        asked, sent, answered = 0.0, 0, 0
        while time.monotonic() < deadline:  # a printer that resets on connect misses the first M110
            if not answered and time.monotonic() - asked > 1.0:
                self._write(b"M110 N0\n")
                asked, sent = time.monotonic(), sent + 1
            answered += sum(line.startswith(b"ok") for line in self._read_lines())
            if answered and (answered == sent or time.monotonic() - asked > 1.0):
                return  # every M110 answered, so no stray ok is left to miscount
        self.close()
        raise PrinterError(f"The printer on {self.port_name} does not answer.",
                           hint="check that it is switched on and runs Marlin at this baud rate")

    def close(self) -> None:
        if self.serial is not None:
            try:
                self.serial.close()
            except OSError:
                pass
            self.serial = None

    def _write(self, data: bytes) -> None:
        """Queue ``data``; :meth:`_read_lines` sends it as fast as the port takes it."""
        self._out += data

    def _read_lines(self) -> list[bytes]:
        """Send what the port takes of the queued output and return the complete lines received
        (bytes, without the newline), waiting up to 50 ms for input. Writes never block: a printer
        busy answering us would otherwise stop reading while we wait to write (a deadlock). One
        write, one poll and one read per exchange: the port usually takes the whole batch at once."""
        try:
            if self._fd is None:
                if self._out:
                    self.serial.write(self._out)
                    self._out = b""
                data = self.serial.read(max(1, self.serial.in_waiting))
            else:  # pyserial opens POSIX ports non-blocking
                if self._out:
                    self._send_some()
                if self._out and not self._polling_out:  # the rest waits until the port takes more
                    self._poll.modify(self._fd, select.POLLIN | select.POLLOUT)
                    self._polling_out = True
                events = self._poll.poll(50)
                data = b""
                if events and events[0][1] & select.POLLOUT:
                    self._send_some()
                    if not self._out:
                        self._poll.modify(self._fd, select.POLLIN)
                        self._polling_out = False
                if events and events[0][1] & (select.POLLIN | select.POLLHUP | select.POLLERR):
                    data = os.read(self._fd, 65536)
                    if not data:
                        raise OSError("the port reports input but returns none (device gone)")
        except _port_errors() as exc:  # evaluated only when something was raised
            raise PrinterError(f"The serial connection to the printer on {self.port_name} was lost.",
                               hint="check the USB cable; the job has stopped", detail=str(exc)) from None
        if not data:
            return []
        *lines, self._buffer = (self._buffer + data).split(b"\n")
        return lines

    def _send_some(self) -> None:
        try:
            self._out = self._out[os.write(self._fd, self._out):]
        except BlockingIOError:
            pass

    # --- control from other threads ------------------------------------------------------------
    def pause(self) -> None:
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()

    def cancel(self) -> None:
        self._cancel.set()

    # --- streaming ----------------------------------------------------------------------------
    def stream(self, job: Iterable[str], total: Optional[int] = None,
               progress: Optional[Progress] = None) -> StreamStats:
        """Send ``job`` (commands without line numbers) and wait until the printer has acknowledged
        every line; returns the figures. Raises :class:`PrinterError` on a fatal printer error, a
        lost connection or silence; on cancel, stops feeding, switches the heaters off and returns."""
        progress = progress or no_progress
        stats = StreamStats()
        history: dict[int, bytes] = {}  # the lines sent recently, for resends
        oldest = self._last_line + 1
        job_iter: Iterator[str] = iter(job)
        next_number = self._last_line + 1  # number the next new line gets (jobs continue the count)
        send_from = next_number            # next line to transmit (below next_number while resending)
        in_flight = 0
        repeat_line, repeats_left = 0, 0
        exhausted = False
        last_heard = last_poll = begin = time.monotonic()
        last_report = begin - PROGRESS_S
        safe_stop: Optional[Iterator[str]] = None
        while True:
            now = time.monotonic()
            if self._cancel.is_set() and safe_stop is None:
                # Marlin's emergency parser ends a heat wait at once (the line gets an ok too); the lines
                # already numbered still go out in order, then the heaters are switched off
                self._write(b"M108\n")
                in_flight += 1
                safe_stop, exhausted = iter(SAFE_STOP), False
            out = []
            free = self.window - in_flight
            if (free > 0 and send_from == next_number and not exhausted and safe_stop is None
                    and now - last_poll < self.poll_s and not self._paused.is_set()):
                # the common case, new job lines: all the window allows, numbered and written in one go
                out = numbered_lines(next_number, list(islice(job_iter, free)))
                exhausted = len(out) < free
                history.update(zip(count(next_number), out))
                next_number += len(out)
                send_from = next_number
                in_flight += len(out)
                stats.job_lines += len(out)
            else:
                while in_flight < self.window:
                    if send_from < next_number:
                        out.append(history[send_from])
                        send_from += 1
                    elif not exhausted:
                        if now - last_poll >= self.poll_s:
                            command, last_poll = "M105", now
                            stats.polls += 1
                        elif safe_stop is None and self._paused.is_set():
                            break
                        else:
                            command = next(safe_stop if safe_stop is not None else job_iter, None)
                            if command is None:
                                exhausted = True
                                break
                            if safe_stop is None:
                                stats.job_lines += 1
                        history[next_number] = numbered(next_number, command)
                        out.append(history[next_number])
                        next_number += 1
                        send_from = next_number
                    else:
                        break
                    in_flight += 1
            if out:
                self._write(b"".join(out))
                stats.transmitted += len(out)
            if next_number - oldest > 2 * HISTORY_LINES:  # forget all but the last lines sent, now and then
                for number in range(oldest, next_number - HISTORY_LINES):
                    history.pop(number, None)
                oldest = next_number - HISTORY_LINES
            lines = self._read_lines()
            if lines:
                last_heard = time.monotonic()
                plain_oks = lines.count(b"ok")  # the common reply, counted without a look at each
                in_flight = max(0, in_flight - plain_oks)
                if plain_oks == len(lines):
                    lines = []
            for raw in lines:
                if raw == b"ok":
                    continue
                line = raw.decode("ascii", "replace").strip()
                if line.startswith("ok"):
                    in_flight = max(0, in_flight - 1)
                    if len(line) > 2:  # "ok T:..." after M105
                        self._temperatures(line)
                elif match := _RESEND.match(line):
                    number = int(match.group(1))
                    if number == repeat_line and repeats_left > 0:
                        repeats_left -= 1  # a line that was in flight behind the damaged one
                        continue
                    if number not in history or number >= next_number:
                        raise PrinterError(f"The printer asked for line {number}, which MedPrint cannot resend.",
                                           hint="restart the printer and print again")
                    repeat_line, repeats_left = number, max(0, send_from - 1 - number)
                    stats.resends += 1
                    send_from = number
                elif line.startswith("!!") or (line.startswith("Error") and not any(
                        t in line.lower() for t in _TRANSMISSION)):
                    self._fail_safe(next_number)
                    raise PrinterError(f"The printer reported an error and stopped: {line.lstrip('!').strip()}.",
                                       hint="check the printer before printing again")
                elif line.startswith("start"):
                    raise PrinterError("The printer restarted during the job.", hint="check its power supply")
                else:
                    self._temperatures(line)  # autoreports and heat-wait reports; busy: just keeps us alive
            if exhausted and in_flight == 0 and send_from == next_number:
                break
            if in_flight and time.monotonic() - last_heard > self.timeout_s:
                raise PrinterError(f"The printer on {self.port_name} stopped answering for {self.timeout_s:g} s.",
                                   hint="check the printer and the USB cable; the job has stopped")
            if total and safe_stop is None and now - last_report >= PROGRESS_S:
                last_report = now
                progress(min(stats.job_lines - in_flight, total) / total, f"line {stats.job_lines} of {total}")
        self._last_line = next_number - 1
        stats.seconds = time.monotonic() - begin
        if total and safe_stop is None:
            progress(min(stats.job_lines, total) / total, f"line {stats.job_lines} of {total}")
        stats.temperatures = dict(self.temperatures)
        return stats

    def _temperatures(self, line: str) -> None:
        for name, actual, target in _TEMP.findall(line):
            self.temperatures[_HEATER_NAMES.get(name, name)] = (float(actual), float(target))

    def _fail_safe(self, next_number: int) -> None:
        """Best effort after a fatal error: ask for heaters off (a halted Marlin has done so)."""
        self._write(b"".join(numbered(next_number + i, c) for i, c in enumerate(SAFE_STOP[:2])))
        try:
            for _ in range(4):
                self._read_lines()
        except PrinterError:
            pass


class MarlinPrinter:
    """The :class:`~medprint.printing.printer.Printer` protocol over USB serial: ``upload`` keeps
    the G-code in memory, ``start`` streams it on a background thread."""

    def __init__(self, name: str, port: str, baudrate: int = 115200, window: int = 4, timeout_s: float = 10.0):
        self.name = name
        self.streamer = MarlinStreamer(port, baudrate, window, timeout_s)
        self._jobs: dict[str, list[str]] = {}
        self._thread: Optional[threading.Thread] = None
        self._state, self._job, self._error = IDLE, "", ""
        self._done, self._total = 0.0, 0

    def upload(self, file: Path, remote_name: Optional[str] = None, start: bool = False) -> str:
        remote_name = remote_name or Path(file).name
        self._jobs[remote_name] = list(commands(file))
        if start:
            self.start(remote_name)
        return remote_name

    def start(self, remote_name: str) -> None:
        if self._thread is not None and self._thread.is_alive():
            raise PrinterError(f"{self.name} is already printing.")
        if self.streamer.serial is None:
            self.streamer.open()
        job = self._jobs[remote_name]
        self._state, self._job, self._error, self._total = PRINTING, remote_name, "", len(job)
        self.streamer._cancel.clear()
        self.streamer.resume()
        self._thread = threading.Thread(target=self._run, args=(job,), daemon=True, name=f"marlin-{self.name}")
        self._thread.start()

    def _run(self, job: list[str]) -> None:
        try:
            self.streamer.stream(job, len(job), lambda f, m: setattr(self, "_done", f))
            self._state = CANCELLED if self.streamer._cancel.is_set() else FINISHED
        except PrinterError as err:
            self._state, self._error = ERROR, str(err)
            self.streamer.close()  # the line count is unknown now: the next job reconnects and resets it
        finally:
            if self._state == FINISHED:
                self._done = 1.0

    def status(self) -> PrinterStatus:
        """The job's state; with no job running, the printer is asked for its temperatures (M105)
        (not after an error: that status stands until the next job)."""
        if self._state != ERROR and (self._thread is None or not self._thread.is_alive()):
            if self.streamer.serial is None:
                self.streamer.open()
            self.streamer.stream(["M105"])
        state = PAUSED if self._state == PRINTING and self.streamer._paused.is_set() else self._state
        return PrinterStatus(state, round(100 * self._done, 1), dict(self.streamer.temperatures), None,
                             self._job, self._error)

    def cancel(self) -> None:
        if self._state not in (PRINTING, PAUSED):
            raise PrinterError(f"No job is running on {self.name}.")
        self.streamer.cancel()
        self.streamer.resume()

    def pause(self) -> None:
        self.streamer.pause()

    def resume(self) -> None:
        self.streamer.resume()

    def wait(self, timeout_s: Optional[float] = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout_s)

    def close(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self.streamer.cancel()
            self._thread.join(30)
        self.streamer.close()
