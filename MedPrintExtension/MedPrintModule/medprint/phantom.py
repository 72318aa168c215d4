"""Procedural CT phantoms with analytically known geometry, written as real DICOM CT series.

A phantom is a list of analytic shapes (sphere, capped cylinder, ellipsoid, ellipsoid shell), each
filled with one HU value and painted in list order (a later shape covers an earlier one) over a
background. A ``SeriesGeometry`` says where each slice lies. All points are LPS millimetres.

Pixel convention (DICOM): pixel (column ``i``, row ``j``) of slice ``k`` is at
``positions[k] + i * dC * row_dir + j * dR * col_dir`` with ``pixel_spacing = (dR, dC)`` and the
image orientation ``(row_dir, col_dir)``; the slice normal is ``row_dir x col_dir``. Each pixel
stands for a box ``dC x dR x slice_thickness`` centred on that point; partial volume is the box
average, estimated by supersampling the boxes that a shape's surface passes through.

Used by ``medprint demo`` (``demo_phantom``), the tests (known volumes, surfaces, placement) and the
benchmarks (large series, written slice by slice).
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from .errors import InputError
from .progress import Progress, no_progress

PATIENT_NAME = "PHANTOM^MEDPRINT"  # synthetic; tests check these never leak into outputs
PATIENT_ID = "PHANTOM-0001"
RESCALE_INTERCEPT = -1024.0  # stored int16 value = HU + 1024
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"


# --------------------------------------------------------------------------------------------
# Geometry


@dataclass(frozen=True, eq=False)
class SeriesGeometry:
    """Where each slice of a series lies (LPS mm).

    ``pixel_spacing`` is ``(dR, dC)`` in DICOM order: dR between rows (along ``col_dir``), dC between
    columns (along ``row_dir``). ``positions`` (n_slices, 3) are the ImagePositionPatient values
    (centre of pixel (0, 0) of each slice). ``slice_thickness`` (mm) is measured along the normal.
    ``gantry_tilt_deg`` is only written to the DICOM header (GantryDetectorTilt).
    """

    rows: int
    columns: int
    pixel_spacing: tuple[float, float]
    row_dir: tuple[float, float, float]
    col_dir: tuple[float, float, float]
    positions: np.ndarray
    slice_thickness: float
    gantry_tilt_deg: float = 0.0

    def __post_init__(self):
        positions = np.asarray(self.positions, dtype=float).reshape(-1, 3)
        object.__setattr__(self, "positions", positions)
        object.__setattr__(self, "pixel_spacing", tuple(float(v) for v in self.pixel_spacing))
        object.__setattr__(self, "row_dir", tuple(float(v) for v in self.row_dir))
        object.__setattr__(self, "col_dir", tuple(float(v) for v in self.col_dir))
        u, v = np.array(self.row_dir), np.array(self.col_dir)
        if abs(np.linalg.norm(u) - 1) > 1e-6 or abs(np.linalg.norm(v) - 1) > 1e-6 or abs(u @ v) > 1e-6:
            raise ValueError("row_dir and col_dir must be orthonormal")
        if self.rows < 1 or self.columns < 1 or len(positions) < 1:
            raise ValueError("a series needs at least one slice of at least 1 x 1 pixels")

    @property
    def n_slices(self) -> int:
        return len(self.positions)

    @property
    def shape_kji(self) -> tuple[int, int, int]:
        """``(slices, rows, columns)``, the shape of the stacked pixel array."""
        return (self.n_slices, self.rows, self.columns)

    @property
    def normal(self) -> np.ndarray:
        """Unit slice normal ``row_dir x col_dir`` (LPS)."""
        return np.cross(self.row_dir, self.col_dir)

    @property
    def slice_offsets_mm(self) -> np.ndarray:
        """Distance of each slice plane from the origin along the normal (mm, the SliceLocation)."""
        return self.positions @ self.normal

    def pixel_lps(self, k, i, j) -> np.ndarray:
        """Centres of pixels (column ``i``, row ``j``) of slices ``k`` (broadcast) -> (..., 3) LPS mm."""
        k, i, j = np.broadcast_arrays(np.asarray(k), np.asarray(i, dtype=float), np.asarray(j, dtype=float))
        d_r, d_c = self.pixel_spacing
        return (self.positions[k] + i[..., None] * d_c * np.array(self.row_dir)
                + j[..., None] * d_r * np.array(self.col_dir))


def _stack(shape_kji, spacing_kji, row_dir, col_dir, step_dirs, origin_lps, center_lps, thickness,
           tilt_deg=0.0) -> SeriesGeometry:
    """Slices at ``origin + cumulative sum of step_dirs``; moved so the grid centre is ``center_lps``."""
    n, rows, cols = (int(v) for v in shape_kji)
    d_r, d_c = float(spacing_kji[1]), float(spacing_kji[2])
    positions = np.zeros((n, 3))
    if n > 1:
        positions[1:] = np.cumsum(step_dirs, axis=0)
    positions += np.asarray(origin_lps, dtype=float)
    if center_lps is not None:
        centre = (positions.mean(axis=0) + (cols - 1) / 2 * d_c * np.asarray(row_dir)
                  + (rows - 1) / 2 * d_r * np.asarray(col_dir))
        positions += np.asarray(center_lps, dtype=float) - centre
    return SeriesGeometry(rows, cols, (d_r, d_c), tuple(row_dir), tuple(col_dir), positions,
                          float(thickness), float(tilt_deg))


def axial_geometry(shape_kji, spacing_kji, origin_lps=(0.0, 0.0, 0.0), center_lps=None) -> SeriesGeometry:
    """A plain axial stack: IOP ``[1,0,0, 0,1,0]``, slices ``spacing_kji[0]`` mm apart along LPS +z.

    ``shape_kji`` = (slices, rows, columns); ``spacing_kji`` = (slice spacing, dR, dC) in mm.
    ``origin_lps`` is the first slice's ImagePositionPatient; ``center_lps``, if given, moves the stack
    so the centre of its voxel grid lies there instead.
    """
    n = int(shape_kji[0])
    steps = np.tile([0.0, 0.0, float(spacing_kji[0])], (max(n - 1, 0), 1))
    return _stack(shape_kji, spacing_kji, (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), steps, origin_lps,
                  center_lps, spacing_kji[0])


def rotation_matrix(rotation_deg=(0.0, 0.0, 0.0)) -> np.ndarray:
    """Rotation ``Rz @ Ry @ Rx`` for angles (about LPS x, y, z) in degrees; (3, 3)."""
    ax, ay, az = np.radians(np.asarray(rotation_deg, dtype=float))
    rx = np.array([[1, 0, 0], [0, math.cos(ax), -math.sin(ax)], [0, math.sin(ax), math.cos(ax)]])
    ry = np.array([[math.cos(ay), 0, math.sin(ay)], [0, 1, 0], [-math.sin(ay), 0, math.cos(ay)]])
    rz = np.array([[math.cos(az), -math.sin(az), 0], [math.sin(az), math.cos(az), 0], [0, 0, 1]])
    return rz @ ry @ rx


def oblique_geometry(shape_kji, spacing_kji, rotation_deg=(20.0, -15.0, 30.0), origin_lps=(0.0, 0.0, 0.0),
                     center_lps=None) -> SeriesGeometry:
    """An oblique stack: the axial axes turned by ``rotation_matrix(rotation_deg)``.

    IOP = first two columns of the rotation (orthonormal); slices ``spacing_kji[0]`` mm apart along
    the normal (the third column), so the grid is orthogonal, only rotated. Units as ``axial_geometry``.
    """
    rot = rotation_matrix(rotation_deg)
    n = int(shape_kji[0])
    steps = np.tile(rot[:, 2] * float(spacing_kji[0]), (max(n - 1, 0), 1))
    return _stack(shape_kji, spacing_kji, tuple(rot[:, 0]), tuple(rot[:, 1]), steps, origin_lps,
                  center_lps, spacing_kji[0])


def tilted_geometry(shape_kji, spacing_kji, tilt_deg, origin_lps=(0.0, 0.0, 0.0), center_lps=None,
                    slice_gaps_mm: Optional[Sequence[float]] = None) -> SeriesGeometry:
    """A gantry-tilted stack as a GE head scan stores it.

    IOP = ``[1,0,0, 0,cos t,-sin t]`` (normal ``(0, sin t, cos t)``); the slices follow the table
    along LPS +z, ``spacing_kji[0]`` mm apart, or by the ``n_slices - 1`` explicit z gaps
    ``slice_gaps_mm`` (uneven spacing). A z step ``dz`` therefore moves the next plane ``dz cos t``
    along the normal and ``dz sin t`` in-plane (against ``col_dir``): the in-plane shift is
    ``tan t`` times the distance between planes, so the voxel grid is sheared. The slice thickness
    is the nominal z spacing times ``cos t`` (the distance between planes), so boxes tile space.
    """
    n = int(shape_kji[0])
    t = math.radians(float(tilt_deg))
    if slice_gaps_mm is None:
        gaps = np.full(max(n - 1, 0), float(spacing_kji[0]))
    else:
        gaps = np.asarray(slice_gaps_mm, dtype=float)
        if gaps.shape != (max(n - 1, 0),):
            raise ValueError(f"slice_gaps_mm needs {n - 1} values, got {gaps.size}")
    steps = np.zeros((len(gaps), 3))
    steps[:, 2] = gaps
    return _stack(shape_kji, spacing_kji, (1.0, 0.0, 0.0), (0.0, math.cos(t), -math.sin(t)), steps,
                  origin_lps, center_lps, float(spacing_kji[0]) * math.cos(t), tilt_deg)


# --------------------------------------------------------------------------------------------
# Shapes


def _vec(values) -> tuple[float, float, float]:
    out = tuple(float(v) for v in values)
    if len(out) != 3:
        raise ValueError("a point or direction needs 3 coordinates")
    return out


class Shape:
    """An analytic solid filled with ``hu``. Points are (n, 3) LPS mm; distances mm, negative inside."""

    hu: float

    def signed_distance(self, points_lps: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def distance_bound(self, points_lps: np.ndarray) -> np.ndarray:
        """Same sign as ``signed_distance`` and never larger in magnitude (safe for skipping work)."""
        return self.signed_distance(points_lps)

    def contains(self, points_lps: np.ndarray) -> np.ndarray:
        return self.signed_distance(points_lps) <= 0

    def volume_mm3(self) -> float:
        raise NotImplementedError

    def bounds_lps(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned box ``(lo, hi)`` (3,) each, LPS mm, that holds the whole shape."""
        raise NotImplementedError


