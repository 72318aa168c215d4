"""Every real CT in ../shared/data/ct gives a watertight bone model with plausible, measured figures."""

import functools

import numpy as np
import pydicom
import pytest
import trimesh

from medprint.pipeline import ModelSettings, make_model
from medprint.volume import load_volume

# (folder, expected bone volume range in cm³, minimum triangles); ranges are anatomy, not our output:
# a lumbar slab with ribs and iliac wings holds several hundred cm³ of bone (226 HU and up), and
# the skull vault a few hundred.
SERIES = [
    ("abdomen-pancreas-ctcb001", (350.0, 800.0), 100_000),
    ("head-ge-tilt", (300.0, 900.0), 100_000),
]


@functools.lru_cache(maxsize=None)
def _model(folder):
    volume = load_volume(folder)
    return volume, make_model(volume, ModelSettings(preset="bone"))


@pytest.fixture(params=[s[0] for s in SERIES])
def modelled(request, ct_dir):
    return (request.param, *_model(ct_dir / request.param))


def test_bone_model_is_watertight_with_plausible_volume(modelled):
    name, volume, result = modelled
    _, (low, high), min_triangles = next(s for s in SERIES if s[0] == name)
    mesh = result.mesh
    assert mesh.is_watertight()
    independent = trimesh.Trimesh(mesh.vertices, mesh.faces, process=True)
    assert independent.is_watertight and independent.is_winding_consistent and independent.volume > 0
    assert low <= mesh.volume_mm3() / 1000 <= high
    assert mesh.triangle_count >= min_triangles
    # the surface encloses the mask: their volumes agree within 3 %
    assert abs(result.stats["volume_cm3"] / result.stats["mask_volume_cm3"] - 1) < 0.03
    # and it lies inside the scanned field of view (voxel boxes, and smoothing moves corners < 1 voxel)
    margin = volume.spacing.max()
    corners = volume.index_to_lps(np.array([[i, j, k] for i in (0, volume.shape[2] - 1)
                                            for j in (0, volume.shape[1] - 1) for k in (0, volume.shape[0] - 1)]))
    assert np.all(mesh.vertices.min(axis=0) >= corners.min(axis=0) - margin)
    assert np.all(mesh.vertices.max(axis=0) <= corners.max(axis=0) + margin)


def test_tilted_head_model_matches_each_acquired_slice(ct_dir):
    """Cut the skull model with the plane of each acquired slice: the cut outline must lie on the
    bone of that slice's own pixels (a model stacked without the tilt is off by up to ~20 mm)."""
    from scipy.spatial import cKDTree

    _, result = _model(ct_dir / "head-ge-tilt")
    tm = trimesh.Trimesh(result.mesh.vertices, result.mesh.faces, process=False)
    checked = 0
    for f in sorted((ct_dir / "head-ge-tilt").glob("*.dcm"))[2:-2:4]:
        ds = pydicom.dcmread(f)
        row = np.array(ds.ImageOrientationPatient[:3], float)
        col = np.array(ds.ImageOrientationPatient[3:], float)
        origin = np.array(ds.ImagePositionPatient, float)
        dr, dc = (float(v) for v in ds.PixelSpacing)
        hu = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        jj, ii = np.nonzero(hu >= 226)
        if len(jj) < 2000:
            continue
        bone = origin + np.outer(ii * dc, row) + np.outer(jj * dr, col)
        section = tm.section(plane_origin=origin, plane_normal=np.cross(row, col))
        assert section is not None
        distance, _ = cKDTree(bone).query(np.asarray(section.vertices))
        assert np.median(distance) < 1.0 and np.percentile(distance, 90) < 2.5
        checked += 1
    assert checked >= 4
