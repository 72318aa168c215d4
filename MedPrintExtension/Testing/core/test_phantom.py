"""The procedural CT phantom: geometry conventions, partial volume, and the DICOM files it writes.

Everything is checked by measurement: tags re-read with pydicom, HU read back through the rescale,
volumes against the analytic ones, centroids placed with the DICOM pixel convention.
"""

import math

import numpy as np
import pydicom
import pytest

from medprint.errors import InputError
from medprint.phantom import (
    CT_IMAGE_STORAGE,
    Cylinder,
    Ellipsoid,
    Shell,
    Sphere,
    axial_geometry,
    demo_phantom,
    demo_scene,
    oblique_geometry,
    render_slice,
    render_volume,
    tilted_geometry,
    write_series,
)

BG = -1000.0


def read_back(paths):
    """Datasets and HU arrays [k, j, i] from written files (pixel * slope + intercept)."""
    datasets = [pydicom.dcmread(p) for p in paths]
    hu = np.stack([d.pixel_array * float(d.RescaleSlope) + float(d.RescaleIntercept) for d in datasets])
    return datasets, hu


def pixel_centres_from_tags(ds):
    """LPS centres (rows, cols, 3) of one slice, from its tags alone (the DICOM convention)."""
    ipp = np.array(ds.ImagePositionPatient, float)
    iop = np.array(ds.ImageOrientationPatient, float)
    d_r, d_c = (float(x) for x in ds.PixelSpacing)
    jj, ii = np.mgrid[0:ds.Rows, 0:ds.Columns]
    return ipp + ii[..., None] * d_c * iop[:3] + jj[..., None] * d_r * iop[3:]


def brute_force_slice(geometry, k, shapes, s=3):
    """Reference: every pixel averaged over the full sub-grid (s steps on the shortest voxel side)."""
    jj, ii = np.mgrid[0:geometry.rows, 0:geometry.columns]
    u, v, n = np.array(geometry.row_dir), np.array(geometry.col_dir), geometry.normal
    d_r, d_c = geometry.pixel_spacing
    sizes = (d_c, d_r, geometry.slice_thickness)
    counts = [max(s, math.ceil(s * size / min(sizes) - 1e-9)) for size in sizes]
    offsets = [(np.arange(c) + 0.5) / c - 0.5 for c in counts]
    total = np.zeros(jj.shape)
    for a in offsets[0]:
        for b in offsets[1]:
            for c in offsets[2]:
                points = (geometry.pixel_lps(k, ii, jj) + a * d_c * u + b * d_r * v
                          + c * geometry.slice_thickness * n)
                values = np.full(jj.shape, BG)
                for shape in shapes:
                    values[shape.contains(points)] = shape.hu
                total += values
    return total / np.prod(counts)


# ---------------------------------------------------------------------------------------------
# Geometry


def test_axial_geometry_positions_and_centre():
    g = axial_geometry((5, 4, 6), (2.5, 0.8, 0.7), origin_lps=(10, 20, 30))
    assert g.shape_kji == (5, 4, 6)
    assert g.pixel_spacing == (0.8, 0.7)
    np.testing.assert_allclose(g.positions[:, 2], 30 + 2.5 * np.arange(5))
    np.testing.assert_allclose(g.normal, [0, 0, 1])
    # pixel (i=5, j=3) of slice 2: IPP + i*dC*row_dir + j*dR*col_dir
    np.testing.assert_allclose(g.pixel_lps(2, 5, 3), [10 + 5 * 0.7, 20 + 3 * 0.8, 35])
    centred = axial_geometry((5, 4, 6), (2.5, 0.8, 0.7), center_lps=(1, 2, 3))
    grid = centred.pixel_lps(np.arange(5)[:, None, None], np.arange(6)[None, None, :], np.arange(4)[None, :, None])
    np.testing.assert_allclose(grid.reshape(-1, 3).mean(axis=0), [1, 2, 3], atol=1e-12)


