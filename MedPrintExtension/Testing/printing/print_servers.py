"""Start the real print servers on 127.0.0.1 for the tests: OctoPrint 1.11 with its Virtual Printer
and Moonraker 0.11, each from its own venv under build/printing (built by `make printing-servers`)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[3]
ENVS = REPO / "build" / "printing"
OCTOPRINT_BIN = ENVS / "venv-octoprint" / "bin" / "octoprint"
MOONRAKER_BIN = ENVS / "venv-moonraker" / "bin" / "moonraker"
API_KEY = "testapikey0123456789ABCDEF"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _need(binary: Path) -> None:
    assert binary.exists(), f"{binary} is missing: run `make printing-servers` (part of `make test`)"


class Server:
    """A server process in its own process group; ``stop()`` ends it (SIGTERM, then SIGKILL)."""

    def __init__(self, command: list[str], log: Path, url: str):
        self.url = url
        self.log = log
        self.proc = subprocess.Popen(command, stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def wait_ready(self, path: str, headers: dict, timeout_s: float = 90.0) -> None:
        begin = time.monotonic()
        while time.monotonic() - begin < timeout_s:
            assert self.proc.poll() is None, f"server died: {self.log.read_text()[-3000:]}"
            try:
                if requests.get(self.url + path, headers=headers, timeout=2).ok:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.3)
        self.stop()
        raise AssertionError(f"server not ready after {timeout_s} s: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def start_octoprint(basedir: Path, simulated_errors: bool = False) -> Server:
    """OctoPrint with the Virtual Printer (fast: no throttle), a known admin user and API key, and a
    PrusaSlicer slicer plugin (octoprint_prusaslicer_plugin.py) that takes STL and 3MF; with
    ``simulated_errors`` the plugin's default resend/checksum errors at lines 100-115 stay on."""
    _need(OCTOPRINT_BIN)
    (basedir / "plugins").mkdir(parents=True, exist_ok=True)  # OctoPrint slices 3MF with PrusaSlicer
    shutil.copy(Path(__file__).with_name("octoprint_prusaslicer_plugin.py"), basedir / "plugins")
    port = free_port()
    errors = "" if simulated_errors else "    simulated_errors: []\n"
    (basedir / "config.yaml").write_text(f"""\
server:
  firstRun: false
  onlineCheck: {{enabled: false}}
  pluginBlacklist: {{enabled: false}}
  seenWizards: {{corewizard: 4}}
accessControl: {{autologinLocal: false}}
serial:
  port: VIRTUAL
  autoconnect: true
plugins:
  _disabled: [softwareupdate, announcements, tracking, errortracking, discovery, achievements,
              pluginmanager, health_check]
  virtual_printer:
    _config_version: 1
    enabled: true
    okAfterResend: false
    throttle: 0.0
    waitInterval: 1.0
    rxBuffer: 4096
    commandBuffer: 64
{errors}""")
    python = OCTOPRINT_BIN.parent / "python"
    subprocess.run([str(python), "-c", f"""
import yaml
from passlib.hash import pbkdf2_sha256
yaml.safe_dump({{"_version": 2, "admin": {{"password": pbkdf2_sha256.hash("admin"), "active": True,
    "groups": ["admins", "users"], "permissions": [], "apikey": "{API_KEY}", "settings": {{}},
    "roles": ["user", "admin"]}}}}, open("{basedir / 'users.yaml'}", "w"))
"""], check=True)
    command = [str(OCTOPRINT_BIN), "serve", "--basedir", str(basedir), "--host", "127.0.0.1",
               "--port", str(port)] + (["--iknowwhatimdoing"] if os.getuid() == 0 else [])
    server = Server(command, basedir / "serve.log", f"http://127.0.0.1:{port}")
    server.wait_ready("/api/version", {"X-Api-Key": API_KEY})
    begin = time.monotonic()  # the virtual printer autoconnects; wait until it is operational
    while requests.get(server.url + "/api/connection", headers={"X-Api-Key": API_KEY},
                       timeout=2).json()["current"]["state"] != "Operational":
        assert time.monotonic() - begin < 30, "OctoPrint's virtual printer did not connect"
        time.sleep(0.2)
    while "tool0" not in requests.get(server.url + "/api/printer", headers={"X-Api-Key": API_KEY},
                                      timeout=2).json().get("temperature", {}):
        assert time.monotonic() - begin < 30, "OctoPrint's virtual printer reports no temperatures"
        time.sleep(0.2)  # its first temperature report follows the connection by a poll interval
    return server


def start_moonraker(datadir: Path, klippy_socket: Path) -> Server:
    """Moonraker 0.11 on 127.0.0.1 with ``datadir`` (config, gcodes, logs), 127.0.0.1 trusted,
    talking to Klippy at ``klippy_socket`` (started or not)."""
    _need(MOONRAKER_BIN)
    for sub in ("config", "gcodes", "logs", "database"):
        (datadir / sub).mkdir(parents=True, exist_ok=True)
    port = free_port()
    (datadir / "config" / "moonraker.conf").write_text(f"""\
[server]
host: 127.0.0.1
port: {port}
klippy_uds_address: {klippy_socket}

[authorization]
trusted_clients:
  127.0.0.0/8

[file_manager]
enable_object_processing: False
""")
    server = Server([str(MOONRAKER_BIN), "-d", str(datadir), "-n"], datadir / "serve.log", f"http://127.0.0.1:{port}")
    server.wait_ready("/server/info", {})
    return server


def moves_gcode(path, lines: int):
    """Synthetic G-code: homing and ``lines`` short moves (no heating), so a job runs a few seconds."""
    body = ["G28", "G90", "G1 Z0.3 F3000"]
    body += [f"G1 X{50 + (i % 40)} Y{50 + (i // 40) % 40} F6000" for i in range(lines)]
    path.write_text("\n".join(body) + "\nM84\n")
    return path
