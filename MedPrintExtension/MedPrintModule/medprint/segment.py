"""Labelmap operations: threshold presets, islands, hole filling, closing.

Masks are boolean arrays ``[k, j, i]`` on a volume's grid; sizes are given in millimetres and
converted with the voxel spacing. Heavy work runs on the bounding box of the mask only.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Optional

import numpy as np
from scipy import ndimage

from .errors import EmptyResultError, InputError
from .progress import Progress, no_progress
from .volume import Volume


@dataclass(frozen=True)
class Preset:
    """A CT threshold range in Hounsfield units (inclusive)."""

    name: str
    low_hu: float
    high_hu: float
    description: str


#: Threshold presets. The ranges are the usual ones of medical 3D printing software for adult CT
#: (for example Materialise Mimics' "Bone (CT)" 226–3071 HU and "Compact bone (adult)" 662–1988 HU);
#: contrast vessels are arterial-phase CTA lumen (iodine), which also picks up bone: use islands or
#: a region of interest to separate them.
PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("bone", 226.0, 3071.0, "all bone, cancellous and cortical (226–3071 HU)"),
    Preset("cortical-bone", 662.0, 1988.0, "dense cortical bone only (662–1988 HU)"),
    Preset("soft-tissue", -700.0, 225.0, "soft tissue and fluid, without air, lung or bone (-700–225 HU)"),
    Preset("contrast-vessels", 150.0, 700.0, "contrast-filled vessels in CTA, arterial phase (150–700 HU)"),
)}


@dataclass(frozen=True)
class SegmentSettings:
    """How to turn a volume into a mask. Ranges in HU, sizes in mm / mm³."""

    preset: str = "bone"
    low_hu: Optional[float] = None      # overrides the preset's range when given
    high_hu: Optional[float] = None
    min_island_mm3: float = 100.0       # islands smaller than this are removed (0 keeps all)
    keep_largest: bool = False          # keep only the largest connected piece
    fill_holes: bool = False            # fill cavities enclosed in 3-D
    closing_mm: float = 0.0             # morphological closing radius (bridges gaps narrower than ~2x this)

    def hu_range(self) -> tuple[float, float]:
        if self.preset not in PRESETS and (self.low_hu is None or self.high_hu is None):
            raise InputError(f"There is no threshold preset called '{self.preset}'.",
                             hint=f"choose one of {', '.join(PRESETS)} or give a HU range")
        preset = PRESETS.get(self.preset)
        low = self.low_hu if self.low_hu is not None else preset.low_hu
        high = self.high_hu if self.high_hu is not None else preset.high_hu
        if not low < high:
            raise InputError(f"The threshold range {low:g}–{high:g} HU is empty.", hint="the lower bound must be "
                             "below the upper bound")
        return low, high


def segment(volume: Volume, settings: SegmentSettings = SegmentSettings(),
            progress: Optional[Progress] = None) -> np.ndarray:
    """Threshold ``volume`` and clean the mask up as ``settings`` says; returns a bool ``[k, j, i]`` mask."""
    progress = progress or no_progress
    low, high = settings.hu_range()
    modality = volume.source.modality
    if modality not in ("", "CT") and (settings.low_hu is None or settings.high_hu is None):
        raise InputError(f"This series is {modality}; the '{settings.preset}' preset is a Hounsfield range, "
                         "which only means something on CT.",
                         hint="give both the lower and the upper threshold in this series' own units")
    progress(0.0, f"threshold {low:g}–{high:g} HU")
    mask = threshold(volume.array, low, high)
    box = bounding_box(mask, margin=1 + int(np.ceil(settings.closing_mm / volume.spacing.min())))
    if box is None:
        raise EmptyResultError(
            f"No voxel lies between {low:g} and {high:g} HU; the volume's values run from "
            f"{float(volume.array.min()):g} to {float(volume.array.max()):g}.",
            hint="check that the volume is a CT in HU, or choose another preset or range")
    view = sub = mask[box]  # each step below returns a new array when it changes anything
    spacing = volume.spacing_kji
    if settings.closing_mm > 0:
        progress(0.2, "closing gaps")
        sub = close(sub, spacing, settings.closing_mm)
    if settings.fill_holes:
        progress(0.4, "filling holes")
        sub = ndimage.binary_fill_holes(sub)
    if settings.keep_largest:
        progress(0.6, "keeping the largest island")
        sub = keep_largest_island(sub)
    elif settings.min_island_mm3 > 0:
        progress(0.6, "removing small islands")
        sub = remove_small_islands(sub, volume.voxel_volume_mm3, settings.min_island_mm3)
    if not sub.any():
        raise EmptyResultError(
            f"Every piece inside {low:g}–{high:g} HU is smaller than {settings.min_island_mm3:g} mm³.",
            hint="lower the minimum island size or widen the range")
    if sub is not view:
        mask[box] = sub  # outside the box the mask is empty, and every step stays inside it
    progress(1.0, "segmented")
    return mask


def threshold(array: np.ndarray, low: float, high: float) -> np.ndarray:
    """Voxels with ``low <= value <= high`` as a bool array of the same shape: slab by slab (small
    temporaries that stay in cache) on two threads (numpy releases the GIL)."""
    mask = np.empty(array.shape, dtype=bool)
    step = max(1, (1 << 21) // max(1, array[0].size))

    def slab(start: int) -> None:
        values = array[start:start + step]
        np.logical_and(values >= low, values <= high, out=mask[start:start + step])

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(slab, range(0, array.shape[0], step)))
    return mask


def bounding_box(mask: np.ndarray, margin: int = 0) -> Optional[tuple[slice, ...]]:
    """Slices of the smallest box holding every True voxel of a 3-D mask, grown by ``margin`` voxels;
    None if empty. Two passes over the mask: its slices' occupancy and its projection along k."""
    plane = mask.any(axis=0)
    hits = (np.flatnonzero(mask.any(axis=(1, 2))), np.flatnonzero(plane.any(axis=1)),
            np.flatnonzero(plane.any(axis=0)))
    if len(hits[0]) == 0:
        return None
    return tuple(slice(max(h[0] - margin, 0), min(h[-1] + 1 + margin, n)) for h, n in zip(hits, mask.shape))