def test_oblique_geometry_is_orthonormal_and_stacked_along_normal():
    g = oblique_geometry((6, 8, 8), (1.5, 1.0, 1.0), rotation_deg=(25, -10, 40))
    u, v, n = np.array(g.row_dir), np.array(g.col_dir), g.normal
    np.testing.assert_allclose([u @ u, v @ v, u @ v], [1, 1, 0], atol=1e-12)
    assert abs(n[2]) < 0.99  # really oblique
    steps = np.diff(g.positions, axis=0)
    np.testing.assert_allclose(steps, np.tile(1.5 * n, (5, 1)), atol=1e-12)


@pytest.mark.parametrize("tilt", [15.0, -22.0])
def test_tilted_positions_shift_in_plane_by_tan_tilt(tilt):
    t = math.radians(tilt)
    g = tilted_geometry((7, 10, 10), (2.0, 0.5, 0.5), tilt)
    np.testing.assert_allclose(g.row_dir, [1, 0, 0])
    np.testing.assert_allclose(g.col_dir, [0, math.cos(t), -math.sin(t)])
    steps = np.diff(g.positions, axis=0)
    np.testing.assert_allclose(steps, np.tile([0, 0, 2.0], (6, 1)), atol=1e-12)  # table moves along z
    along_normal = steps @ g.normal
    in_plane = steps @ np.array(g.col_dir)
    np.testing.assert_allclose(along_normal, 2.0 * math.cos(t))
    np.testing.assert_allclose(in_plane, -2.0 * math.sin(t))
    # origin of slice k sits tan(t) * (normal distance) off the normal through slice 0's origin
    np.testing.assert_allclose(np.abs(in_plane) / along_normal, abs(math.tan(t)))
    assert g.slice_thickness == pytest.approx(2.0 * math.cos(t))


def test_tilted_uneven_gaps():
    gaps = [1.0, 1.0, 2.5, 1.0]
    g = tilted_geometry((5, 6, 6), (1.0, 1.0, 1.0), 12.0, origin_lps=(0, 0, -5), slice_gaps_mm=gaps)
    np.testing.assert_allclose(g.positions[:, 2], -5 + np.concatenate([[0], np.cumsum(gaps)]))
    with pytest.raises(ValueError):
        tilted_geometry((5, 6, 6), (1.0, 1.0, 1.0), 12.0, slice_gaps_mm=[1.0, 2.0])


# ---------------------------------------------------------------------------------------------
# Shapes


def test_sphere_and_cylinder_signed_distances_are_exact():
    s = Sphere((1, 2, 3), 5, 100)
    np.testing.assert_allclose(s.signed_distance(np.array([[1, 2, 3], [1, 2, 11], [4, 6, 3]])), [-5, 3, 0])
    c = Cylinder((0, 0, 0), (0, 0, 10), 2, 100)
    points = np.array([
        [0, 0, 5],      # axis centre: 2 to the side wall, 5 to the caps
        [3, 0, 5],      # 1 outside the side wall
        [0, 0, 13],     # 3 above the top cap
        [5, 0, 14],     # beyond the rim: hypot(3, 4)
        [1.5, 0, 9.8],  # near the rim inside: 0.2 below the cap
    ])
    np.testing.assert_allclose(c.signed_distance(points), [-2, 1, 3, 5, -0.2], atol=1e-12)
    assert c.volume_mm3() == pytest.approx(math.pi * 4 * 10)


def test_ellipsoid_bound_never_overstates_distance():
    e = Ellipsoid((0, 0, 0), (30, 20, 10), 100)
    rng = np.random.default_rng(1)
    # dense surface sample -> brute-force distance of random points
    th, ph = np.meshgrid(np.linspace(0, np.pi, 400), np.linspace(0, 2 * np.pi, 800), indexing="ij")
    surface = np.stack([30 * np.sin(th) * np.cos(ph), 20 * np.sin(th) * np.sin(ph), 10 * np.cos(th)], -1)
    surface = surface.reshape(-1, 3)
    points = rng.uniform(-40, 40, (300, 3))
    true = np.array([np.min(np.linalg.norm(surface - p, axis=1)) for p in points])
    inside = e.contains(points)
    bound = e.distance_bound(points)
    assert np.all((bound <= 0) == inside)
    assert np.all(np.abs(bound) <= true + 0.05)  # 0.05 mm: the surface sampling
    sd = e.signed_distance(points)
    assert np.all((sd <= 0) == inside)
    near = true < 2.0
    np.testing.assert_allclose(np.abs(sd[near]), true[near], atol=0.25)


