"""One protocol for every printer connection, the job states it reports, and following a job.

``upload(file, remote name, start) -> remote name``, ``start(remote name)``, ``status() -> PrinterStatus``,
``cancel()``, ``pause()``, ``resume()``, ``close()``. Temperatures are °C, times seconds,
progress percent (0–100).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional, Protocol

from ..errors import MedPrintError
from ..progress import Progress, no_progress

#: Job states every connection reports.
IDLE, PRINTING, PAUSED, FINISHED, CANCELLED, ERROR, OFFLINE = (
    "idle", "printing", "paused", "finished", "cancelled", "error", "offline")
STATES = (IDLE, PRINTING, PAUSED, FINISHED, CANCELLED, ERROR, OFFLINE)


class PrinterError(MedPrintError):
    """A printer or print server refused, failed or stopped answering."""


@dataclass(frozen=True)
class PrinterStatus:
    """What a printer reports: state (one of :data:`STATES`), job progress (%), temperatures
    (heater -> (actual °C, target °C)), time left (s), the job's remote name and a message."""

    state: str
    progress_pct: Optional[float] = None
    temperatures: dict = field(default_factory=dict)
    seconds_left: Optional[float] = None
    job: str = ""
    message: str = ""


class Printer(Protocol):
    """A connection to one printer (see the module docstring)."""

    name: str

    def upload(self, file: Path, remote_name: Optional[str] = None, start: bool = False) -> str: ...

    def start(self, remote_name: str) -> None: ...

    def status(self) -> PrinterStatus: ...

    def cancel(self) -> None: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def close(self) -> None: ...


def follow(printer: Printer, progress: Optional[Progress] = None, poll_s: float = 0.5,
           timeout_s: Optional[float] = None, started_within_s: float = 30.0) -> PrinterStatus:
    """Poll ``printer`` until its job ends; returns the final status (finished or cancelled).

    Raises :class:`PrinterError` when the printer reports an error or goes offline, when the job
    has not started within ``started_within_s``, or when ``timeout_s`` passes. Idle counts only
    after the job was seen printing and then means finished (a fast job can end between two polls);
    connections report "cancelled" and "finished" only for their own job. A final status without
    progress (OctoPrint resets it when a job is cancelled) carries the last progress seen.
    """
    progress = progress or no_progress
    begin = time.monotonic()
    seen_printing = False
    last_pct: Optional[float] = None
    while True:
        status = printer.status()
        if status.progress_pct is None and status.state in (FINISHED, CANCELLED):
            status = replace(status, progress_pct=last_pct)
        last_pct = status.progress_pct if status.progress_pct is not None else last_pct
        if status.state in (PRINTING, PAUSED):
            seen_printing = True
        if status.state in (ERROR, OFFLINE):
            raise PrinterError(f"{printer.name} stopped the job: {status.message or status.state}.",
                               hint="check the printer, then print again")
        if status.state in (FINISHED, CANCELLED) or (seen_printing and status.state == IDLE):
            final = status if status.state != IDLE else PrinterStatus(FINISHED, 100.0, status.temperatures)
            progress(1.0 if final.state == FINISHED else (final.progress_pct or 0) / 100, final.state)
            return final
        elapsed = time.monotonic() - begin
        if not seen_printing and elapsed > started_within_s:
            raise PrinterError(f"{printer.name} did not start the job within {started_within_s:.0f} s "
                               f"(it reports '{status.state}').", hint="check that the printer is ready")
        if timeout_s is not None and elapsed > timeout_s:
            raise PrinterError(f"The job on {printer.name} did not end within {timeout_s:.0f} s.")
        progress((status.progress_pct or 0.0) / 100, _describe(status))
        time.sleep(poll_s)


def _describe(status: PrinterStatus) -> str:
    parts = [status.state]
    for heater, (actual, target) in sorted(status.temperatures.items()):
        if actual is not None:
            parts.append(f"{heater} {actual:.0f}/{target or 0:.0f}°C")
    if status.seconds_left is not None:
        parts.append(f"{status.seconds_left:.0f} s left")
    return "  ".join(parts)
