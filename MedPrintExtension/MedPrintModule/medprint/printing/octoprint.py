"""OctoPrint's REST API (1.x): upload with select+print, job and printer state, cancel/pause.

Authentication is a user API key in the ``X-Api-Key`` header; OctoPrint answers 403 to a wrong one.
An OctoPrint with a slicer plugin (``remote_slicer``, e.g. ``prusaslicer``) slices models itself:
a 3MF or STL is uploaded, then sliced there by OctoPrint's slicing API (``command: slice``) into
``<name>.gcode``, which OctoPrint selects and prints when slicing is done.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional
from urllib.parse import quote

from .http import HttpClient
from .slicing import PART_SUFFIXES
from .printer import CANCELLED, ERROR, FINISHED, IDLE, OFFLINE, PAUSED, PRINTING, PrinterError, PrinterStatus

_PRINTING = ("Printing", "Starting", "Finishing", "Cancelling", "Sending file")
_PAUSED = ("Pausing", "Paused", "Resuming")


class OctoPrintPrinter:
    """A printer behind OctoPrint at ``url`` (e.g. ``http://127.0.0.1:5000``)."""

    def __init__(self, name: str, url: str, api_key: str, timeout_s: float = 10.0, remote_slicer: str = ""):
        self.name = name
        self.http = HttpClient(name, "OctoPrint", url, timeout_s, headers={"X-Api-Key": api_key})
        self.remote_slicer = remote_slicer
        self._job_ran = False  # our job was seen printing or was cancelled (OctoPrint then forgets its progress)
        self._last_pct: Optional[float] = None
        self._slicing = ""  # the G-code OctoPrint is slicing for us, until it exists

    def check(self) -> dict:
        """The server's version (also checks the key); raises PrinterError."""
        return self.http.request("GET", "/api/version").json()

    def upload(self, file: Path, remote_name: Optional[str] = None, start: bool = False) -> str:
        """Upload ``file`` to OctoPrint's local storage; with ``start`` it is selected and printed.
        A model (3MF/STL) is sliced by OctoPrint's slicer plugin first; returns the G-code's name."""
        remote_name = remote_name or Path(file).name
        model = Path(remote_name).suffix.lower() in PART_SUFFIXES
        if model:
            self._check_slicer()
        with open(file, "rb") as f:
            reply = self.http.request(
                "POST", "/api/files/local", ok=(201,),
                files={"file": (remote_name, f, "application/octet-stream")},
                data={"select": "true", "print": "true"} if start and not model else {})
        self._job_ran, self._last_pct = False, None
        stored = reply.json()["files"]["local"]["name"]
        if not model:
            return stored
        gcode = f"{Path(stored).stem}.gcode"
        self.http.request("POST", f"/api/files/local/{quote(stored)}", ok=(202,), json={
            "command": "slice", "slicer": self.remote_slicer, "gcode": gcode, "select": start, "print": start})
        self._slicing = gcode
        return gcode

    def _check_slicer(self) -> None:
        """OctoPrint has the configured slicer plugin, ready."""
        if not self.remote_slicer:
            raise PrinterError(f"{self.name} takes G-code only: no slicer plugin is configured for it.",
                               hint="slice with MedPrint, or add the printer again with --remote-slicer")
        slicers = self.http.request("GET", "/api/slicing").json()
        if not slicers.get(self.remote_slicer, {}).get("configured"):
            known = ", ".join(k for k, v in slicers.items() if v.get("configured")) or "none"
            raise PrinterError(f"OctoPrint on {self.name} has no working slicer '{self.remote_slicer}'.",
                               hint=f"its configured slicers: {known}; install the slicer plugin or "
                                    "let MedPrint slice")

    def start(self, remote_name: str) -> None:
        self.http.request("POST", f"/api/files/local/{remote_name}", ok=(204,),
                          json={"command": "select", "print": True})
        self._job_ran, self._last_pct = False, None

    def status(self) -> PrinterStatus:
        job = self.http.request("GET", "/api/job").json()
        text = job.get("state", "")
        done = (job.get("progress") or {}).get("completion")
        left = (job.get("progress") or {}).get("printTimeLeft")
        name = ((job.get("job") or {}).get("file") or {}).get("name") or ""
        if self._slicing and name == self._slicing:
            self._slicing = ""  # sliced and selected
        if text.startswith(_PRINTING):
            state = PRINTING
        elif text.startswith(_PAUSED):
            state = PAUSED
        elif text.startswith("Operational"):  # a finished job keeps 100 %, a cancelled one forgets its progress
            state = FINISHED if done is not None and done >= 100 else (CANCELLED if self._job_ran else IDLE)
            done = done if state == FINISHED else self._last_pct
        elif text.startswith("Offline") or text.startswith("Closed"):
            state = OFFLINE
        elif text.startswith("Error"):
            state = ERROR
        else:  # Connecting, Detecting serial connection, ...
            state = OFFLINE
        if state in (PRINTING, PAUSED):
            self._job_ran, self._last_pct = True, done
        message = job.get("error") or text
        if self._slicing and state == IDLE:
            message = f"OctoPrint is slicing {self._slicing}"
        return PrinterStatus(state, done, self._temperatures() if state != OFFLINE else {},
                             left, name or self._slicing, message)

    def _temperatures(self) -> dict:
        reply = self.http.request("GET", "/api/printer?exclude=sd,state", ok=(200, 409))
        if reply.status_code == 409:  # printer not connected
            return {}
        temps = reply.json().get("temperature", {})
        return {heater: (v.get("actual"), v.get("target")) for heater, v in temps.items()
                if isinstance(v, dict) and heater != "history"}

    def cancel(self) -> None:
        self._job_command({"command": "cancel"})
        self._job_ran = True

    def pause(self) -> None:
        self._job_command({"command": "pause", "action": "pause"})

    def resume(self) -> None:
        self._job_command({"command": "pause", "action": "resume"})

    def _job_command(self, body: dict) -> None:
        reply = self.http.request("POST", "/api/job", ok=(204, 409), json=body)
        if reply.status_code == 409:
            raise PrinterError(f"OctoPrint cannot {body['command']} now: no job is running on {self.name}.")

    def close(self) -> None:
        self.http.close()
