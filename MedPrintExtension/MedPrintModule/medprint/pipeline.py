"""Volume -> print-ready model: segment with a preset, then make a closed smoothed surface.

One function, ``make_model``, used alike by the CLI, the guided workflow and the Slicer module.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Optional

import numpy as np

from .mesh import Mesh
from .progress import Progress, sub_progress
from .segment import SegmentSettings, segment
from .surface import mask_to_mesh
from .volume import Volume

#: Share of ``make_model``'s progress spent segmenting; the rest is the surface.
SEGMENT_SHARE = 0.4


@dataclass(frozen=True)
class ModelSettings:
    """Everything that decides the model. HU for ranges, mm / mm³ for sizes."""

    preset: str = "bone"
    low_hu: Optional[float] = None
    high_hu: Optional[float] = None
    smoothing: float = 0.5               # Slicer's smoothing factor, 0..1
    min_island_mm3: float = 100.0
    keep_largest: bool = False
    fill_holes: bool = False
    closing_mm: float = 0.0
    target_triangles: Optional[int] = None
    method: str = "auto"                 # surface method: auto | surface-nets | flying-edges

    def segment_settings(self) -> SegmentSettings:
        return SegmentSettings(preset=self.preset, low_hu=self.low_hu, high_hu=self.high_hu,
                               min_island_mm3=self.min_island_mm3, keep_largest=self.keep_largest,
                               fill_holes=self.fill_holes, closing_mm=self.closing_mm)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, eq=False)
class ModelResult:
    """The model (LPS mm), the mask it came from (``[k, j, i]`` on the volume grid) and its figures."""

    mesh: Mesh
    mask: np.ndarray
    stats: dict = field(default_factory=dict)


def make_model(volume: Volume, settings: ModelSettings = ModelSettings(),
               progress: Optional[Progress] = None) -> ModelResult:
    """Segment ``volume`` and build its closed surface; ``stats`` has voxels, triangles, volume, times."""
    times = {}
    start = time.perf_counter()
    mask = segment(volume, settings.segment_settings(), sub_progress(progress, 0.0, SEGMENT_SHARE))
    times["segment"] = time.perf_counter() - start
    start = time.perf_counter()
    mesh = mask_to_mesh(mask, volume.ijk_to_lps, settings.smoothing, settings.target_triangles,
                        settings.method, sub_progress(progress, SEGMENT_SHARE, 1.0))
    times["surface"] = time.perf_counter() - start
    with ThreadPoolExecutor(max_workers=1) as pool:  # numpy releases the GIL: both checks at once
        enclosed = pool.submit(mesh.volume_mm3)
        watertight = mesh.is_watertight()
        voxels = int(np.count_nonzero(mask))
        stats = {
            "voxels": voxels,
            "mask_volume_cm3": voxels * volume.voxel_volume_mm3 / 1000.0,
            "triangles": mesh.triangle_count,
            "volume_cm3": enclosed.result() / 1000.0,
            "watertight": watertight,
            "seconds": times,
        }
    return ModelResult(mesh=mesh, mask=mask, stats=stats)