@dataclass(frozen=True)
class Sphere(Shape):
    center_lps: tuple[float, float, float]
    radius_mm: float
    hu: float = 1000.0

    def __post_init__(self):
        object.__setattr__(self, "center_lps", _vec(self.center_lps))

    def signed_distance(self, points_lps):
        return np.linalg.norm(np.asarray(points_lps, float) - self.center_lps, axis=-1) - self.radius_mm

    def volume_mm3(self):
        return 4.0 / 3.0 * math.pi * self.radius_mm ** 3

    def bounds_lps(self):
        c = np.array(self.center_lps)
        return c - self.radius_mm, c + self.radius_mm


@dataclass(frozen=True)
class Cylinder(Shape):
    """A finite, capped circular cylinder with axis from ``p0_lps`` to ``p1_lps``."""

    p0_lps: tuple[float, float, float]
    p1_lps: tuple[float, float, float]
    radius_mm: float
    hu: float = 1000.0

    def __post_init__(self):
        object.__setattr__(self, "p0_lps", _vec(self.p0_lps))
        object.__setattr__(self, "p1_lps", _vec(self.p1_lps))
        if self.length_mm <= 0:
            raise ValueError("a cylinder needs two different end points")

    @property
    def length_mm(self) -> float:
        return float(np.linalg.norm(np.subtract(self.p1_lps, self.p0_lps)))

    def signed_distance(self, points_lps):
        p0, p1 = np.array(self.p0_lps), np.array(self.p1_lps)
        axis = (p1 - p0) / self.length_mm
        rel = np.asarray(points_lps, float) - (p0 + p1) / 2
        along = rel @ axis
        radial = np.linalg.norm(rel - along[..., None] * axis, axis=-1) - self.radius_mm
        axial = np.abs(along) - self.length_mm / 2
        outside = np.hypot(np.maximum(radial, 0), np.maximum(axial, 0))
        return outside + np.minimum(np.maximum(radial, axial), 0)

    def volume_mm3(self):
        return math.pi * self.radius_mm ** 2 * self.length_mm

    def bounds_lps(self):
        p0, p1 = np.array(self.p0_lps), np.array(self.p1_lps)
        axis = (p1 - p0) / self.length_mm
        half = self.radius_mm * np.sqrt(np.clip(1 - axis ** 2, 0, 1))  # disc extent per LPS axis
        return np.minimum(p0, p1) - half, np.maximum(p0, p1) + half


