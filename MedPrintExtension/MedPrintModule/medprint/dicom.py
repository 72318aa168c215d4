"""DICOM folder -> ``Volume``: series selection, geometric sorting, checks and regularisation.

Slices are ordered by their position along the slice normal (from ImagePositionPatient and
ImageOrientationPatient), never by file name or InstanceNumber. Rescale slope/intercept are applied
per slice. A series whose slices are not on a regular orthogonal grid (gantry tilt, uneven spacing)
is resampled onto one, with linear interpolation, and the volume says so in ``warnings`` (returned,
not logged: they name series UIDs). Messages name files by their base name only (folder paths may
carry patient names).
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from .errors import InputError, SeriesError
from .progress import Progress, no_progress, sub_progress
from .volume import SourceInfo, Volume

#: Positions closer than this (mm) along the normal are the same slice position.
POSITION_TOLERANCE_MM = 0.01
#: Relative tolerance on slice gaps and in-plane shifts before the grid counts as irregular.
SPACING_TOLERANCE = 0.01
#: A gap this many times the usual spacing, in an otherwise regular series, means missing slices.
MISSING_SLICE_FACTOR = 1.5

_IMAGE_TAGS = ("Rows", "Columns", "ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing")
#: How a bare data set (no preamble) starts: a group 0x0008 or 0x0002 element, little endian.
_BARE_STARTS = (b"\x08\x00", b"\x02\x00")


@dataclass(frozen=True)
class _Slice:
    """One image file's header facts (LPS mm)."""

    path: Path
    series_uid: str
    modality: str
    rows: int
    columns: int
    position: np.ndarray
    orientation: np.ndarray
    pixel_spacing: tuple[float, float]
    frames: int
    slope: float
    intercept: float
    raw_pixels: Optional[tuple[int, str]]  # (file offset, numpy dtype) of plain pixel data, if so stored
    sop_class_uid: str = ""
    sop_instance_uid: str = ""


def read_dicom_series(folder: str | Path, series_uid: str = "", allow_gaps: bool = False,
                      progress: Optional[Progress] = None) -> Volume:
    """Read one image series from ``folder`` (searched recursively) into a ``Volume`` of HU (CT) values.

    ``series_uid`` selects a series; by default the CT series with the most slices is used and the
    others are named in the volume's warnings. ``allow_gaps`` interpolates across missing slices
    instead of refusing the series.
    """
    progress = progress or no_progress
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"'{folder.name}' is not a folder.", hint="give the folder that holds the DICOM files")
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    if not files:
        raise InputError(f"The folder '{folder.name}' is empty.", hint="give the folder that holds the DICOM files")

    slices, skipped, problems = _scan(files, progress)
    warnings: list[str] = []
    if not slices:
        reason = f" ({problems[0]})" if problems else ""
        raise InputError(
            f"No DICOM image slices were found in '{folder.name}' ({len(files)} files looked at){reason}.",
            hint="choose the folder of a CT or MR series exported from PACS")
    if skipped:
        warnings.append(f"{skipped} file(s) that are not DICOM images were skipped.")
    if problems:
        warnings.append(f"{len(problems)} damaged file(s) were skipped: " + "; ".join(problems[:3]))

    chosen, series_note = _choose_series(slices, series_uid)
    if len(chosen) < 2:
        raise SeriesError("The series has a single slice; a 3-D model needs a stack of slices.",
                          hint="choose the folder of a whole CT or MR series")
    if series_note:
        warnings.append(series_note)
    first = chosen[0]
    ds_first = _read_header(first.path)
    _check_consistent(chosen)

    order, positions_along_normal = _sort_along_normal(chosen)
    chosen = [chosen[i] for i in order]
    gaps = np.diff(positions_along_normal)
    grid_note = _check_gaps(gaps, positions_along_normal, allow_gaps)

    progress(0.3, "reading pixel data")
    stack = _read_pixels(chosen, sub_progress(progress, 0.3, 0.8))
    row_dir, col_dir = first.orientation[:3], first.orientation[3:]
    spacing_row, spacing_col = first.pixel_spacing
    positions = np.array([s.position for s in chosen])

    regular, tilt_deg = _is_regular(positions, row_dir, col_dir, gaps)
    if regular:
        ijk_to_lps = _affine(row_dir, col_dir, spacing_col, spacing_row, float(np.mean(gaps)), positions[0])
        array = stack
    else:
        progress(0.8, "regularising slice geometry")
        array, ijk_to_lps, new_spacing = _regularise(stack, positions, row_dir, col_dir, spacing_col, spacing_row)
        reasons = []
        if tilt_deg > 0.01:
            reasons.append(f"gantry tilt of {tilt_deg:.1f}°")
        if grid_note:
            reasons.append(grid_note)
        warnings.append(f"Slices are not on a regular grid ({', '.join(reasons) or 'shifted slice origins'}): "
                        f"resampled to {new_spacing:.3g} mm slices along the slice normal (linear interpolation).")
    progress(1.0, "volume ready")
    return Volume(array=array, ijk_to_lps=ijk_to_lps, source=_source_info(chosen, ds_first),
                  warnings=tuple(warnings))


