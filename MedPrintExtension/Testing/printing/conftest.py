"""Fixtures of the printing tests: parts to slice, and the real print servers on 127.0.0.1."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from print_servers import ENVS, start_octoprint

CURA_DEFINITIONS = ENVS / "cura" / "usr" / "share" / "cura" / "resources" / "definitions"


def write_box_stl(path: Path, size_mm: tuple[float, float, float], origin=(0.0, 0.0, 0.0)) -> Path:
    """A closed box as a binary STL, outward normals, mm."""
    sx, sy, sz = size_mm
    ox, oy, oz = origin
    v = [(ox + x * sx, oy + y * sy, oz + z * sz) for x in (0, 1) for y in (0, 1) for z in (0, 1)]
    quads = [(0, 2, 6, 4), (1, 5, 7, 3), (0, 4, 5, 1), (2, 3, 7, 6), (0, 1, 3, 2), (4, 6, 7, 5)]
    normals = [(0, 0, -1), (0, 0, 1), (0, -1, 0), (0, 1, 0), (-1, 0, 0), (1, 0, 0)]
    with open(path, "wb") as f:
        f.write(b"box".ljust(80, b" ") + struct.pack("<I", 12))
        for (a, b, c, d), n in zip(quads, normals):
            for tri in ((a, b, c), (a, c, d)):
                f.write(struct.pack("<12fH", *n, *v[tri[0]], *v[tri[1]], *v[tri[2]], 0))
    return path


@pytest.fixture
def box_stl(tmp_path):
    return lambda size, name="box.stl": write_box_stl(tmp_path / name, size)


@pytest.fixture(scope="module")
def octoprint(tmp_path_factory):
    """A real OctoPrint 1.11 with its Virtual Printer (no simulated errors), stopped afterwards."""
    server = start_octoprint(tmp_path_factory.mktemp("octoprint"))
    yield server
    server.stop()


@pytest.fixture
def cura_definitions(monkeypatch):
    """Cura's setting definitions, extracted from Debian's cura .deb by `make printing-servers`."""
    assert (CURA_DEFINITIONS / "fdmprinter.def.json").is_file(), \
        f"{CURA_DEFINITIONS} is missing: run `make printing-servers` (part of `make test`)"
    monkeypatch.setenv("MEDPRINT_CURA_DEFINITIONS", str(CURA_DEFINITIONS))
    return CURA_DEFINITIONS
