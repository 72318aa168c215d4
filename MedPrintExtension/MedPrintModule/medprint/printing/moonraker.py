"""Moonraker's HTTP API (Klipper): ``/server/files/upload`` (with ``print``), ``/printer/print/start``,
``/printer/objects/query`` for print_stats, progress and heaters, ``/printer/print/cancel|pause|resume``.
An API key, when Moonraker asks for one, goes in the ``X-Api-Key`` header."""

from __future__ import annotations

from pathlib import Path
from typing import Optional
from urllib.parse import quote

from .http import HttpClient
from .printer import CANCELLED, ERROR, FINISHED, IDLE, OFFLINE, PAUSED, PRINTING, PrinterError, PrinterStatus

_STATES = {"standby": IDLE, "printing": PRINTING, "paused": PAUSED, "complete": FINISHED,
           "cancelled": CANCELLED, "error": ERROR}
_QUERY = "/printer/objects/query?print_stats&virtual_sdcard&extruder&heater_bed&webhooks"


class MoonrakerPrinter:
    """A Klipper printer behind Moonraker at ``url`` (e.g. ``http://mainsail.local:7125``)."""

    def __init__(self, name: str, url: str, api_key: str = "", timeout_s: float = 10.0):
        self.name = name
        self.http = HttpClient(name, "Moonraker", url, timeout_s, headers={"X-Api-Key": api_key} if api_key else {})

    def files(self) -> list[str]:
        """The G-code files Moonraker holds (``gcodes`` root)."""
        return [f["path"] for f in self.http.request("GET", "/server/files/list?root=gcodes").json()["result"]]

    def upload(self, file: Path, remote_name: Optional[str] = None, start: bool = False) -> str:
        remote_name = remote_name or Path(file).name
        with open(file, "rb") as f:
            reply = self.http.request("POST", "/server/files/upload", ok=(200, 201),
                                      files={"file": (remote_name, f, "application/octet-stream")},
                                      data={"root": "gcodes", **({"print": "true"} if start else {})})
        result = reply.json()
        result = result.get("result", result)
        if start and not result.get("print_started"):
            raise PrinterError(f"{self.name} stored the file but did not start it.",
                               hint="check that Klipper is connected and idle")
        return result["item"]["path"]

    def start(self, remote_name: str) -> None:
        self._klippy("POST", f"/printer/print/start?filename={quote(remote_name)}")

    def _klippy(self, method: str, path: str):
        reply = self.http.request(method, path, ok=(200, 400, 503))
        if reply.status_code != 200:
            message = reply.json().get("error", {}).get("message", reply.text) if reply.text else ""
            raise PrinterError(f"{self.name} refused: {message}.", hint=(
                "Klipper is not connected to Moonraker; check the printer" if reply.status_code == 503
                else "check the printer's state"))
        return reply

    def status(self) -> PrinterStatus:
        reply = self.http.request("GET", _QUERY, ok=(200, 404, 503))
        if reply.status_code != 200:  # Klipper's endpoints exist only while it is connected
            return PrinterStatus(OFFLINE, message="Klipper is not connected to Moonraker")
        status = reply.json()["result"]["status"]
        stats, sd = status.get("print_stats", {}), status.get("virtual_sdcard", {})
        state = _STATES.get(stats.get("state", ""), ERROR)
        progress = sd.get("progress")
        progress = 100.0 if state == FINISHED else (None if progress is None else round(100 * progress, 1))
        duration = stats.get("print_duration") or 0.0
        left = duration * (100 - progress) / progress if progress and state == PRINTING else None
        temps = {heater: (status[obj].get("temperature"), status[obj].get("target"))
                 for heater, obj in (("tool0", "extruder"), ("bed", "heater_bed")) if obj in status}
        return PrinterStatus(state, progress, temps, left, stats.get("filename", ""), stats.get("message", ""))

    def cancel(self) -> None:
        if self.status().state not in (PRINTING, PAUSED):
            raise PrinterError(f"No job is running on {self.name}.")
        self._klippy("POST", "/printer/print/cancel")

    def pause(self) -> None:
        self._klippy("POST", "/printer/print/pause")

    def resume(self) -> None:
        self._klippy("POST", "/printer/print/resume")

    def close(self) -> None:
        self.http.close()