def read_source_info(files: list[str | Path]) -> SourceInfo:
    """The non-identifying facts (:class:`SourceInfo`) of the image series held by ``files``, from
    their headers only: for a volume read by another program (a Slicer volume node loaded from
    these files). The slices are cited in order along the slice normal; with several series in
    ``files``, the one :func:`read_dicom_series` would choose."""
    slices, _skipped, problems = _scan([Path(f) for f in files], no_progress)
    if not slices:
        reason = f" ({problems[0]})" if problems else ""
        raise InputError(f"None of the {len(files)} files is a DICOM image{reason}.",
                         hint="give the files the volume was loaded from")
    chosen, _note = _choose_series(slices, "")
    order, _along = _sort_along_normal(chosen)
    chosen = [chosen[i] for i in order]
    return _source_info(chosen, _read_header(chosen[0].path))


def _source_info(chosen: list[_Slice], ds_first) -> SourceInfo:
    """What a volume records of the series ``chosen`` (slice order) whose first header is ``ds_first``."""
    first = chosen[0]
    return SourceInfo(
        modality=first.modality,
        series_instance_uid=first.series_uid,
        study_instance_uid=str(ds_first.get("StudyInstanceUID", "")),
        frame_of_reference_uid=str(ds_first.get("FrameOfReferenceUID", "")),
        slice_thickness_mm=_thickness(ds_first),
        file_count=len(chosen),
        sop_class_uid=first.sop_class_uid,
        sop_instance_uids=tuple(s.sop_instance_uid for s in chosen if s.sop_instance_uid),
    )


def _read(path: Path, stop_before_pixels: bool = False):
    """A DICOM file as a pydicom dataset, also when it lacks the preamble and file meta header (older
    exports): then it is read by force, and accepted only if it is an image with geometry, with the
    transfer syntax taken from how it was encoded. Raises ``InvalidDicomError`` for anything else."""
    import pydicom
    from pydicom.errors import InvalidDicomError
    from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

    try:
        return pydicom.dcmread(str(path), stop_before_pixels=stop_before_pixels)
    except InvalidDicomError:
        with open(path, "rb") as f:
            if f.read(2) not in _BARE_STARTS:
                raise
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom's guesses about the encoding
            ds = pydicom.dcmread(str(path), stop_before_pixels=stop_before_pixels, force=True)
    if not all(tag in ds for tag in _IMAGE_TAGS) or ds.original_encoding[0] is None:
        raise InvalidDicomError(f"'{path.name}' is not a DICOM image")
    implicit, little = ds.original_encoding
    ds.file_meta.TransferSyntaxUID = (ImplicitVRLittleEndian if implicit else
                                      ExplicitVRLittleEndian if little else ExplicitVRBigEndian)
    return ds


def _read_header(path: Path):
    return _read(path, stop_before_pixels=True)