def test_shell_volume_and_membership():
    sh = Shell((0, 0, 0), (50, 40, 30), 5, 1200)
    assert sh.volume_mm3() == pytest.approx(4 / 3 * math.pi * (50 * 40 * 30 - 45 * 35 * 25))
    assert list(sh.contains(np.array([[0, 0, 0], [47, 0, 0], [0, 0, 27], [0, 0, 31]]))) == [False, True, True, False]


# ---------------------------------------------------------------------------------------------
# Rendering


@pytest.mark.parametrize("make", [
    lambda: axial_geometry((24, 40, 40), (1.5, 1.0, 0.9), center_lps=(2, -3, 4)),
    lambda: oblique_geometry((24, 40, 40), (1.2, 1.1, 1.0), rotation_deg=(30, 20, -15), center_lps=(2, -3, 4)),
    lambda: tilted_geometry((24, 40, 40), (1.5, 1.0, 1.0), 20.0, center_lps=(2, -3, 4)),
])
def test_render_slice_matches_full_supersampling(make):
    """The shortcuts (block and pixel classification) give exactly the brute-force box average."""
    g = make()
    shapes = [Sphere((2, -3, 4), 9, 500), Cylinder((-8, -6, 0), (10, 2, 9), 4, 1200), Shell((2, -3, 4), (14, 12, 10), 2, 300)]
    for k in (2, 9, 12, 20):
        np.testing.assert_array_equal(render_slice(g, k, shapes, BG), brute_force_slice(g, k, shapes))


def test_render_recovers_sphere_and_cylinder_volumes():
    g = axial_geometry((36, 56, 56), (1.3, 0.9, 0.8), center_lps=(0, 0, 0))
    voxel = 1.3 * 0.9 * 0.8
    sphere = Sphere((0.37, -0.21, 0.55), 14.0, 800)
    frac = (render_volume(g, [sphere], BG) - BG) / (sphere.hu - BG)
    assert frac.sum() * voxel == pytest.approx(sphere.volume_mm3(), rel=0.002)
    cyl = Cylinder((-15, -4, -10), (12, 6, 11), 6.0, 800)
    frac = (render_volume(g, [cyl], BG) - BG) / (cyl.hu - BG)
    assert frac.sum() * voxel == pytest.approx(cyl.volume_mm3(), rel=0.005)


# ---------------------------------------------------------------------------------------------
# DICOM files


@pytest.fixture(scope="module")
def sphere_series(tmp_path_factory):
    g = axial_geometry((30, 48, 52), (1.25, 0.9, 0.8), origin_lps=(-20.0, -25.0, -15.0))
    sphere = Sphere((1.1, -2.3, 3.7), 12.0, 1000.0)
    paths = write_series(tmp_path_factory.mktemp("axial") / "series", g, [sphere], background_hu=BG)
    return g, sphere, paths


