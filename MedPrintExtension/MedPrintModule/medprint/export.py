"""Print-ready files of one or more named, coloured parts: STL, OBJ (+MTL), PLY and 3MF.

Coordinates are millimetres in the ``space`` asked for (LPS by default, Slicer's convention for
files); every file says which in its header or comments (``SPACE=LPS``). Names in the files are
the parts' names (case label + part, chosen by the user), never patient data.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional
from xml.sax.saxutils import quoteattr

import numpy as np

from . import __version__
from .errors import InputError
from .mesh import Mesh, new_file_mode, write_stl
from .progress import Progress, no_progress
from .text_rows import format_rows

FORMATS = ("stl", "obj", "ply", "3mf")
#: part colours (sRGB 0-255): Slicer's bone colour and distinct ones for other parts
COLORS = {"bone": (241, 214, 145), "guide": (111, 184, 210), "other": (216, 101, 79)}
_BATCH = 1 << 16  # vertices / faces formatted per string block


@dataclass(frozen=True, eq=False)
class Part:
    """A named part of a case: its surface (any space; converted on export) and sRGB colour."""

    name: str
    mesh: Mesh
    color: tuple[int, int, int] = COLORS["bone"]

    @property
    def hex_color(self) -> str:
        return "#" + "".join(f"{c:02X}" for c in self.color)


def write_parts(parts: list[Part], path: str | Path, space: str = "LPS", ascii_stl: bool = False,
                progress: Optional[Progress] = None) -> Path:
    """All ``parts`` in one file; the format comes from the suffix (.stl .obj .ply .3mf)."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise InputError(f"'{path.name}' is not a mesh format MedPrint writes.",
                         hint="use .stl, .obj, .ply or .3mf")
    if not parts:
        raise InputError("There is no part to export.")
    if len({p.name for p in parts}) != len(parts):
        raise InputError("Two parts have the same name.", hint="give each part its own name")
    parts = [Part(p.name, p.mesh.in_space(space), p.color) for p in parts]
    progress = progress or no_progress
    progress(0.0, f"writing {path.name}")
    with _atomic(path) as tmp:
        if fmt == "stl":
            joined = _join([p.mesh for p in parts])
            if ascii_stl:
                _write_ascii_stl(joined, tmp, space, parts[0].name if len(parts) == 1 else "parts")
            else:
                write_stl(joined, tmp, space=space)
        elif fmt == "obj":
            _write_obj(parts, tmp, path.with_suffix(".mtl"), space)
        elif fmt == "ply":
            _write_ply(parts, tmp, space)
        else:
            _write_3mf(parts, tmp, space)
    progress(1.0, f"{path.name} written")
    return path


def write_each(parts: list[Part], folder: str | Path, fmt: str = "stl", space: str = "LPS",
               ascii_stl: bool = False) -> list[Path]:
    """One file per part, ``<folder>/<part name>.<fmt>``."""
    return [write_parts([p], Path(folder) / f"{p.name}.{fmt}", space, ascii_stl) for p in parts]