def _thickness(ds) -> Optional[float]:
    value = ds.get("SliceThickness", None)
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _scan(files: list[Path], progress: Progress) -> tuple[list[_Slice], int, list[str]]:
    """Headers of every file: image slices, the count of non-image files, and damaged-file notes."""
    from pydicom.errors import InvalidDicomError

    slices: list[_Slice] = []
    skipped = 0
    problems: list[str] = []
    for n, path in enumerate(files):
        if n % 16 == 0:
            progress(0.3 * n / len(files), f"scanning {len(files)} files")
        try:
            ds = _read_header(path)
        except InvalidDicomError:
            skipped += 1
            continue
        except Exception as exc:  # truncated or damaged header
            problems.append(f"'{path.name}' cannot be read ({type(exc).__name__})")
            continue
        if not all(tag in ds for tag in _IMAGE_TAGS):
            skipped += 1  # DICOMDIR, structured report, scout without geometry, ...
            continue
        try:
            slices.append(_Slice(
                path=path,
                series_uid=str(ds.get("SeriesInstanceUID", "")),
                modality=str(ds.get("Modality", "")),
                rows=int(ds.Rows),
                columns=int(ds.Columns),
                position=np.array([float(v) for v in ds.ImagePositionPatient]),
                orientation=np.array([float(v) for v in ds.ImageOrientationPatient]),
                pixel_spacing=(float(ds.PixelSpacing[0]), float(ds.PixelSpacing[1])),
                frames=int(ds.get("NumberOfFrames", 1) or 1),
                slope=float(ds.get("RescaleSlope", 1) or 1),
                intercept=float(ds.get("RescaleIntercept", 0) or 0),
                raw_pixels=_raw_pixel_location(ds, path),
                sop_class_uid=str(ds.get("SOPClassUID", "")),
                sop_instance_uid=str(ds.get("SOPInstanceUID", "")),
            ))
        except (TypeError, ValueError, IndexError) as exc:
            problems.append(f"'{path.name}' has unreadable geometry tags ({exc})")
    return slices, skipped, problems


def _choose_series(slices: list[_Slice], series_uid: str) -> tuple[list[_Slice], str]:
    """The requested series, or the CT series with the most slices; a note when others were present."""
    groups: dict[str, list[_Slice]] = defaultdict(list)
    for s in slices:
        groups[s.series_uid].append(s)
    listing = ", ".join(f"{uid} ({len(g)} slices, {g[0].modality})" for uid, g in groups.items())
    if series_uid:
        if series_uid not in groups:
            raise InputError(f"The series {series_uid} is not in this folder.",
                             hint=f"series present: {listing}")
        return groups[series_uid], ""
    ranked = sorted(groups.items(), key=lambda kv: (kv[1][0].modality != "CT", -len(kv[1]), kv[0]))
    uid, chosen = ranked[0]
    note = ""
    if len(groups) > 1:
        note = (f"{len(groups)} series were found; using {uid} ({len(chosen)} slices). "
                f"Choose another by its SeriesInstanceUID: {listing}.")
    return chosen, note


def _check_consistent(series: list[_Slice]) -> None:
    """Refuse multi-frame files, mixed image sizes, orientations or pixel spacings within a series."""
    if any(s.frames > 1 for s in series):
        raise SeriesError("This series is stored as multi-frame (enhanced) images, which MedPrint cannot read yet.",
                          hint="export the series as classic single-frame CT images")
    sizes = defaultdict(int)
    for s in series:
        sizes[(s.rows, s.columns)] += 1
    if len(sizes) > 1:
        described = ", ".join(f"{n} slices of {r}x{c}" for (r, c), n in sizes.items())
        raise SeriesError(f"The series mixes image sizes ({described}).",
                          hint="choose a series whose slices all have the same size")
    ref = series[0]
    for s in series[1:]:
        if not np.allclose(s.orientation, ref.orientation, atol=1e-4):
            raise SeriesError(f"The series mixes slice orientations ('{ref.path.name}' and '{s.path.name}').",
                              hint="it may hold a localizer or several stacks; choose a single stack")
        if not np.allclose(s.pixel_spacing, ref.pixel_spacing, rtol=1e-4):
            raise SeriesError(f"The series mixes pixel spacings ('{ref.path.name}' and '{s.path.name}').")
    row_dir, col_dir = ref.orientation[:3], ref.orientation[3:]
    if abs(np.linalg.norm(row_dir) - 1) > 1e-3 or abs(np.linalg.norm(col_dir) - 1) > 1e-3 \
            or abs(row_dir @ col_dir) > 1e-3:
        raise SeriesError("The slice orientation (ImageOrientationPatient) is not made of two perpendicular unit "
                          "vectors.", detail=str(list(ref.orientation)))


