"""QA of a bone model of the real CT agrees with trimesh's own measurements of the same mesh."""

import numpy as np
import pytest
import trimesh

from medprint.pipeline import ModelSettings, make_model
from medprint.qa import check_mesh
from medprint.volume import load_volume


@pytest.fixture(scope="module")
def bone(ct_dir):
    return make_model(load_volume(ct_dir / "abdomen-pancreas-ctcb001"), ModelSettings()).mesh


def test_real_bone_model_figures_match_trimesh(bone):
    report = check_mesh(bone)
    tm = trimesh.Trimesh(bone.vertices, bone.faces, process=False)
    assert report.watertight and tm.is_watertight  # the model step's promise, seen by both
    assert report.volume_mm3 == pytest.approx(tm.volume, rel=1e-6)
    assert report.area_mm2 == pytest.approx(tm.area, rel=1e-6)
    assert report.shells == len(tm.split(only_watertight=False))
    assert report.size_mm == pytest.approx(tm.extents, abs=1e-3)
    # the slab is 444 mm wide (table included): it fits no printer profile MedPrint knows
    assert not report.fits_build_volume and report.verdict == "not printable"
    # every located problem lies on the model
    lo, hi = np.array(report.bbox_min_mm), np.array(report.bbox_max_mm)
    for region in report.self_intersections + report.thin_regions + report.tiny_shells:
        center = np.array(region["center_mm"])
        assert np.all(center >= lo - 1e-3) and np.all(center <= hi + 1e-3)
    thickness = report.thickness_mm
    assert len(thickness) == report.vertices and 0 < thickness.min() < report.wall_limit_mm <= thickness.max() <= 10.0
