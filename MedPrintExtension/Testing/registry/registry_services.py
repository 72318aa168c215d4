"""Real services for the registry tests and benchmark: a PostgreSQL cluster in a temp folder and the
registry server as a uvicorn process, both on 127.0.0.1 and a free port, stopped afterwards."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

MODULE_DIR = Path(__file__).resolve().parents[2] / "MedPrintModule"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    assert found, f"PostgreSQL's {name} is missing; install the Debian package postgresql (.ci/packages/registry.txt)"
    return found[-1]


class PostgresCluster:
    """``initdb`` + ``pg_ctl`` in a temp folder; as root the server runs as the ``postgres`` user."""

    def __init__(self, fsync: bool = False):
        self.folder = Path(tempfile.mkdtemp(prefix="medprint-pg-"))
        self.port = free_port()
        self.data = self.folder / "data"
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.folder, "postgres")
            os.chmod(self.folder, 0o755)
        self._run(_pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync",
                  "-E", "UTF8", "--locale=C")
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=200" + \
                  ("" if fsync else " -c fsync=off -c synchronous_commit=off")
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w",
                  "-t", "60", "start")

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, cwd=self.folder)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


class RegistryServer:
    """``medprint registry serve`` as a child process; ``kill()`` is SIGKILL, ``start()`` restarts."""

    def __init__(self, database_url: str, log_file: Path, rate: float = 0.0, burst: int = 60,
                 max_body: int = 64 * 1024, workers: int = 1, access_log: bool = True):
        self.database_url, self.log_file = database_url, Path(log_file)
        self.args = ["--rate", str(rate), "--burst", str(burst), "--max-body", str(max_body),
                     "--workers", str(workers), "--access-log" if access_log else "--no-access-log"]
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None
        self.start()

    def start(self, timeout: float = 30.0) -> None:
        env = {**os.environ, "PYTHONPATH": str(MODULE_DIR)}
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "medprint.cli", "registry", "serve", "--host", "127.0.0.1",
                 "--port", str(self.port), "--database-url", self.database_url, *self.args],
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the registry server exited: {self.log_file.read_text()[-2000:]}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("the registry server did not start")

    def kill(self) -> None:
        """SIGKILL the server (and its workers) and wait until the port is closed."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