def _sort_along_normal(series: list[_Slice]) -> tuple[np.ndarray, np.ndarray]:
    """Order of slices along the normal (row_dir x col_dir) and their sorted positions on it (mm)."""
    orientation = series[0].orientation
    normal = np.cross(orientation[:3], orientation[3:])
    along = np.array([s.position @ normal for s in series])
    order = np.argsort(along, kind="stable")
    along = along[order]
    same = np.flatnonzero(np.diff(along) < POSITION_TOLERANCE_MM)
    if len(same):
        a, b = series[order[same[0]]].path.name, series[order[same[0] + 1]].path.name
        raise SeriesError(f"Two slices lie at the same position ('{a}' and '{b}', {along[same[0]]:.2f} mm); "
                          f"{len(same)} such duplicate(s) in all.",
                          hint="the folder may hold two acquisitions or repeated files; keep one copy of each")
    return order, along


def _check_gaps(gaps: np.ndarray, along: np.ndarray, allow_gaps: bool) -> str:
    """Refuse a series with missing slices; describe uneven spacing (which is resampled)."""
    if len(gaps) == 0:
        return ""
    usual = float(np.median(gaps))
    tolerance = max(POSITION_TOLERANCE_MM, SPACING_TOLERANCE * usual)
    odd = np.abs(gaps - usual) > tolerance
    if not odd.any():
        return ""
    big = gaps > MISSING_SLICE_FACTOR * usual
    if np.array_equal(odd, big):
        first = int(np.flatnonzero(big)[0])
        missing = int(sum(round(g / usual) - 1 for g in gaps[big]))
        message = (f"The series is missing about {max(missing, 1)} slice(s): a gap of {gaps[first]:.2f} mm between "
                   f"{along[first]:.2f} and {along[first + 1]:.2f} mm along the slice normal, where the spacing is "
                   f"{usual:.3g} mm elsewhere.")
        if not allow_gaps:
            raise SeriesError(message, hint="re-export the complete series, or allow gaps (--allow-gaps) to "
                                           "interpolate across them")
        return message + " Interpolated across the gap."
    return f"uneven slice spacing ({gaps.min():.3g}–{gaps.max():.3g} mm)"


#: Transfer syntaxes whose pixel data are plain little-endian samples.
_PLAIN_SYNTAXES = ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1")
_PIXEL_DATA_TAG = b"\xe0\x7f\x10\x00"


def _raw_pixel_location(ds, path: Path) -> Optional[tuple[int, str]]:
    """Where plain 16-bit grey pixels sit in ``path`` when they are the file's last element.

    Only for uncompressed little-endian files with one frame, one sample, 16 bits allocated and
    either unsigned samples or 16 signed bits stored (the cases where the stored integers are the
    values, with no sign extension); the element header just before the samples is checked, so
    anything else (trailing elements, padding, other encodings) returns None and is read by pydicom.
    """
    meta = getattr(ds, "file_meta", None)
    syntax = str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""
    if syntax not in _PLAIN_SYNTAXES or int(ds.get("SamplesPerPixel", 1)) != 1 \
            or int(ds.get("NumberOfFrames", 1) or 1) != 1 or int(ds.get("BitsAllocated", 0)) != 16:
        return None
    signed = int(ds.get("PixelRepresentation", 0)) == 1
    if signed and int(ds.get("BitsStored", 16)) != 16:
        return None
    size = int(ds.Rows) * int(ds.Columns) * 2
    offset = path.stat().st_size - size
    header = 8 if syntax == "1.2.840.10008.1.2" else 12
    with open(path, "rb") as f:
        f.seek(max(offset - header, 0))
        head = f.read(header)
    if len(head) != header or head[:4] != _PIXEL_DATA_TAG or int.from_bytes(head[-4:], "little") != size:
        return None
    return offset, "<i2" if signed else "<u2"


