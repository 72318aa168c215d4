"""A Klippy API-socket simulator, so a real Moonraker can start, follow and cancel prints in tests.

Klipper's API server: a unix socket carrying JSON objects each ended by ``\\x03``; a request is
``{"id", "method", "params"}`` and gets ``{"id", "result"}`` or ``{"id", "error"}``. Implemented:
``info``, ``list_endpoints``, ``objects/list``, ``objects/query``, ``objects/subscribe`` (with
``process_status_update`` notifications), ``gcode/script`` (``SDCARD_PRINT_FILE``, ``PAUSE``,
``RESUME``, ``CANCEL_PRINT``, ``M104``/``M140``), ``pause_resume/pause|resume|cancel``, ``gcode/subscribe_output``,
``register_remote_method``, ``emergency_stop``. A print reads the file from the gcodes folder and
runs through its commands in ``--job-seconds``. Every script received is appended to ``--log``.

    python klippy_sim.py SOCKET GCODES_DIR [--job-seconds S] [--log FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import time

ENDPOINTS = ["info", "list_endpoints", "objects/list", "objects/query", "objects/subscribe", "gcode/script",
             "gcode/subscribe_output", "register_remote_method", "emergency_stop", "gcode/help",
             "pause_resume/pause", "pause_resume/resume", "pause_resume/cancel"]
#: Klipper's pause_resume endpoints run the same as these G-code commands.
PAUSE_RESUME = {"pause_resume/pause": "PAUSE", "pause_resume/resume": "RESUME", "pause_resume/cancel": "CANCEL_PRINT"}


class Klippy:
    def __init__(self, args):
        self.args = args
        self.writers: list[asyncio.StreamWriter] = []
        self.subscribed: dict = {}
        self.print = {"state": "standby", "filename": "", "print_duration": 0.0, "message": "",
                      "total_duration": 0.0}
        self.progress = 0.0
        self.heaters = {"extruder": [21.0, 0.0], "heater_bed": [21.0, 0.0]}
        self.task = None

    def status(self, objects: dict) -> dict:
        full = {
            "webhooks": {"state": "ready", "state_message": "Printer is ready"},
            "print_stats": dict(self.print),
            "virtual_sdcard": {"progress": self.progress, "is_active": self.print["state"] == "printing",
                               "file_path": self.print["filename"]},
            "display_status": {"progress": self.progress, "message": None},
            "pause_resume": {"is_paused": self.print["state"] == "paused"},
            "extruder": {"temperature": self.heaters["extruder"][0], "target": self.heaters["extruder"][1]},
            "heater_bed": {"temperature": self.heaters["heater_bed"][0], "target": self.heaters["heater_bed"][1]},
            "configfile": {"config": {"virtual_sdcard": {"path": self.args.gcodes}}},
            "toolhead": {"homed_axes": "xyz"}, "idle_timeout": {"state": "Idle"},
        }
        out = {}
        for name, fields in objects.items():
            if name in full:
                out[name] = full[name] if fields is None else {k: v for k, v in full[name].items() if k in fields}
        return out

    def log(self, script: str) -> None:
        if self.args.log:
            with open(self.args.log, "a") as f:
                f.write(script + "\n")

    async def notify(self) -> None:
        if not self.subscribed:
            return
        message = {"method": "process_status_update",
                   "params": {"eventtime": time.monotonic(), "status": self.status(self.subscribed)}}
        for writer in self.writers:
            writer.write(json.dumps(message).encode() + b"\x03")

    async def run_job(self, lines: int) -> None:
        start = time.monotonic()
        self.heaters["extruder"] = [215.0, 215.0]
        self.heaters["heater_bed"] = [60.0, 60.0]
        while self.print["state"] in ("printing", "paused"):
            await asyncio.sleep(0.05)
            if self.print["state"] == "printing":
                self.print["print_duration"] += 0.05
                self.progress = min(1.0, self.print["print_duration"] / self.args.job_seconds)
                if self.progress >= 1.0:
                    self.print["state"] = "complete"
                    self.heaters["extruder"][1] = self.heaters["heater_bed"][1] = 0.0
            self.print["total_duration"] = time.monotonic() - start
            await self.notify()

    async def script(self, script: str) -> dict:
        self.log(script)
        for line in script.splitlines():
            line = line.strip()
            command = line.split(" ", 1)[0].upper()
            if command == "SDCARD_PRINT_FILE":
                name = re.search(r'FILENAME="?([^"]+)"?', line).group(1)
                path = os.path.join(self.args.gcodes, name)
                if not os.path.isfile(path):
                    return {"error": {"error": "WebRequestError", "message": f"Unable to open file \"{name}\""}}
                if self.print["state"] in ("printing", "paused"):
                    return {"error": {"error": "WebRequestError", "message": "SD busy"}}
                with open(path) as f:
                    lines = sum(1 for l in f if l.split(";")[0].strip())
                self.print.update(state="printing", filename=name, print_duration=0.0, message="")
                self.progress = 0.0
                self.task = asyncio.get_running_loop().create_task(self.run_job(lines))
            elif command == "PAUSE" and self.print["state"] == "printing":
                self.print["state"] = "paused"
            elif command == "RESUME" and self.print["state"] == "paused":
                self.print["state"] = "printing"
            elif command == "CANCEL_PRINT" and self.print["state"] in ("printing", "paused"):
                self.print["state"] = "cancelled"
                self.heaters["extruder"][1] = self.heaters["heater_bed"][1] = 0.0
            elif command in ("M104", "M140"):
                value = float(re.search(r"S([\d.]+)", line).group(1)) if "S" in line else 0.0
                self.heaters["extruder" if command == "M104" else "heater_bed"][1] = value
        await self.notify()
        return {"result": {}}

    async def answer(self, request: dict) -> dict:
        method, params = request.get("method"), request.get("params") or {}
        if method == "info":
            return {"result": {"state": "ready", "state_message": "Printer is ready", "hostname": "klippy-sim",
                               "software_version": "v0.12.0-sim", "cpu_info": "sim",
                               "klipper_path": os.path.dirname(os.path.abspath(__file__)),
                               "python_path": sys.executable, "log_file": "", "config_file": ""}}
        if method == "list_endpoints":
            return {"result": {"endpoints": ENDPOINTS}}
        if method == "objects/list":
            return {"result": {"objects": list(self.status({k: None for k in (
                "webhooks", "print_stats", "virtual_sdcard", "display_status", "pause_resume", "extruder",
                "heater_bed", "configfile", "toolhead", "idle_timeout")}))}}
        if method == "objects/query":
            return {"result": {"eventtime": time.monotonic(), "status": self.status(params.get("objects", {}))}}
        if method == "objects/subscribe":
            self.subscribed.update(params.get("objects", {}))
            return {"result": {"eventtime": time.monotonic(), "status": self.status(params.get("objects", {}))}}
        if method == "gcode/script":
            return await self.script(params.get("script", ""))
        if method in PAUSE_RESUME:
            return await self.script(PAUSE_RESUME[method])
        if method in ("gcode/subscribe_output", "register_remote_method", "emergency_stop", "gcode/help"):
            return {"result": {}}
        return {"error": {"error": "WebRequestError", "message": f"Invalid path '{method}'"}}

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        try:
            while True:
                data = await reader.readuntil(b"\x03")
                request = json.loads(data[:-1])
                reply = await self.answer(request)
                writer.write(json.dumps({"id": request.get("id"), **reply}).encode() + b"\x03")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.writers.remove(writer)


async def main(args) -> None:
    klippy = Klippy(args)
    if os.path.exists(args.socket):
        os.unlink(args.socket)
    server = await asyncio.start_unix_server(klippy.serve, path=args.socket)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("socket")
    ap.add_argument("gcodes")
    ap.add_argument("--job-seconds", type=float, default=1.5)
    ap.add_argument("--log", default="")
    asyncio.run(main(ap.parse_args()))
