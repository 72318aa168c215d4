"""Surfaces from phantoms of known geometry, written as DICOM and read back through the loader."""

import numpy as np
import pytest
import trimesh
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from medprint.errors import EmptyResultError, InputError
from medprint.phantom import Cylinder, Sphere, axial_geometry, oblique_geometry, tilted_geometry, write_series
from medprint.pipeline import ModelSettings, make_model
from medprint.surface import available_methods, mask_to_mesh
from medprint.volume import load_volume

BONE_HU = 1452.0  # with air at -1000, the bone preset's 226 HU sits half way: no bias from partial volume


def _model(tmp_path, geometry, shapes, **settings):
    write_series(tmp_path / "dicom", geometry, shapes)
    volume = load_volume(tmp_path / "dicom")
    return volume, make_model(volume, ModelSettings(**settings))


def _radial_error(vertices, center, radius):
    return np.linalg.norm(vertices - center, axis=1) - radius


def test_oblique_anisotropic_sphere_volume_surface_and_placement(tmp_path):
    center, radius = np.array([12.0, -30.0, 55.0]), 15.0
    spacing_kji = (2.0, 0.7, 0.9)
    geometry = oblique_geometry((24, 56, 48), spacing_kji, rotation_deg=(20, -15, 30), center_lps=center)
    volume, result = _model(tmp_path, geometry, [Sphere(center, radius, BONE_HU)])
    mesh = result.mesh
    assert mesh.space == "LPS" and mesh.is_watertight()
    analytic = 4 / 3 * np.pi * radius ** 3
    assert abs(mesh.volume_mm3() / analytic - 1) < 0.02
    error = np.abs(_radial_error(mesh.vertices, center, radius))
    assert error.mean() < 0.5 * min(spacing_kji)            # half a voxel, on average over the surface
    assert np.percentile(error, 99) < 0.5 * max(spacing_kji)
    centroid = trimesh.Trimesh(mesh.vertices, mesh.faces, process=False).center_mass
    np.testing.assert_allclose(centroid, center, atol=0.2)  # lands where the patient's sphere is (LPS)


def test_gantry_tilt_and_uneven_spacing_are_not_sheared(tmp_path):
    center, radius = np.array([0.0, 20.0, 40.0]), 18.0
    gaps = [2.5] * 10 + [1.0] + [4.0] * 9
    geometry = tilted_geometry((21, 96, 80), (2.5, 0.8, 0.8), tilt_deg=18.5, center_lps=center, slice_gaps_mm=gaps)
    volume, result = _model(tmp_path, geometry, [Sphere(center, radius, BONE_HU)])
    assert any("gantry tilt of 18.5°" in w for w in volume.warnings)
    mesh = result.mesh
    assert mesh.is_watertight()
    centroid = trimesh.Trimesh(mesh.vertices, mesh.faces, process=False).center_mass
    np.testing.assert_allclose(centroid, center, atol=0.5)
    assert abs(mesh.volume_mm3() / (4 / 3 * np.pi * radius ** 3) - 1) < 0.03
    # a sheared reconstruction turns the sphere into an ellipsoid: check the extent along each axis
    extent = mesh.vertices.max(axis=0) - mesh.vertices.min(axis=0)
    np.testing.assert_allclose(extent, 2 * radius, atol=1.5)


def test_cylinder_radius_and_axis(tmp_path):
    p0, p1, radius = np.array([-20.0, 0.0, 10.0]), np.array([25.0, 5.0, 30.0]), 6.0
    geometry = axial_geometry((30, 60, 80), (1.5, 0.6, 0.75), center_lps=(p0 + p1) / 2)
    _, result = _model(tmp_path, geometry, [Cylinder(p0, p1, radius, BONE_HU)])
    v = result.mesh.vertices
    axis = (p1 - p0) / np.linalg.norm(p1 - p0)
    t = (v - p0) @ axis
    side = (t > 2.0) & (t < np.linalg.norm(p1 - p0) - 2.0)  # away from the caps
    distance = np.linalg.norm((v - p0) - np.outer(t, axis), axis=1)[side]
    assert abs(np.median(distance) - radius) < 0.15
    assert np.percentile(np.abs(distance - radius), 99) < 0.5 * 1.5