def _read_pixels(series: list[_Slice], progress: Progress) -> np.ndarray:
    """Stack of rescaled slices [k, j, i]: int16 when every value is an integer that fits, else float32.

    Files are read by two threads, a batch at a time, while this one rescales what has arrived.
    """
    from concurrent.futures import ThreadPoolExecutor

    integral = all(s.slope == int(s.slope) and s.intercept == int(s.intercept) for s in series)
    stack = np.empty((len(series), series[0].rows, series[0].columns), dtype=np.int16 if integral else np.float32)
    batch = 32
    with ThreadPoolExecutor(max_workers=2) as pool:
        for first in range(0, len(series), batch):
            progress(first / len(series), "reading pixel data")
            chunk = series[first:first + batch]
            for k, (s, pixels) in enumerate(zip(chunk, pool.map(_slice_pixels, chunk)), start=first):
                if integral and _rescale_int16(pixels, s, stack[k]):
                    continue
                if integral:  # rare: a value outside int16; keep every value exactly
                    stack, integral = stack.astype(np.float32), False
                stack[k] = pixels.astype(np.float32) * np.float32(s.slope) + np.float32(s.intercept)
    return stack


def _rescale_int16(pixels: np.ndarray, s: _Slice, out: np.ndarray) -> bool:
    """Write ``pixels * slope + intercept`` into the int16 ``out`` if every value fits; else False."""
    low, high = int(pixels.min()), int(pixels.max())
    ends = (low * s.slope + s.intercept, high * s.slope + s.intercept)
    if min(ends) < -32768 or max(ends) > 32767:
        return False
    if s.slope == 1 and -32768 <= min(low, s.intercept) and max(high, s.intercept) <= 32767:  # all int16
        np.add(pixels.astype(np.int16, copy=False), np.int16(s.intercept), out=out)
    else:
        np.add(pixels * np.int32(s.slope), np.int32(s.intercept), out=out, casting="unsafe")
    return True


def _slice_pixels(s: _Slice) -> np.ndarray:
    """One slice's stored values (before rescale), straight from the file when plainly stored."""
    try:
        if s.raw_pixels is not None:
            offset, dtype = s.raw_pixels
            return np.fromfile(s.path, dtype=dtype, count=s.rows * s.columns, offset=offset).reshape(s.rows, s.columns)
        return _decode(_read(s.path), s.path)
    except InputError:
        raise
    except Exception as exc:
        raise SeriesError(f"The file '{s.path.name}' is damaged or truncated; its pixels cannot be read.",
                          hint="re-export the series", detail=f"{type(exc).__name__}: {exc}") from exc


def _decode(ds, path: Path) -> np.ndarray:
    """Pixel data of one slice; a clear error when it is compressed and no decoder can read it."""
    syntax = ds.file_meta.get("TransferSyntaxUID", None) if hasattr(ds, "file_meta") else None
    if "PixelData" not in ds:
        raise SeriesError(f"The file '{path.name}' has no pixel data.", hint="re-export the series")
    try:
        pixels = ds.pixel_array
    except Exception as exc:
        if syntax is not None and syntax.is_compressed:
            from pydicom.pixels import get_decoder

            try:
                available = get_decoder(syntax).is_available
            except (NotImplementedError, ValueError):
                available = False
            if not available:
                raise InputError(
                    f"The series is compressed as {syntax.name} ({syntax}), and no decoder for it is installed.",
                    hint="pip install pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg, or export uncompressed "
                         "from PACS", detail=str(exc)) from exc
        raise
    if pixels.ndim != 2:
        raise SeriesError(f"The file '{path.name}' is not a single grey-scale slice (shape {pixels.shape}).")
    return pixels


def _is_regular(positions: np.ndarray, row_dir: np.ndarray, col_dir: np.ndarray,
                gaps: np.ndarray) -> tuple[bool, float]:
    """Whether slices stack along the normal with equal gaps; and the largest tilt angle in degrees."""
    if len(positions) < 2:
        return True, 0.0
    steps = np.diff(positions, axis=0)
    in_plane = np.stack([steps @ row_dir, steps @ col_dir], axis=1)
    shift = np.linalg.norm(in_plane, axis=1)
    tilt = float(np.degrees(np.arctan2(shift, np.abs(gaps))).max())
    usual = float(np.median(gaps))
    tolerance = max(POSITION_TOLERANCE_MM, SPACING_TOLERANCE * usual)
    regular = bool(np.all(shift <= tolerance) and np.all(np.abs(gaps - usual) <= tolerance))
    return regular, tilt


