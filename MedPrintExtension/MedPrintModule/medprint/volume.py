"""Volumes: intensities on a regular grid with their IJK -> LPS geometry, read from DICOM, NRRD or NIfTI.

Arrays are indexed ``[k, j, i]`` (slice, row, column). ``ijk_to_lps`` maps the homogeneous voxel
index ``(i, j, k, 1)`` to a patient position in LPS millimetres; its columns may be oblique but are
orthogonal (as in Slicer's volume nodes): an acquisition with gantry tilt or uneven slice spacing
is resampled onto such a grid when it is read (see ``dicom``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional

import numpy as np

from .coords import FLIP_LPS_RAS, apply_affine
from .errors import InputError
from .progress import Progress


@dataclass(frozen=True)
class SourceInfo:
    """Non-identifying facts about where a volume came from (no names, IDs or dates)."""

    modality: str = ""
    series_instance_uid: str = ""
    study_instance_uid: str = ""
    frame_of_reference_uid: str = ""
    slice_thickness_mm: Optional[float] = None
    file_count: int = 0
    sop_class_uid: str = ""                    # of the slices (models derived from them cite them)
    sop_instance_uids: tuple[str, ...] = ()    # the slices read, in slice order


@dataclass(frozen=True, eq=False)
class Volume:
    """A scalar volume: ``array[k, j, i]`` (HU for CT) and the 4x4 ``ijk_to_lps`` affine (mm)."""

    array: np.ndarray
    ijk_to_lps: np.ndarray
    source: SourceInfo = field(default_factory=SourceInfo)
    warnings: tuple[str, ...] = ()

    def __post_init__(self):
        if self.array.ndim != 3:
            raise InputError(f"A volume must be 3-D; this one has shape {self.array.shape}.")
        m = np.asarray(self.ijk_to_lps, dtype=float)
        if m.shape != (4, 4) or abs(np.linalg.det(m[:3, :3])) < 1e-9:
            raise InputError("The volume geometry (IJK to LPS matrix) is missing or degenerate.")
        object.__setattr__(self, "ijk_to_lps", m)

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(k, j, i)`` voxel counts."""
        return tuple(self.array.shape)

    @property
    def spacing(self) -> np.ndarray:
        """Voxel size along i, j, k in mm."""
        return np.linalg.norm(self.ijk_to_lps[:3, :3], axis=0)

    @property
    def spacing_kji(self) -> np.ndarray:
        """Voxel size along the array axes ``[k, j, i]`` in mm (for scipy.ndimage sampling)."""
        return self.spacing[::-1].copy()

    @property
    def voxel_volume_mm3(self) -> float:
        return float(abs(np.linalg.det(self.ijk_to_lps[:3, :3])))

    @property
    def ijk_to_ras(self) -> np.ndarray:
        return FLIP_LPS_RAS @ self.ijk_to_lps

    def index_to_lps(self, ijk: np.ndarray) -> np.ndarray:
        """Voxel indices (n, 3) as ``(i, j, k)`` -> LPS points (n, 3) in mm."""
        return apply_affine(self.ijk_to_lps, ijk)

    def lps_to_index(self, points_lps: np.ndarray) -> np.ndarray:
        """LPS points (n, 3) in mm -> fractional voxel indices (n, 3) as ``(i, j, k)``."""
        return apply_affine(np.linalg.inv(self.ijk_to_lps), points_lps)

    def with_array(self, array: np.ndarray) -> "Volume":
        """The same geometry and source with other voxel values (same shape)."""
        if array.shape != self.array.shape:
            raise ValueError(f"shape {array.shape} differs from the volume's {self.array.shape}")
        return replace(self, array=array)


def load_volume(path: str | Path, series_uid: str = "", allow_gaps: bool = False,
                progress: Optional[Progress] = None) -> Volume:
    """Read a DICOM folder (or one DICOM file's folder), an NRRD or a NIfTI file into a ``Volume``.

    ``series_uid`` picks a series when a DICOM folder holds several (default: the largest CT);
    ``allow_gaps`` interpolates across missing slices instead of refusing the series.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"'{path}' does not exist.", hint="check the path")
    if path.is_dir():
        from .dicom import read_dicom_series

        return read_dicom_series(path, series_uid=series_uid, allow_gaps=allow_gaps, progress=progress)
    name = path.name.lower()
    if name.endswith((".nrrd", ".nhdr")):
        return _read_nrrd(path)
    if name.endswith((".nii", ".nii.gz")):
        return _read_nifti(path)
    if name.endswith(".dcm"):
        from .dicom import read_dicom_series

        return read_dicom_series(path.parent, series_uid=series_uid, allow_gaps=allow_gaps, progress=progress)
    raise InputError(
        f"'{path.name}' is not a volume MedPrint can read.",
        hint="give a DICOM folder, a .nrrd/.nhdr or a .nii/.nii.gz file",
    )


_NRRD_SPACES = {
    "left-posterior-superior": np.eye(4),
    "lps": np.eye(4),
    "right-anterior-superior": FLIP_LPS_RAS,
    "ras": FLIP_LPS_RAS,
}


def _read_nrrd(path: Path) -> Volume:
    """NRRD as Slicer writes it: ``space`` LPS or RAS, ``space directions``, ``space origin``."""
    import nrrd

    try:
        data, header = nrrd.read(str(path), index_order="C")
    except Exception as exc:  # pynrrd raises several types for damaged files
        raise InputError(f"'{path.name}' is not a readable NRRD file.", detail=str(exc)) from exc
    if data.ndim != 3:
        raise InputError(f"'{path.name}' holds a {data.ndim}-D image; MedPrint needs a 3-D scalar volume.")
    space = str(header.get("space", "left-posterior-superior")).lower()
    if space not in _NRRD_SPACES:
        raise InputError(f"'{path.name}' uses the space '{space}', which MedPrint does not know.",
                         hint="save it from Slicer as LPS or RAS")
    directions = header.get("space directions")
    if directions is None:
        directions = np.diag(header.get("spacings", [1.0, 1.0, 1.0]))
    matrix = np.eye(4)
    matrix[:3, :3] = np.asarray(directions, dtype=float).T  # row n of 'space directions' = axis n
    matrix[:3, 3] = np.asarray(header.get("space origin", [0.0, 0.0, 0.0]), dtype=float)
    return Volume(array=data, ijk_to_lps=_NRRD_SPACES[space] @ matrix)


def _read_nifti(path: Path) -> Volume:
    """NIfTI-1/2 via nibabel; its world space is RAS, flipped here to LPS."""
    import nibabel

    try:
        image = nibabel.load(str(path))
        data = np.asanyarray(image.dataobj)
    except Exception as exc:
        raise InputError(f"'{path.name}' is not a readable NIfTI file.", detail=str(exc)) from exc
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise InputError(f"'{path.name}' holds a {data.ndim}-D image; MedPrint needs a 3-D scalar volume.")
    return Volume(array=np.ascontiguousarray(data.transpose(2, 1, 0)),
                  ijk_to_lps=FLIP_LPS_RAS @ image.affine)