def test_mask_touching_the_border_still_closes():
    mask = np.ones((5, 6, 7), dtype=bool)
    mesh = mask_to_mesh(mask, np.diag([1.0, 2.0, 3.0, 1.0]), smoothing=0.0)
    assert mesh.is_watertight()
    assert mesh.volume_mm3() > 0
    np.testing.assert_allclose(mesh.vertices.min(axis=0), [-0.5, -1.0, -1.5], atol=1e-6)
    np.testing.assert_allclose(mesh.vertices.max(axis=0), [6.5, 11.0, 13.5], atol=1e-6)


def test_left_handed_affine_still_gives_outward_normals():
    mask = np.zeros((12, 12, 12), dtype=bool)
    mask[3:9, 3:9, 3:9] = True
    mesh = mask_to_mesh(mask, np.diag([-1.0, 1.0, 1.0, 1.0]), smoothing=0.3)  # NIfTI-like x flip
    assert mesh.volume_mm3() > 0 and mesh.is_watertight()


@pytest.mark.parametrize("method", available_methods())
def test_every_available_method_measures_the_same_sphere(method):
    grid = np.indices((40, 40, 40)).astype(float)
    mask = ((grid - 19.5) ** 2).sum(axis=0) <= 14.0 ** 2
    mesh = mask_to_mesh(mask, np.eye(4), smoothing=0.5, method=method)
    assert abs(mesh.volume_mm3() / mask.sum() - 1) < 0.01
    assert mesh.volume_mm3() > 0
    if method != "surface-nets":  # nets may pinch at edge-touching voxels; not the case on a sphere
        assert mesh.is_watertight()


def test_decimation_hits_the_target_and_stays_closed():
    grid = np.indices((50, 50, 50)).astype(float)
    mask = ((grid - 24.5) ** 2).sum(axis=0) <= 20.0 ** 2
    full = mask_to_mesh(mask, np.eye(4))
    small = mask_to_mesh(mask, np.eye(4), target_triangles=4000)
    assert full.triangle_count > 15000
    assert 3600 <= small.triangle_count <= 4400
    assert small.is_watertight()
    assert abs(small.volume_mm3() / full.volume_mm3() - 1) < 0.01


def test_smoothing_factor_is_checked_and_empty_mask_refused():
    with pytest.raises(InputError, match="smoothing factor 1.5"):
        mask_to_mesh(np.ones((3, 3, 3), bool), np.eye(4), smoothing=1.5)
    with pytest.raises(InputError, match="not available"):
        mask_to_mesh(np.ones((3, 3, 3), bool), np.eye(4), method="magic")
    with pytest.raises(EmptyResultError, match="segmentation is empty"):
        mask_to_mesh(np.zeros((3, 3, 3), bool), np.eye(4))


def test_volume_with_no_bone_is_refused_without_output(tmp_path):
    geometry = axial_geometry((6, 20, 20), (2.0, 1.0, 1.0))
    write_series(tmp_path / "dicom", geometry, [Sphere((0, 0, 0), 5.0, 40.0)])  # soft tissue only
    volume = load_volume(tmp_path / "dicom")
    with pytest.raises(EmptyResultError, match="No voxel lies between 226 and 3071 HU"):
        make_model(volume, ModelSettings())


@settings(max_examples=150, deadline=None)
@given(hnp.arrays(bool, hnp.array_shapes(min_dims=3, max_dims=3, min_side=1, max_side=7)),
       st.sampled_from([0.0, 0.5]))
def test_any_non_empty_mask_gives_a_closed_outward_surface_around_it(mask, smoothing):
    assume(mask.any())
    spacing = np.array([0.7, 0.8, 1.5])  # i, j, k
    mesh = mask_to_mesh(mask, np.diag(list(spacing) + [1.0]), smoothing=smoothing)
    assert mesh.is_watertight()
    volume = mesh.volume_mm3()
    assert volume > 0
    if smoothing == 0:  # marching cubes cuts the voxels' corners: never more than the voxels
        assert volume <= mask.sum() * spacing.prod() * (1 + 1e-9)
    ijk = np.argwhere(mask)[:, ::-1]  # (i, j, k) of the voxels
    lo, hi = (ijk.min(axis=0) - 1) * spacing, (ijk.max(axis=0) + 1) * spacing
    assert np.all(mesh.vertices >= lo - 1e-6) and np.all(mesh.vertices <= hi + 1e-6)