@contextmanager
def _atomic(path: Path):
    """A temp file beside ``path``, renamed onto it when the block succeeds (no half-written files)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=path.suffix + ".part")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, new_file_mode())  # mkstemp makes 0600; the user expects a normal file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _join(meshes: list[Mesh]) -> Mesh:
    offsets = np.cumsum([0] + [len(m.vertices) for m in meshes[:-1]])
    return Mesh(np.concatenate([m.vertices for m in meshes]),
                np.concatenate([m.faces + o for m, o in zip(meshes, offsets)]), meshes[0].space)


def _lines(template: str, rows: np.ndarray, decimals: Optional[int] = None) -> Iterable[bytes]:
    """``template`` (one row, ``{}`` per number, a trailing newline) filled with every row of ``rows``
    (integers, or fixed-point with ``decimals``), in blocks of bounded size."""
    for start in range(0, len(rows), _BATCH):
        yield format_rows(template, rows[start:start + _BATCH], decimals)


def _write_ascii_stl(mesh: Mesh, path: Path, space: str, name: str) -> None:
    tri = mesh.vertices[mesh.faces]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    length = np.linalg.norm(normal, axis=1, keepdims=True)
    normal = np.divide(normal, length, out=np.zeros_like(normal), where=length > 0)
    rows = np.concatenate([normal, tri.reshape(-1, 9)], axis=1)
    facet = "facet normal {} {} {}\n outer loop\n" + "  vertex {} {} {}\n" * 3 + " endloop\nendfacet\n"
    with open(path, "wb") as f:
        f.write(f"solid {name} MedPrint {__version__} SPACE={space}\n".encode("ascii"))
        for chunk in _lines(facet, rows, 6):
            f.write(chunk)
        f.write(f"endsolid {name}\n".encode("ascii"))


def _write_obj(parts: list[Part], path: Path, mtl_path: Path, space: str) -> None:
    """Wavefront OBJ: one object and material per part; the MTL file sits beside it."""
    lines = [f"# MedPrint {__version__} SPACE={space} units=mm\n"]
    lines += [f"newmtl {p.name}\nKd {' '.join(f'{c / 255:.6f}' for c in p.color)}\n" for p in parts]
    with _atomic(mtl_path) as tmp:
        tmp.write_text("".join(lines))
    offset = 1
    with open(path, "wb") as f:
        f.write(f"# MedPrint {__version__} SPACE={space} units=mm\nmtllib {mtl_path.name}\n".encode("ascii"))
        for p in parts:
            f.write(f"o {p.name}\nusemtl {p.name}\n".encode("ascii"))
            for chunk in _lines("v {} {} {}\n", p.mesh.vertices, 6):
                f.write(chunk)
            for chunk in _lines("f {} {} {}\n", p.mesh.faces + offset):
                f.write(chunk)
            offset += len(p.mesh.vertices)


def _write_ply(parts: list[Part], path: Path, space: str) -> None:
    """Binary little-endian PLY: float64 vertices with their part's colour, int32 triangles."""
    mesh = _join([p.mesh for p in parts])
    vertex = np.zeros(len(mesh.vertices), dtype=[("x", "<f8"), ("y", "<f8"), ("z", "<f8"),
                                                  ("red", "u1"), ("green", "u1"), ("blue", "u1")])
    for axis, name in enumerate("xyz"):
        vertex[name] = mesh.vertices[:, axis]
    vertex["red"], vertex["green"], vertex["blue"] = np.repeat(
        np.array([p.color for p in parts], dtype=np.uint8), [len(p.mesh.vertices) for p in parts], axis=0).T
    face = np.zeros(len(mesh.faces), dtype=[("n", "u1"), ("v", "<i4", 3)])
    face["n"] = 3
    face["v"] = mesh.faces
    header = ("ply\nformat binary_little_endian 1.0\n"
              f"comment MedPrint {__version__} SPACE={space} units=mm\n"
              + "".join(f"comment part {p.name} {len(p.mesh.vertices)} vertices\n" for p in parts)
              + f"element vertex {len(vertex)}\nproperty double x\nproperty double y\nproperty double z\n"
              "property uchar red\nproperty uchar green\nproperty uchar blue\n"
              f"element face {len(face)}\nproperty list uchar int vertex_indices\nend_header\n")
    with open(path, "wb") as f:
        f.write(header.encode("ascii"))
        f.write(vertex.tobytes())
        f.write(face.tobytes())


_3MF_CORE = "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"
_CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                  '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                  '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                  '<Default Extension="model" ContentType="application/vnd.ms-package.3dmanufacturing-3dmodel+xml"/>'
                  '</Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8"?>\n'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Target="/3D/3dmodel.model" Id="rel0" '
         'Type="http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"/></Relationships>')


def _write_3mf(parts: list[Part], path: Path, space: str) -> None:
    """3MF core: one ``<object>`` per part (named), colours as one ``<basematerials>`` group (each
    object's ``pid``/``pindex``), ``unit="millimeter"``, every part an item of one build plate."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=5) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        with z.open("3D/3dmodel.model", "w", force_zip64=True) as f:
            f.write(('<?xml version="1.0" encoding="UTF-8"?>\n'
                     f'<model unit="millimeter" xml:lang="en-US" xmlns="{_3MF_CORE}">\n'
                     f'<metadata name="Application">MedPrint {__version__}</metadata>\n'
                     f'<metadata name="Description">coordinates {space}, millimetres</metadata>\n'
                     '<resources>\n<basematerials id="1">\n').encode("utf-8"))
            for p in parts:
                f.write(f'<base name={quoteattr(p.name)} displaycolor="{p.hex_color}"/>\n'.encode("utf-8"))
            f.write(b"</basematerials>\n")
            for index, p in enumerate(parts):
                f.write(f'<object id="{index + 2}" name={quoteattr(p.name)} type="model" pid="1" '
                        f'pindex="{index}">\n<mesh>\n<vertices>\n'.encode("utf-8"))
                for chunk in _lines('<vertex x="{}" y="{}" z="{}"/>\n', p.mesh.vertices, 6):
                    f.write(chunk)
                f.write(b"</vertices>\n<triangles>\n")
                for chunk in _lines('<triangle v1="{}" v2="{}" v3="{}"/>\n', p.mesh.faces):
                    f.write(chunk)
                f.write(b"</triangles>\n</mesh>\n</object>\n")
            f.write(b"</resources>\n<build>\n")
            for index in range(len(parts)):
                f.write(f'<item objectid="{index + 2}"/>\n'.encode("utf-8"))
            f.write(b"</build>\n</model>\n")