@dataclass(frozen=True)
class Ellipsoid(Shape):
    """An ellipsoid with semi-axes ``radii_mm`` along LPS x, y, z.

    ``signed_distance`` has the exact sign; its magnitude is the first-order estimate
    ``k (k - 1) / |grad k|`` with ``k = |p / r|``, exact on the surface and on spheres, within a few
    per cent of the true distance close to the surface. Use ``Sphere`` for exact distance checks.
    """

    center_lps: tuple[float, float, float]
    radii_mm: tuple[float, float, float]
    hu: float = 1000.0

    def __post_init__(self):
        object.__setattr__(self, "center_lps", _vec(self.center_lps))
        object.__setattr__(self, "radii_mm", _vec(self.radii_mm))
        if min(self.radii_mm) <= 0:
            raise ValueError("ellipsoid radii must be positive")

    def _scaled(self, points_lps):
        return (np.asarray(points_lps, float) - self.center_lps) / np.array(self.radii_mm)

    def signed_distance(self, points_lps):
        q = self._scaled(points_lps)
        k = np.linalg.norm(q, axis=-1)
        grad = np.linalg.norm(q / np.array(self.radii_mm), axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            d = k * (k - 1) / grad
        return np.where(k > 0, d, -min(self.radii_mm))

    def distance_bound(self, points_lps):
        # p -> p / r shrinks lengths by at most 1 / min(r), so this never overstates the distance
        return (np.linalg.norm(self._scaled(points_lps), axis=-1) - 1) * min(self.radii_mm)

    def contains(self, points_lps):
        q = self._scaled(points_lps)
        return np.einsum("...i,...i->...", q, q) <= 1

    def volume_mm3(self):
        a, b, c = self.radii_mm
        return 4.0 / 3.0 * math.pi * a * b * c

    def bounds_lps(self):
        c, r = np.array(self.center_lps), np.array(self.radii_mm)
        return c - r, c + r


@dataclass(frozen=True)
class Shell(Shape):
    """The solid between an ellipsoid and the same ellipsoid with every semi-axis ``thickness_mm``
    shorter (a skull-like hollow shell; the wall is exactly ``thickness_mm`` on the three axes)."""

    center_lps: tuple[float, float, float]
    radii_mm: tuple[float, float, float]
    thickness_mm: float
    hu: float = 1000.0

    def __post_init__(self):
        object.__setattr__(self, "center_lps", _vec(self.center_lps))
        object.__setattr__(self, "radii_mm", _vec(self.radii_mm))
        if not 0 < self.thickness_mm < min(self.radii_mm):
            raise ValueError("shell thickness must be positive and below the smallest radius")

    @property
    def outer(self) -> Ellipsoid:
        return Ellipsoid(self.center_lps, self.radii_mm, self.hu)

    @property
    def inner(self) -> Ellipsoid:
        return Ellipsoid(self.center_lps, tuple(r - self.thickness_mm for r in self.radii_mm), self.hu)

    def signed_distance(self, points_lps):
        return np.maximum(self.outer.signed_distance(points_lps), -self.inner.signed_distance(points_lps))

    def distance_bound(self, points_lps):
        return np.maximum(self.outer.distance_bound(points_lps), -self.inner.distance_bound(points_lps))

    def contains(self, points_lps):
        return self.outer.contains(points_lps) & ~self.inner.contains(points_lps)

    def volume_mm3(self):
        return self.outer.volume_mm3() - self.inner.volume_mm3()

    def bounds_lps(self):
        return self.outer.bounds_lps()


# --------------------------------------------------------------------------------------------
# Rendering


def _window(geometry: SeriesGeometry, k: int, shape: Shape, half_thickness: float):
    """Pixel rectangle ``(i0, i1, j0, j1)`` of slice ``k`` whose voxel boxes can touch ``shape``, or None."""
    lo, hi = shape.bounds_lps()
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    rel = corners - geometry.positions[k]
    across = rel @ geometry.normal
    if across.min() > half_thickness or across.max() < -half_thickness:
        return None
    d_r, d_c = geometry.pixel_spacing
    ci = rel @ np.array(geometry.row_dir) / d_c
    cj = rel @ np.array(geometry.col_dir) / d_r
    i0, i1 = max(int(math.floor(ci.min())) - 1, 0), min(int(math.ceil(ci.max())) + 2, geometry.columns)
    j0, j1 = max(int(math.floor(cj.min())) - 1, 0), min(int(math.ceil(cj.max())) + 2, geometry.rows)
    if i0 >= i1 or j0 >= j1:
        return None
    return i0, i1, j0, j1


_BLOCK = 8  # pixels per side of the blocks classified before single pixels


def _paint_shape(geometry, k, shape, window, image, mixed, half_diag, track_mixed):
    """Paint ``shape`` by voxel centre into ``image`` within ``window``; mark surface voxels in ``mixed``.

    Blocks of ``_BLOCK`` x ``_BLOCK`` pixels wholly inside or outside (by the distance bound at the
    block centre) are settled at once; only blocks near the surface are looked at pixel by pixel.
    """
    i0, i1, j0, j1 = window
    d_r, d_c = geometry.pixel_spacing
    b = _BLOCK
    bi = i0 + b * np.arange(-(-(i1 - i0) // b))
    bj = j0 + b * np.arange(-(-(j1 - j0) // b))
    block_bound = shape.distance_bound(
        geometry.pixel_lps(k, bi[None, :] + (b - 1) / 2, bj[:, None] + (b - 1) / 2))
    block_half = 0.5 * math.sqrt((b * d_r) ** 2 + (b * d_c) ** 2 + geometry.slice_thickness ** 2) * (1 + 1e-9)
    for sj, si in zip(*np.nonzero(block_bound <= -block_half)):
        image[bj[sj]:min(bj[sj] + b, j1), bi[si]:min(bi[si] + b, i1)] = shape.hu
    near_j, near_i = np.nonzero(np.abs(block_bound) < block_half)
    if len(near_j) == 0:
        return
    off = np.arange(b)
    jj = (bj[near_j][:, None, None] + off[None, :, None]).repeat(b, axis=2).ravel()
    ii = (bi[near_i][:, None, None] + off[None, None, :]).repeat(b, axis=1).ravel()
    keep = (jj < j1) & (ii < i1)
    jj, ii = jj[keep], ii[keep]
    bound = shape.distance_bound(geometry.pixel_lps(k, ii, jj))
    inside = bound <= 0
    image[jj[inside], ii[inside]] = shape.hu
    if track_mixed:
        near = np.abs(bound) < half_diag
        mixed[jj[near], ii[near]] = True


def render_slice(geometry: SeriesGeometry, k: int, shapes: Sequence[Shape], background_hu: float = -1000.0,
                 supersample: int = 3) -> np.ndarray:
    """HU image (rows, columns) float64 of slice ``k``, with partial volume.

    Each pixel is the average HU over its voxel box (dC x dR in-plane, ``slice_thickness`` along the
    normal), estimated at the midpoints of a sub-grid: ``supersample`` steps along the shortest voxel
    side and proportionally more along longer ones (1 x 1 x 2 mm with s=3: 3 x 3 x 6). Voxels that
    no surface crosses (found with each shape's distance bound) take their value from the centre.
    ``supersample=1`` samples voxel centres only. Shapes are painted in order; a later one covers an
    earlier one.
    """
    s = max(int(supersample), 1)
    d_r, d_c = geometry.pixel_spacing
    thickness = geometry.slice_thickness
    u, v, n = np.array(geometry.row_dir), np.array(geometry.col_dir), geometry.normal
    half_diag = 0.5 * math.sqrt(d_r ** 2 + d_c ** 2 + thickness ** 2) * (1 + 1e-9)
    image = np.full((geometry.rows, geometry.columns), float(background_hu))
    mixed = np.zeros(image.shape, dtype=bool)
    active = []
    for shape in shapes:
        window = _window(geometry, k, shape, thickness / 2)
        if window is not None:
            active.append(shape)
            _paint_shape(geometry, k, shape, window, image, mixed, half_diag, s > 1)
    if not mixed.any():
        return image
    jj, ii = np.nonzero(mixed)
    # midpoints of an even sub-grid, about min(voxel size) / s apart along each of the three axes
    finest = min(d_c, d_r, thickness)
    counts = [max(s, int(math.ceil(s * size / finest - 1e-9))) for size in (d_c, d_r, thickness)]
    oi, oj, ok = (a.ravel() for a in np.meshgrid(*[(np.arange(c) + 0.5) / c - 0.5 for c in counts], indexing="ij"))
    sub = (oi[:, None] * d_c * u + oj[:, None] * d_r * v + ok[:, None] * thickness * n)  # (samples, 3)
    chunk = max(1, 2_000_000 // sub.shape[0])
    for start in range(0, len(jj), chunk):
        cj, ci = jj[start:start + chunk], ii[start:start + chunk]
        centres = geometry.pixel_lps(k, ci, cj)
        values = np.full((len(ci), len(sub)), float(background_hu))
        for shape in active:  # only voxels this shape's surface crosses need its sub-samples
            bound = shape.distance_bound(centres)
            values[bound <= -half_diag] = shape.hu
            near = np.nonzero(np.abs(bound) < half_diag)[0]
            if len(near):
                inside = shape.contains(centres[near][:, None, :] + sub[None, :, :])
                values[near] = np.where(inside, shape.hu, values[near])
        image[cj, ci] = values.mean(axis=1)
    return image


def render_volume(geometry: SeriesGeometry, shapes: Sequence[Shape], background_hu: float = -1000.0,
                  supersample: int = 3) -> np.ndarray:
    """All slices stacked, ``[k, j, i]`` float32 HU (for small phantoms; large ones: ``write_series``)."""
    return np.stack([render_slice(geometry, k, shapes, background_hu, supersample).astype(np.float32)
                     for k in range(geometry.n_slices)])


# --------------------------------------------------------------------------------------------
# DICOM writing


def _ds_number(value: float) -> str:
    """A DS value (at most 16 characters) for ``value``."""
    text = f"{value:.10g}"
    if len(text) > 16:
        text = f"{value:.8g}"
    return "0" if text == "-0" else text


def _gaps_even(geometry: SeriesGeometry) -> Optional[float]:
    """The spacing along the normal when all slices are evenly spaced along it (else None)."""
    if geometry.n_slices < 2:
        return None
    d = np.diff(geometry.slice_offsets_mm)
    return float(d.mean()) if np.ptp(d) < 1e-6 else None


def _slice_dataset(geometry: SeriesGeometry, k: int, stored: np.ndarray, uids: dict, spacing: Optional[float]):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    sop_uid = generate_uid()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CT_IMAGE_STORAGE
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian

    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = CT_IMAGE_STORAGE
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = uids["study"]
    ds.SeriesInstanceUID = uids["series"]
    ds.FrameOfReferenceUID = uids["frame"]
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.Modality = "CT"
    ds.Manufacturer = "MedPrint"
    ds.ManufacturerModelName = "Procedural phantom"
    ds.PatientName = PATIENT_NAME
    ds.PatientID = PATIENT_ID
    ds.PatientBirthDate = ""
    ds.PatientSex = "O"
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = "20000101"
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "000000"
    ds.StudyID = "1"
    ds.AccessionNumber = ""
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = "MedPrint phantom"
    ds.SeriesDescription = "MedPrint phantom"
    ds.SeriesNumber = 1
    ds.AcquisitionNumber = 1
    ds.InstanceNumber = k + 1
    ds.KVP = ""
    ds.GantryDetectorTilt = _ds_number(geometry.gantry_tilt_deg)
    ds.PatientPosition = "HFS"
    ds.PositionReferenceIndicator = ""
    ds.ImagePositionPatient = [_ds_number(x) for x in geometry.positions[k]]
    ds.ImageOrientationPatient = [_ds_number(x) for x in (*geometry.row_dir, *geometry.col_dir)]
    ds.SliceLocation = _ds_number(float(geometry.slice_offsets_mm[k]))
    ds.PixelSpacing = [_ds_number(x) for x in geometry.pixel_spacing]
    ds.SliceThickness = _ds_number(geometry.slice_thickness)
    if spacing is not None:
        ds.SpacingBetweenSlices = _ds_number(spacing)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = geometry.rows, geometry.columns
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.RescaleIntercept = _ds_number(RESCALE_INTERCEPT)
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    ds.WindowCenter = "300"
    ds.WindowWidth = "1500"
    ds.PixelData = stored.astype("<i2").tobytes()
    return ds


def write_series(folder: str | Path, geometry: SeriesGeometry, shapes: Sequence[Shape],
                 background_hu: float = -1000.0, noise_hu: float = 0.0, seed: int = 0,
                 progress: Optional[Progress] = None, supersample: int = 3, overwrite: bool = False) -> list[Path]:
    """Render the phantom slice by slice and write it as a CT series into ``folder``.

    One file per slice, ``slice_0001.dcm`` ... (file names carry no patient data); CT Image Storage,
    Explicit VR Little Endian, signed int16 with RescaleSlope 1 / RescaleIntercept -1024 (HU clipped to
    -1024..31743), one new Study/Series/FrameOfReference UID per call. ``noise_hu`` adds Gaussian
    noise (standard deviation, HU), reproducible from ``seed`` slice by slice. The files are written
    into a hidden sibling folder and moved into ``folder`` only when all are complete. An existing
    ``folder`` holding ``.dcm`` files is refused unless ``overwrite`` (which removes them first).
    Returns the file paths in slice order.
    """
    from pydicom.uid import generate_uid

    report = progress or no_progress
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"'{folder}' is a file, not a folder.", hint="choose a folder for the phantom series")
    existing = sorted(folder.glob("*.dcm")) if folder.is_dir() else []
    if existing and not overwrite:
        raise InputError(f"The folder '{folder}' already holds DICOM files.",
                         hint="choose an empty folder, or allow overwriting")
    folder.parent.mkdir(parents=True, exist_ok=True)
    uids = {"study": generate_uid(), "series": generate_uid(), "frame": generate_uid()}
    spacing = _gaps_even(geometry)
    n = geometry.n_slices
    names = [f"slice_{k + 1:04d}.dcm" for k in range(n)]
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.partial-", dir=folder.parent))
    try:
        for k in range(n):
            hu = render_slice(geometry, k, shapes, background_hu, supersample)
            if noise_hu > 0:
                rng = np.random.default_rng([int(seed), k])
                hu += float(noise_hu) * rng.standard_normal(hu.shape, dtype=np.float32)
            # HU below -1024 (the scanner's floor) and above 31743 are clipped
            stored = np.clip(np.rint(hu - RESCALE_INTERCEPT), 0, 32767).astype(np.int16)
            _slice_dataset(geometry, k, stored, uids, spacing).save_as(staging / names[k], enforce_file_format=True)
            report((k + 1) / n * 0.99, f"Writing phantom slice {k + 1} of {n}")
        folder.mkdir(parents=True, exist_ok=True)
        for old in existing:
            old.unlink()
        paths = []
        for name in names:
            os.replace(staging / name, folder / name)
            paths.append(folder / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    report(1.0, f"Wrote {n} phantom slices")
    return paths


# --------------------------------------------------------------------------------------------
# The demo's default input

BONE_HU = 1200.0
SOFT_TISSUE_HU = 40.0


def demo_scene() -> tuple[SeriesGeometry, list[Shape]]:
    """Geometry (160 x 160 x 80 voxels, 1 x 1 x 2 mm, centred on LPS origin) and shapes of the demo.

    A head: scalp (soft tissue) around a skull-like ellipsoid bone shell 5 mm thick, soft tissue
    inside, and a foramen (a 12 mm hole through the base of the skull). Below it a limb along LPS x:
    soft tissue around a closed bone tube (cortex 4 mm) with marrow inside.
    """
    geometry = axial_geometry((80, 160, 160), (2.0, 1.0, 1.0), center_lps=(0.0, 0.0, 0.0))
    head_c, head_r = (0.0, 0.0, 30.0), (56.0, 66.0, 42.0)
    limb_y, limb_z = 0.0, -50.0
    shapes: list[Shape] = [
        Ellipsoid(head_c, tuple(r + 4.0 for r in head_r), SOFT_TISSUE_HU),
        Shell(head_c, head_r, 5.0, BONE_HU),
        Cylinder((0.0, 10.0, -20.0), (0.0, 10.0, 2.0), 12.0, SOFT_TISSUE_HU),
        Cylinder((-70.0, limb_y, limb_z), (70.0, limb_y, limb_z), 22.0, 50.0),
        Cylinder((-60.0, limb_y, limb_z), (60.0, limb_y, limb_z), 10.0, BONE_HU),
        Cylinder((-56.0, limb_y, limb_z), (56.0, limb_y, limb_z), 6.0, 20.0),
    ]
    return geometry, shapes


def demo_phantom(folder: str | Path, progress: Optional[Progress] = None, overwrite: bool = False) -> list[Path]:
    """Write the demo phantom (``demo_scene``) as a CT series into ``folder``; returns the file paths."""
    geometry, shapes = demo_scene()
    return write_series(folder, geometry, shapes, noise_hu=5.0, seed=0, progress=progress, overwrite=overwrite)
