"""Printer definitions in the user's config folder (``printers.json``, readable by the user only).

Secrets (API keys, passwords) live only there: :meth:`PrinterConfig.public` is what case folders,
logs and screens get. The folder is ``$MEDPRINT_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/medprint``,
else ``~/.config/medprint``.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ..errors import InputError
from ..userdirs import config_dir
from .profiles import printer_profile

KINDS = ("octoprint", "moonraker", "prusalink", "serial")
SECRETS = ("api_key", "password")
DEFAULT_PROFILE = {"octoprint": "prusa-mk4", "moonraker": "voron-350", "prusalink": "prusa-mk4",
                   "serial": "prusa-mk4"}


@dataclass
class PrinterConfig:
    """One printer: ``kind`` (one of :data:`KINDS`), ``address`` (URL, or serial port path),
    ``profile`` (printer profile for slicing), its credentials, serial speed and window, and
    ``remote_slicer``: for an OctoPrint that slices itself, the type of its slicer plugin (e.g.
    ``prusaslicer``); such a printer takes the export step's 3MF instead of MedPrint's G-code."""

    name: str
    kind: str
    address: str
    profile: str = ""
    api_key: str = ""
    username: str = ""
    password: str = ""
    baudrate: int = 115200
    serial_window: int = 4  # lines in flight; Marlin's command buffer (BUFSIZE) is 4 by default
    remote_slicer: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise InputError(f"'{self.kind}' is not a printer connection MedPrint knows.",
                             hint=f"use one of: {', '.join(KINDS)}")
        if not self.name or not self.name.replace("-", "").replace("_", "").isalnum():
            raise InputError(f"'{self.name}' cannot be a printer name.", hint="use letters, digits, '-' or '_'")
        self.profile = self.profile or DEFAULT_PROFILE[self.kind]
        printer_profile(self.profile)  # refuses unknown profiles
        if self.kind != "serial" and not self.address.startswith(("http://", "https://")):
            raise InputError(f"'{self.address}' is not a web address.", hint="e.g. http://octopi.local")
        if self.remote_slicer and self.kind != "octoprint":
            raise InputError(f"A {self.kind} printer cannot slice 3MF itself.",
                             hint="only OctoPrint with a slicer plugin does; leave --remote-slicer out")

    @property
    def takes_3mf(self) -> bool:
        """Whether the printer slices the 3MF it is sent (else it gets MedPrint's G-code)."""
        return bool(self.remote_slicer)

    def public(self) -> dict:
        """Everything but the secrets (which say only whether they are set)."""
        data = asdict(self)
        for key in SECRETS:
            data[key] = "set" if data[key] else ""
        return data

    def __repr__(self) -> str:
        return f"PrinterConfig({self.public()})"


def printers_file() -> Path:
    return config_dir() / "printers.json"


def load_printers() -> dict[str, PrinterConfig]:
    path = printers_file()
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
        known = {f.name for f in fields(PrinterConfig)}
        return {p["name"]: PrinterConfig(**{k: v for k, v in p.items() if k in known}) for p in data["printers"]}
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InputError(f"The printer list {path} is damaged.", hint="fix or delete it", detail=str(exc)) from None


def printer_choices() -> list[dict]:
    """The configured printers for a chooser: ``name``, ``kind``, ``profile`` and ``takes_3mf`` of each (no
    address, which may carry credentials, and no secrets), in the order they were added."""
    return [{"name": p.name, "kind": p.kind, "profile": p.profile, "takes_3mf": p.takes_3mf}
            for p in load_printers().values()]


def get_printer(name: str) -> PrinterConfig:
    printers = load_printers()
    if name not in printers:
        raise InputError(f"There is no printer '{name}'.", hint=(
            f"known printers: {', '.join(printers)}" if printers else "add one with: medprint printers add"))
    return printers[name]


def save_printer(config: PrinterConfig) -> Path:
    """Add or replace ``config`` in the printer list."""
    printers = load_printers()
    printers[config.name] = config
    return _write(printers)


def remove_printer(name: str) -> None:
    get_printer(name)
    _write({k: v for k, v in load_printers().items() if k != name})


def _write(printers: dict[str, PrinterConfig]) -> Path:
    """Write the printer list atomically, readable by the user only (mode 0600)."""
    path = printers_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".printers.", suffix=".json")  # created 0600
    with os.fdopen(fd, "w") as f:
        json.dump({"printers": [asdict(p) for p in printers.values()]}, f, indent=2)
    os.replace(tmp, path)
    return path


def connect(config: PrinterConfig, timeout_s: float = 10.0):
    """A :class:`~medprint.printing.printer.Printer` for ``config`` (nothing is sent yet)."""
    if config.kind == "octoprint":
        from .octoprint import OctoPrintPrinter
        return OctoPrintPrinter(config.name, config.address, config.api_key, timeout_s, config.remote_slicer)
    if config.kind == "moonraker":
        from .moonraker import MoonrakerPrinter
        return MoonrakerPrinter(config.name, config.address, config.api_key, timeout_s)
    if config.kind == "prusalink":
        from .prusalink import PrusaLinkPrinter
        return PrusaLinkPrinter(config.name, config.address, config.api_key, config.username, config.password,
                                timeout_s)
    if config.kind == "serial":
        from .marlin import MarlinPrinter
        return MarlinPrinter(config.name, config.address, config.baudrate, config.serial_window, timeout_s)
    raise InputError(f"Printing to {config.kind} is not available yet.")
