"""PrusaLink's HTTP API (``/api/v1``, PrusaLink OpenAPI 1.0): upload by PUT with
``Print-After-Upload``, start by POST on the file, ``/api/v1/status`` for state, temperatures and
progress, ``/api/v1/job/{id}`` to stop, pause and resume. Authentication is HTTP digest (user and
password) or an ``X-Api-Key`` header."""

from __future__ import annotations

from pathlib import Path
from typing import Optional
from urllib.parse import quote

from .http import HttpClient
from .printer import CANCELLED, ERROR, FINISHED, IDLE, PAUSED, PRINTING, PrinterError, PrinterStatus

_STATES = {"IDLE": IDLE, "READY": IDLE, "BUSY": PRINTING, "PRINTING": PRINTING, "PAUSED": PAUSED,
           "ATTENTION": PAUSED, "FINISHED": FINISHED, "STOPPED": CANCELLED, "ERROR": ERROR}


class PrusaLinkPrinter:
    """A Prusa printer's PrusaLink at ``url``; ``api_key`` or ``username``/``password`` (digest)."""

    def __init__(self, name: str, url: str, api_key: str = "", username: str = "", password: str = "",
                 timeout_s: float = 10.0):
        import requests

        self.name = name
        auth = None if api_key else requests.auth.HTTPDigestAuth(username, password)
        self.http = HttpClient(name, "PrusaLink", url, timeout_s,
                               headers={"X-Api-Key": api_key} if api_key else {}, auth=auth)
        self._storage: Optional[str] = None
        self._job = ""

    def storage(self) -> str:
        """The path of the first writable storage (``/usb`` on the MK4/XL, ``/local`` on a Pi)."""
        if self._storage is None:
            storages = self.http.request("GET", "/api/v1/storage").json().get("storage_list", [])
            writable = [s["path"] for s in storages if s.get("available", True) and not s.get("read_only")]
            if not writable:
                raise PrinterError(f"{self.name} has no storage to upload to.", hint="insert a USB stick")
            self._storage = "/" + writable[0].strip("/")
        return self._storage

    def _file_path(self, remote_name: str) -> str:
        return f"/api/v1/files{self.storage()}/{quote(remote_name)}"

    def upload(self, file: Path, remote_name: Optional[str] = None, start: bool = False) -> str:
        remote_name = remote_name or Path(file).name
        with open(file, "rb") as f:
            reply = self.http.request("PUT", self._file_path(remote_name), ok=(201, 409), data=f, headers={
                "Content-Type": "application/octet-stream", "Overwrite": "?1",
                "Print-After-Upload": "?1" if start else "?0"})
        if reply.status_code == 409:
            raise PrinterError(f"{self.name} did not take the file: {reply.text.strip() or 'conflict'}.",
                               hint="the printer may be printing the same file; wait or cancel it")
        self._job = remote_name
        return remote_name

    def start(self, remote_name: str) -> None:
        reply = self.http.request("POST", self._file_path(remote_name), ok=(204, 409))
        if reply.status_code == 409:
            raise PrinterError(f"{self.name} cannot start a print now (it is busy).")
        self._job = remote_name

    def status(self) -> PrinterStatus:
        data = self.http.request("GET", "/api/v1/status").json()
        printer, job = data.get("printer", {}), data.get("job") or {}
        state = _STATES.get(printer.get("state", ""), ERROR)
        temps = {heater: (printer.get(f"temp_{key}"), printer.get(f"target_{key}"))
                 for heater, key in (("tool0", "nozzle"), ("bed", "bed")) if f"temp_{key}" in printer}
        message = "the printer needs attention" if printer.get("state") == "ATTENTION" else printer.get("state", "")
        progress = 100.0 if state == FINISHED else job.get("progress")
        return PrinterStatus(state, progress, temps, job.get("time_remaining"), self._job, message)

    def _job_id(self) -> int:
        reply = self.http.request("GET", "/api/v1/job", ok=(200, 204))
        if reply.status_code == 204:
            raise PrinterError(f"No job is running on {self.name}.")
        return int(reply.json()["id"])

    def cancel(self) -> None:
        self.http.request("DELETE", f"/api/v1/job/{self._job_id()}", ok=(204,))

    def pause(self) -> None:
        self.http.request("PUT", f"/api/v1/job/{self._job_id()}/pause", ok=(204,))

    def resume(self) -> None:
        self.http.request("PUT", f"/api/v1/job/{self._job_id()}/resume", ok=(204,))

    def close(self) -> None:
        self.http.close()
