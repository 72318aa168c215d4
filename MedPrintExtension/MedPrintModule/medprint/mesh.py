"""The mesh type, its conversions (vtkPolyData <-> Mesh <-> trimesh) and STL files.

A ``Mesh`` is a triangle surface in millimetres with an explicit coordinate system (``"LPS"`` or
``"RAS"``); closed meshes have faces wound counter-clockwise seen from outside (outward normals).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .coords import flip_points
from .errors import InputError

SPACES = ("LPS", "RAS")


@dataclass(frozen=True, eq=False)
class Mesh:
    """Triangles: ``vertices`` (n, 3) float64 mm in ``space``, ``faces`` (m, 3) int64 vertex indices."""

    vertices: np.ndarray
    faces: np.ndarray
    space: str = "LPS"

    def __post_init__(self):
        if self.space not in SPACES:
            raise ValueError(f"space must be one of {SPACES}, not {self.space!r}")
        object.__setattr__(self, "vertices", np.asarray(self.vertices, dtype=np.float64).reshape(-1, 3))
        object.__setattr__(self, "faces", np.asarray(self.faces, dtype=np.int64).reshape(-1, 3))

    def in_space(self, space: str) -> "Mesh":
        """The same surface in ``space``; LPS <-> RAS is a 180° turn about z, so winding is kept."""
        if space == self.space:
            return self
        return Mesh(flip_points(self.vertices), self.faces, space)

    def to_trimesh(self):
        """A ``trimesh.Trimesh`` sharing nothing with this mesh (no processing, no merging)."""
        import trimesh

        return trimesh.Trimesh(self.vertices.copy(), self.faces.copy(), process=False)

    @classmethod
    def from_trimesh(cls, tm, space: str = "LPS") -> "Mesh":
        return cls(np.asarray(tm.vertices), np.asarray(tm.faces), space)

    def to_polydata(self):
        """A ``vtkPolyData`` with the same points and triangles (coordinates unchanged)."""
        from vtkmodules.util.numpy_support import numpy_to_vtk, numpy_to_vtkIdTypeArray
        from vtkmodules.vtkCommonCore import vtkPoints
        from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData

        points = vtkPoints()
        points.SetData(numpy_to_vtk(np.ascontiguousarray(self.vertices), deep=True))
        offsets = np.arange(0, 3 * len(self.faces) + 1, 3, dtype=np.int64)
        cells = vtkCellArray()
        cells.SetData(numpy_to_vtkIdTypeArray(offsets, deep=True),
                      numpy_to_vtkIdTypeArray(np.ascontiguousarray(self.faces.ravel()), deep=True))
        polydata = vtkPolyData()
        polydata.SetPoints(points)
        polydata.SetPolys(cells)
        return polydata

    @classmethod
    def from_polydata(cls, polydata, space: str = "LPS") -> "Mesh":
        """Triangles of a ``vtkPolyData`` (polygons are triangulated; lines and vertices dropped)."""
        from vtkmodules.util.numpy_support import vtk_to_numpy
        from vtkmodules.vtkFiltersCore import vtkTriangleFilter

        if polydata.GetNumberOfPoints() == 0 or polydata.GetNumberOfPolys() == 0:
            return cls(np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64), space)
        polys = polydata.GetPolys()
        if polys.IsHomogeneous() != 3:
            tri = vtkTriangleFilter()
            tri.SetInputData(polydata)
            tri.PassLinesOff()
            tri.PassVertsOff()
            tri.Update()
            polydata = tri.GetOutput()
            polys = polydata.GetPolys()
        vertices = vtk_to_numpy(polydata.GetPoints().GetData()).astype(np.float64)  # a copy: VTK owns its data
        faces = vtk_to_numpy(polys.GetConnectivityArray()).astype(np.int64).reshape(-1, 3)
        return cls(vertices, faces, space)

    @property
    def triangle_count(self) -> int:
        return int(len(self.faces))

    def volume_mm3(self) -> float:
        """Signed enclosed volume (positive for a closed, outward-wound surface), mm³."""
        total = 0.0
        for start in range(0, len(self.faces), _CHUNK):  # chunks keep the temporaries in cache
            a, b, c = (self.vertices[self.faces[start:start + _CHUNK, n]] for n in range(3))
            total += float(np.einsum("ij,ij->", a, _cross(b, c)))
        return total / 6.0

    def is_watertight(self) -> bool:
        """Closed and consistently wound: every edge is used exactly twice, once in each direction.

        Each directed edge a->b becomes ``(min * n + max) * 2 + (a < b)``; after one sort the keys must
        pair up as ``(2e, 2e + 1)``: an even key followed by its odd twin.
        """
        if len(self.faces) == 0 or len(self.faces) % 2:  # a closed triangle mesh has an even face count
            return False
        a = self.faces.ravel()
        b = self.faces[:, [1, 2, 0]].ravel()  # edge a -> b of every face
        forward = a < b
        keys = np.minimum(a, b)
        np.maximum(a, b, out=b)
        keys *= len(self.vertices)  # in place: meshes of millions of faces make large temporaries
        keys += b
        keys <<= 1
        keys += forward
        keys.sort()
        first = keys[0::2]
        return bool(not (first & 1).any() and np.array_equal(first + 1, keys[1::2]))


_CHUNK = 1 << 17  # triangles per block of vectorised work: bounded temporaries for any mesh


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cross product of (n, 3) arrays (several times faster than ``np.cross`` on large n)."""
    return np.stack([a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1],
                     a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2],
                     a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]], axis=1)