def test_written_files_are_ct_image_storage_with_the_geometry(sphere_series):
    g, _, paths = sphere_series
    assert [p.name for p in paths] == [f"slice_{k:04d}.dcm" for k in range(1, 31)]
    assert all(p.read_bytes()[128:132] == b"DICM" for p in paths)
    datasets, _ = read_back(paths)
    for k, ds in enumerate(datasets):
        assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
        assert ds.SOPClassUID == CT_IMAGE_STORAGE == ds.file_meta.MediaStorageSOPClassUID
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert ds.Modality == "CT" and ds.InstanceNumber == k + 1
        assert (ds.Rows, ds.Columns) == (48, 52)
        np.testing.assert_allclose(np.array(ds.ImagePositionPatient, float), g.positions[k], atol=1e-6)
        np.testing.assert_allclose(np.array(ds.ImageOrientationPatient, float), [1, 0, 0, 0, 1, 0])
        np.testing.assert_allclose(np.array(ds.PixelSpacing, float), [0.9, 0.8])
        assert float(ds.SliceThickness) == pytest.approx(1.25)
        assert float(ds.SpacingBetweenSlices) == pytest.approx(1.25)
        assert float(ds.RescaleSlope) == 1 and float(ds.RescaleIntercept) == -1024
        assert str(ds.PatientName) == "PHANTOM^MEDPRINT" and ds.PatientID == "PHANTOM-0001"
    assert len({d.SeriesInstanceUID for d in datasets}) == 1
    assert len({d.StudyInstanceUID for d in datasets}) == 1
    assert len({d.FrameOfReferenceUID for d in datasets}) == 1
    assert len({d.SOPInstanceUID for d in datasets}) == len(datasets)


def test_hu_read_back_inside_outside_and_partial(sphere_series):
    g, sphere, paths = sphere_series
    datasets, hu = read_back(paths)
    centres = np.stack([pixel_centres_from_tags(d) for d in datasets])  # [k, j, i, 3]
    dist = sphere.signed_distance(centres)
    assert np.all(np.abs(hu[dist < -2.0] - 1000) <= 1)
    assert np.all(np.abs(hu[dist > 2.0] - BG) <= 1)
    surface = np.abs(dist) < 0.15
    assert surface.sum() > 20
    assert np.all((hu[surface] > BG + 100) & (hu[surface] < 1000 - 100))
    # partial volume follows the distance: outside-leaning voxels are darker than inside-leaning ones
    assert hu[(dist > 0.3) & (dist < 0.5)].mean() < hu[(dist < -0.3) & (dist > -0.5)].mean()


def test_read_back_volume_matches_analytic_sphere(sphere_series):
    g, sphere, paths = sphere_series
    datasets, hu = read_back(paths)
    voxel = float(datasets[0].PixelSpacing[0]) * float(datasets[0].PixelSpacing[1]) * float(datasets[0].SliceThickness)
    volume = ((hu - BG) / (sphere.hu - BG)).sum() * voxel
    assert volume == pytest.approx(sphere.volume_mm3(), rel=0.01)


@pytest.mark.parametrize("make", [
    lambda: oblique_geometry((28, 44, 44), (1.2, 1.0, 0.9), rotation_deg=(35, -20, 25), center_lps=(5, -8, 12)),
    lambda: tilted_geometry((28, 44, 44), (1.5, 1.0, 1.0), 25.0, center_lps=(5, -8, 12)),
])
def test_lps_placement_from_tags(tmp_path, make):
    """A sphere's HU-weighted centroid, located with the tags alone, is where the sphere was put."""
    g = make()
    sphere = Sphere((6.2, -7.1, 13.4), 9.0, 1000.0)
    datasets, hu = read_back(write_series(tmp_path / "s", g, [sphere], background_hu=BG))
    centres = np.stack([pixel_centres_from_tags(d) for d in datasets])
    weight = hu - BG
    centroid = (centres * weight[..., None]).sum(axis=(0, 1, 2)) / weight.sum()
    np.testing.assert_allclose(centroid, sphere.center_lps, atol=0.05)
    np.testing.assert_allclose(np.array(datasets[0].ImageOrientationPatient, float),
                               [*g.row_dir, *g.col_dir], atol=1e-8)
    if g.gantry_tilt_deg:
        assert float(datasets[0].GantryDetectorTilt) == pytest.approx(25.0)
        # spacing is measured along the normal, between planes: the z step times cos(tilt)
        assert float(datasets[0].SpacingBetweenSlices) == pytest.approx(1.5 * math.cos(math.radians(25)), abs=1e-6)