def _affine(row_dir, col_dir, spacing_i: float, spacing_j: float, spacing_k: float, origin) -> np.ndarray:
    """IJK -> LPS: i along row_dir (column index), j along col_dir (row index), k along the normal."""
    normal = np.cross(row_dir, col_dir)
    m = np.eye(4)
    m[:3, 0] = np.asarray(row_dir) * spacing_i
    m[:3, 1] = np.asarray(col_dir) * spacing_j
    m[:3, 2] = normal * spacing_k
    m[:3, 3] = origin
    return m


def _regularise(stack: np.ndarray, positions: np.ndarray, row_dir: np.ndarray, col_dir: np.ndarray,
                spacing_i: float, spacing_j: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Resample slices with shifted origins and/or uneven gaps onto an orthogonal grid.

    The output keeps the in-plane axes and pixel size, lies along the slice normal with the smallest
    gap as spacing (but at most twice as many slices as acquired), and is widened in-plane to hold
    every shifted slice. Each output slice blends the two input slices around it (linear along the
    normal), each moved by its own sub-pixel shift (bilinear). Returns (array [k, j, i] of the input's
    type, ijk_to_lps, slice spacing mm).
    """
    normal = np.cross(row_dir, col_dir)
    rel = positions - positions[0]
    along = rel @ normal
    shift_i = rel @ row_dir / spacing_i  # where each slice's pixel (0, 0) falls, in output pixels
    shift_j = rel @ col_dir / spacing_j
    lo_i, lo_j = np.floor(shift_i.min()), np.floor(shift_j.min())
    n_j = stack.shape[1] + int(np.ceil(shift_j.max() - lo_j)) + 1
    n_i = stack.shape[2] + int(np.ceil(shift_i.max() - lo_i)) + 1
    gaps = np.diff(along)
    # the smallest gap keeps every slice's detail; never more than twice the slices acquired
    spacing_k = float(max(gaps.min(), (along[-1] - along[0]) / (2 * len(gaps))))
    n_k = int(np.floor((along[-1] - along[0]) / spacing_k + 1e-6)) + 1
    background = float(stack.min())

    def placed(k: int) -> np.ndarray:
        canvas = np.full((n_j, n_i), background, dtype=np.float32)
        oj, oi = shift_j[k] - lo_j, shift_i[k] - lo_i
        bj, bi = int(np.floor(oj)), int(np.floor(oi))
        canvas[bj:bj + stack.shape[1], bi:bi + stack.shape[2]] = stack[k]
        return _shift_linear(canvas, oj - bj, oi - bi)

    integral = np.issubdtype(stack.dtype, np.integer)
    out = np.empty((n_k, n_j, n_i), dtype=stack.dtype if integral else np.float32)
    cache: dict[int, np.ndarray] = {}
    targets = along[0] + spacing_k * np.arange(n_k)
    for t, s in enumerate(targets):
        k = int(np.clip(np.searchsorted(along, s, side="right") - 1, 0, len(along) - 2))
        w = float(np.clip((s - along[k]) / (along[k + 1] - along[k]), 0.0, 1.0))
        for key in list(cache):
            if key < k:
                del cache[key]
        for key in (k, k + 1):
            if key not in cache:
                cache[key] = placed(key)
        blended = cache[k] if w < 1e-6 else (1 - w) * cache[k] + w * cache[k + 1]
        out[t] = np.rint(blended) if integral else blended
    origin = positions[0] + lo_i * spacing_i * row_dir + lo_j * spacing_j * col_dir
    return out, _affine(row_dir, col_dir, spacing_i, spacing_j, spacing_k, origin), spacing_k


def _shift_linear(image: np.ndarray, shift_j: float, shift_i: float) -> np.ndarray:
    """``image`` moved by a sub-pixel shift (0 <= shift < 1 along each axis), linear interpolation;
    ``out[j, i] = image[j - shift_j, i - shift_i]``, the first row/column repeated at the edge."""
    if shift_j > 1e-3:
        before = np.empty_like(image)
        before[1:], before[0] = image[:-1], image[0]
        image = (1.0 - shift_j) * image + shift_j * before
    if shift_i > 1e-3:
        before = np.empty_like(image)
        before[:, 1:], before[:, 0] = image[:, :-1], image[:, 0]
        image = (1.0 - shift_i) * image + shift_i * before
    return image