def label_islands(mask: np.ndarray) -> tuple[np.ndarray, list]:
    """Face-connected pieces: a label array (uint16 when it fits, else int32) and each label's box.

    ``boxes[n - 1]`` is the slice tuple around label ``n`` (``scipy.ndimage.find_objects``).
    """
    try:
        labels = np.empty(mask.shape, dtype=np.uint16)  # half the memory of int32, and faster
        ndimage.label(mask, output=labels)
    except RuntimeError:  # more than 65535 pieces
        labels, _ = ndimage.label(mask)
    return labels, ndimage.find_objects(labels)


def _size(labels: np.ndarray, boxes: list, label: int) -> int:
    """Voxels of ``label``, counted inside its own box only."""
    return int(np.count_nonzero(labels[boxes[label - 1]] == label))


def _box_voxels(box: tuple) -> int:
    return int(np.prod([s.stop - s.start for s in box]))


def _has_at_least(labels: np.ndarray, box: tuple, label: int, voxels: float) -> bool:
    """Whether ``label`` has at least ``voxels`` voxels, counted slab by slab of its box until it does
    (a large piece passes after its first slabs)."""
    count = 0
    region = labels[box]
    for start in range(0, region.shape[0], 8):
        count += int(np.count_nonzero(region[start:start + 8] == label))
        if count >= voxels:
            return True
    return False


def remove_small_islands(mask: np.ndarray, voxel_volume_mm3: float, min_mm3: float) -> np.ndarray:
    """Drop face-connected pieces smaller than ``min_mm3``.

    Each piece is sized inside its own bounding box, and a piece whose box is already smaller than
    the limit is dropped without counting, so the work follows the pieces, not the volume.
    """
    min_voxels = min_mm3 / voxel_volume_mm3
    labels, boxes = label_islands(mask)
    out = None
    for label, box in enumerate(boxes, start=1):
        if box is None or (_box_voxels(box) >= min_voxels and _has_at_least(labels, box, label, min_voxels)):
            continue
        if out is None:
            out = mask.copy()
        out[box][labels[box] == label] = False
    return mask if out is None else out


def keep_largest_island(mask: np.ndarray) -> np.ndarray:
    """Only the largest face-connected piece (pieces are counted largest box first, until no box
    left could hold more than the best count)."""
    labels, boxes = label_islands(mask)
    best, best_size = 0, 0
    for label in sorted((n for n, b in enumerate(boxes, start=1) if b is not None),
                        key=lambda n: -_box_voxels(boxes[n - 1])):
        if _box_voxels(boxes[label - 1]) <= best_size:
            break
        size = _size(labels, boxes, label)
        if size > best_size:
            best, best_size = label, size
    return labels == best if best else mask


def ball(spacing_kji: np.ndarray, radius_mm: float) -> np.ndarray:
    """Structuring element: the voxels within ``radius_mm`` of the centre on a grid of that spacing."""
    half = np.maximum(np.floor(radius_mm / np.asarray(spacing_kji)).astype(int), 0)
    axes = [np.arange(-h, h + 1) * s for h, s in zip(half, spacing_kji)]
    kk, jj, ii = np.meshgrid(*axes, indexing="ij")
    return kk ** 2 + jj ** 2 + ii ** 2 <= radius_mm ** 2 + 1e-9


def close(mask: np.ndarray, spacing_kji: np.ndarray, radius_mm: float) -> np.ndarray:
    """Morphological closing with a ball of ``radius_mm`` (the mask is padded so borders stay put)."""
    element = ball(spacing_kji, radius_mm)
    pad = [(h, h) for h in np.array(element.shape) // 2]
    padded = np.pad(mask, pad)
    closed = ndimage.binary_closing(padded, structure=element)
    return closed[tuple(slice(p, p + n) for (p, _), n in zip(pad, mask.shape))]
