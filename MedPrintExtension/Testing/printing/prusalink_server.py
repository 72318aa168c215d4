"""A PrusaLink stand-in for the tests: an HTTP server on 127.0.0.1 that follows PrusaLink's
published OpenAPI (prusa3d/Prusa-Link-Web spec/openapi.yaml) for ``/api/version``,
``/api/v1/storage``, ``/api/v1/files/{storage}/{path}`` (PUT upload with ``Print-After-Upload`` and
``Overwrite``, POST start, GET), ``/api/v1/status``, ``/api/v1/job`` and ``/api/v1/job/{id}``
(DELETE stop, PUT pause/resume), with HTTP digest auth (RFC 7616, MD5, qop=auth) or an
``X-Api-Key`` header. A started job advances from 0 to 100 % in ``job_seconds`` of printing."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

REALM = "Printer API"


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


class PrusaLinkSim:
    def __init__(self, username="maker", password="", api_key="", job_seconds=1.5):
        self.username, self.password, self.api_key = username, password, api_key
        self.job_seconds = job_seconds
        self.nonce = secrets.token_hex(16)
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, str, str]] = []  # method, path, how it was authenticated
        self.lock = threading.Lock()
        self.job = None  # dict(id, file, state, started, paused_at, paused_total)
        self.next_id = 41
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    # --- state ----------------------------------------------------------------------------------
    def progress(self) -> float:
        job = self.job
        now = job["paused_at"] or time.monotonic()
        done = min(100.0, 100.0 * (now - job["started"] - job["paused_total"]) / self.job_seconds)
        if done >= 100.0 and job["state"] == "PRINTING":
            job["state"] = "FINISHED"
        return done

    def start(self, name: str):
        self.job = {"id": self.next_id, "file": name, "state": "PRINTING", "started": time.monotonic(),
                    "paused_at": None, "paused_total": 0.0}
        self.next_id += 1

    def status(self) -> dict:
        printer = {"state": "IDLE", "temp_nozzle": 24.1, "target_nozzle": 0.0, "temp_bed": 23.8, "target_bed": 0.0}
        if self.job is None:
            return {"printer": printer, "storage": {"path": "/usb/", "name": "usb", "read_only": False}}
        progress = self.progress()
        printing = self.job["state"] in ("PRINTING", "PAUSED")
        printer.update(state=self.job["state"], temp_nozzle=215.0 if printing else 180.0,
                       target_nozzle=215.0 if printing else 0.0, temp_bed=60.0, target_bed=60.0 if printing else 0.0)
        left = max(0, round(self.job_seconds * (100 - progress) / 100))
        return {"printer": printer, "job": {"id": self.job["id"], "progress": round(progress, 1),
                                            "time_remaining": left, "time_printing": 1}}

    # --- HTTP -----------------------------------------------------------------------------------
    def authenticated(self, method: str, headers) -> str:
        if self.api_key and headers.get("X-Api-Key") == self.api_key:
            return "api-key"
        auth = headers.get("Authorization", "")
        if self.password and auth.startswith("Digest "):
            fields = dict(re.findall(r'(\w+)="?([^",]*)"?', auth[7:]))
            ha1 = _md5(f"{self.username}:{REALM}:{self.password}")
            ha2 = _md5(f"{method}:{fields.get('uri', '')}")
            expected = _md5(f"{ha1}:{fields.get('nonce')}:{fields.get('nc')}:{fields.get('cnonce')}:auth:{ha2}")
            if fields.get("username") == self.username and fields.get("nonce") == self.nonce \
                    and fields.get("qop") == "auth" and fields.get("response") == expected:
                return "digest"
        return ""

    def _handler(self):
        sim = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, code, body=None, headers=None):
                data = b"" if body is None else (json.dumps(body).encode() if not isinstance(body, bytes) else body)
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                if data:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def handle_any(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                how = sim.authenticated(method, self.headers)
                sim.requests.append((method, self.path, how))
                if not how:
                    return self.reply(401, b"Unauthorized", {"WWW-Authenticate":
                                      f'Digest realm="{REALM}", nonce="{sim.nonce}", qop="auth", algorithm=MD5'})
                with sim.lock:
                    return self.route(method, unquote(self.path.split("?")[0]), body)

            def route(self, method, path, body):
                if path == "/api/version" and method == "GET":
                    return self.reply(200, {"api": "2.0.0", "server": "0.8.1", "text": "PrusaLink",
                                            "hostname": "sim", "capabilities": {"upload-by-put": True}})
                if path == "/api/v1/storage" and method == "GET":
                    return self.reply(200, {"storage_list": [
                        {"name": "USB", "type": "USB", "path": "/usb", "read_only": False, "available": True}]})
                if path == "/api/v1/status" and method == "GET":
                    return self.reply(200, sim.status())
                if path == "/api/v1/job" and method == "GET":
                    if sim.job is None or sim.job["state"] not in ("PRINTING", "PAUSED"):
                        return self.reply(204)
                    return self.reply(200, {"id": sim.job["id"], "state": sim.job["state"],
                                            "progress": sim.progress(), "time_printing": 1,
                                            "file": {"name": sim.job["file"], "path": "/usb"}})
                if m := re.fullmatch(r"/api/v1/job/(\d+)(/pause|/resume)?", path):
                    if sim.job is None or int(m.group(1)) != sim.job["id"]:
                        return self.reply(404, b"Job not found")
                    action = m.group(2)
                    if method == "DELETE" and not action and sim.job["state"] in ("PRINTING", "PAUSED"):
                        sim.progress()
                        sim.job["state"] = "STOPPED"
                        return self.reply(204)
                    if method == "PUT" and action == "/pause" and sim.job["state"] == "PRINTING":
                        sim.job.update(state="PAUSED", paused_at=time.monotonic())
                        return self.reply(204)
                    if method == "PUT" and action == "/resume" and sim.job["state"] == "PAUSED":
                        sim.job["paused_total"] += time.monotonic() - sim.job["paused_at"]
                        sim.job.update(state="PRINTING", paused_at=None)
                        return self.reply(204)
                    return self.reply(409, b"Conflict")
                if m := re.fullmatch(r"/api/v1/files/usb/(.+)", path):
                    name = m.group(1)
                    busy = sim.job is not None and sim.job["state"] in ("PRINTING", "PAUSED")
                    if method == "PUT":
                        if name in sim.files and self.headers.get("Overwrite") != "?1":
                            return self.reply(409, b"File already exists")
                        if busy and self.headers.get("Print-After-Upload") == "?1":
                            return self.reply(409, b"Printer is busy")
                        sim.files[name] = body
                        if self.headers.get("Print-After-Upload") == "?1":
                            sim.start(name)
                        return self.reply(201)
                    if method == "POST":
                        if name not in sim.files:
                            return self.reply(404, b"File not found")
                        if busy:
                            return self.reply(409, b"Printer is busy")
                        sim.start(name)
                        return self.reply(204)
                    if method == "GET" and name in sim.files:
                        return self.reply(200, {"name": name, "size": len(sim.files[name]), "type": "PRINT_FILE"})
                    return self.reply(404, b"Not found")
                return self.reply(404, b"Not found")

            def do_GET(self):
                self.handle_any("GET")

            def do_PUT(self):
                self.handle_any("PUT")

            def do_POST(self):
                self.handle_any("POST")

            def do_DELETE(self):
                self.handle_any("DELETE")

        return Handler