_STL_RECORD = np.dtype([("n", "<f4", 3), ("v", "<f4", (3, 3)), ("attr", "<u2")])


def write_stl(mesh: Mesh, path: str | Path, space: str = "LPS") -> Path:
    """Write a binary STL in ``space`` (mm) with Slicer's ``SPACE=`` header; atomic (temp + rename).

    The 80-byte header holds only the program name and the coordinate system, never patient data.
    """
    from . import __version__

    path = Path(path)
    mesh = mesh.in_space(space)
    vertices = mesh.vertices.astype(np.float32)
    header = f"MedPrint {__version__} SPACE={space}".encode("ascii").ljust(80, b"\0")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".stl.part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(header)
            f.write(np.uint32(len(mesh.faces)).tobytes())
            for start in range(0, len(mesh.faces), _CHUNK):
                tri = vertices[mesh.faces[start:start + _CHUNK]]
                normals = _cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
                lengths = np.sqrt(np.einsum("ij,ij->i", normals, normals))[:, None]
                record = np.zeros(len(tri), dtype=_STL_RECORD)
                np.divide(normals, lengths, out=record["n"], where=lengths > 0)
                record["v"] = tri
                f.write(record.data)
        os.chmod(tmp, new_file_mode())  # mkstemp makes 0600; the user expects a normal file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def new_file_mode() -> int:
    """The permissions ``open()`` gives a new file here (0666 less the process's umask)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def read_stl(path: str | Path) -> Mesh:
    """Read an STL (binary or ASCII); the coordinate system comes from a ``SPACE=`` header (default LPS,
    as in Slicer). Coincident vertices are merged so the result can be checked for watertightness."""
    import trimesh

    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(80)
    space = "RAS" if b"SPACE=RAS" in head else "LPS"
    try:
        tm = trimesh.load_mesh(str(path), file_type="stl", process=True)
    except Exception as exc:
        raise InputError(f"'{path.name}' is not a readable STL file.", detail=str(exc)) from exc
    if len(getattr(tm, "faces", ())) == 0:
        raise InputError(f"'{path.name}' is not a readable STL file: it holds no triangles.",
                         hint="export the model again")
    return Mesh.from_trimesh(tm, space)