def test_uneven_tilted_series_tags(tmp_path):
    gaps = [1.5, 1.5, 2.0, 1.5]
    g = tilted_geometry((5, 16, 16), (1.5, 1.0, 1.0), 18.0, origin_lps=(-3, 4, 10), slice_gaps_mm=gaps)
    datasets, _ = read_back(write_series(tmp_path / "s", g, [Sphere((4, 12, 13), 4, 900)]))
    ipp = np.array([[float(x) for x in d.ImagePositionPatient] for d in datasets])
    np.testing.assert_allclose(np.diff(ipp, axis=0), [[0, 0, gap] for gap in gaps], atol=1e-6)
    assert "SpacingBetweenSlices" not in datasets[0]  # uneven gaps: no single spacing to state
    t = math.radians(18.0)
    np.testing.assert_allclose(np.array(datasets[2].ImageOrientationPatient, float),
                               [1, 0, 0, 0, math.cos(t), -math.sin(t)], atol=1e-8)


def test_noise_is_reproducible_and_of_the_asked_size(tmp_path):
    g = axial_geometry((2, 64, 64), (1.0, 1.0, 1.0))
    _, a = read_back(write_series(tmp_path / "a", g, [], background_hu=0.0, noise_hu=20.0, seed=7))
    _, b = read_back(write_series(tmp_path / "b", g, [], background_hu=0.0, noise_hu=20.0, seed=7))
    _, c = read_back(write_series(tmp_path / "c", g, [], background_hu=0.0, noise_hu=20.0, seed=8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.std() == pytest.approx(20.0, rel=0.05) and abs(a.mean()) < 1.0


def test_writing_is_all_or_nothing_and_reports_progress(tmp_path):
    g = axial_geometry((4, 8, 8), (1.0, 1.0, 1.0))
    reports = []
    paths = write_series(tmp_path / "s", g, [Sphere((3, 3, 1), 2, 500)],
                         progress=lambda f, m: reports.append((f, m)))
    fractions = [f for f, _ in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(reports) >= 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]  # no staging folder left behind
    assert sorted((tmp_path / "s").iterdir()) == paths
    with pytest.raises(InputError):
        write_series(tmp_path / "s", g, [])  # refuses to mix two series in one folder
    fewer = axial_geometry((2, 8, 8), (1.0, 1.0, 1.0))
    paths = write_series(tmp_path / "s", fewer, [], overwrite=True)
    assert sorted((tmp_path / "s").iterdir()) == paths and len(paths) == 2

    def fail(fraction, message):
        if fraction > 0.4:
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError):
        write_series(tmp_path / "t", g, [], progress=fail)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]  # nothing half-written


def test_demo_phantom_looks_like_bone(tmp_path):
    geometry, shapes = demo_scene()
    assert geometry.shape_kji == (80, 160, 160)
    paths = demo_phantom(tmp_path / "demo")
    assert len(paths) == 80
    assert all("PHANTOM" not in p.name for p in paths)
    datasets, hu = read_back(paths)
    bone = hu > 600
    shell = [s for s in shapes if isinstance(s, Shell)][0]
    # all bone volume: skull shell (minus the foramen hole) and the limb's tube
    voxel = 2.0 * 1.0 * 1.0
    assert 0.8 * shell.volume_mm3() < bone.sum() * voxel < 2.0 * shell.volume_mm3()
    # the skull's crown: along the column through the head centre, bone appears ~5 mm thick
    centres = np.stack([pixel_centres_from_tags(d) for d in datasets])
    column = (np.abs(centres[..., 0]) < 0.6) & (np.abs(centres[..., 1]) < 0.6) & (centres[..., 2] > 50)
    bone_fraction = np.clip((hu - 40.0) / (1200.0 - 40.0), 0, 1)  # soft tissue on both sides of the crown
    wall_mm = bone_fraction[column].sum() * 2.0 / 4  # four pixel columns, 2 mm slices
    assert wall_mm == pytest.approx(5.0, abs=0.2)
    inside = np.linalg.norm(centres - np.array([0, 0, 30.0]), axis=-1) < 20
    assert abs(np.median(hu[inside]) - 40) < 10  # soft tissue inside the skull
