"""DICOM series reading: real CTs, geometry, and every kind of bad input named in a clear error."""

import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest

from medprint.dicom import read_dicom_series
from medprint.errors import InputError, SeriesError
from medprint.volume import load_volume

ABDOMEN = "abdomen-pancreas-ctcb001"
HEAD = "head-ge-tilt"


def _dicom_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix == ".dcm")


def _copy(files, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.copy(f, dest / f.name)
    return dest


def test_abdomen_loads_with_header_geometry_and_hu(ct_dir):
    volume = load_volume(ct_dir / ABDOMEN)
    assert volume.shape == (44, 512, 512)
    np.testing.assert_allclose(volume.spacing, [1.07421875, 1.07421875, 3.0], atol=1e-6)
    assert volume.array.min() == -1000 and volume.array.max() == 1330  # slope 1, intercept -1000
    assert volume.array.dtype == np.int16
    assert abs(float(np.mean(volume.array > 300)) - 0.0100) < 0.0005
    # slice 0 is the most inferior one (z = 85.9 mm) and each voxel sits where its file says
    files = {float(pydicom.dcmread(f, stop_before_pixels=True).ImagePositionPatient[2]): f
             for f in _dicom_files(ct_dir / ABDOMEN)}
    for k in (0, 17, 43):
        z = volume.index_to_lps(np.array([[0, 0, k]]))[0, 2]
        ds = pydicom.dcmread(files[min(files, key=lambda zz: abs(zz - z))])
        np.testing.assert_allclose(volume.index_to_lps(np.array([[0, 0, k]]))[0],
                                   [float(v) for v in ds.ImagePositionPatient], atol=1e-3)
        raw = ds.pixel_array.astype(np.int32) * int(ds.RescaleSlope) + int(ds.RescaleIntercept)
        np.testing.assert_array_equal(volume.array[k], raw)
    assert volume.source.modality == "CT" and volume.source.file_count == 44
    assert volume.source.series_instance_uid.startswith("1.3.6.1.4.1.14519")


def test_sorting_ignores_file_names_and_instance_numbers(ct_dir, tmp_path):
    files = _dicom_files(ct_dir / ABDOMEN)[:6]
    reference = read_dicom_series(_copy(files, tmp_path / "ref"))
    shuffled = tmp_path / "shuffled"
    shuffled.mkdir()
    for n, f in enumerate(reversed(files)):  # names and instance numbers now run against position
        ds = pydicom.dcmread(f)
        ds.InstanceNumber = n + 1
        ds.save_as(shuffled / f"x{n:02d}.dcm")
    volume = read_dicom_series(shuffled)
    np.testing.assert_array_equal(volume.array, reference.array)
    np.testing.assert_allclose(volume.ijk_to_lps, reference.ijk_to_lps)


def test_tilted_uneven_head_is_regularised_not_sheared(ct_dir):
    volume = load_volume(ct_dir / HEAD)
    assert any("gantry tilt of 18.5°" in w and "uneven slice spacing" in w for w in volume.warnings)
    axes = volume.ijk_to_lps[:3, :3] / volume.spacing
    np.testing.assert_allclose(axes.T @ axes, np.eye(3), atol=1e-6)  # orthogonal grid, oblique kept
    np.testing.assert_allclose(axes[:, 1], [0, 0.9483, -0.3173], atol=1e-3)
    # along a column through the skull (the direction the tilt shears), the bone edges of every
    # acquired slice are found at the same patient positions in the volume
    from scipy import ndimage

    for f in _dicom_files(ct_dir / HEAD)[::3]:
        ds = pydicom.dcmread(f)
        col = np.array(ds.ImageOrientationPatient[3:], float)
        row = np.array(ds.ImageOrientationPatient[:3], float)
        dr, dc = (float(v) for v in ds.PixelSpacing)
        j = np.arange(ds.Rows)
        points = np.array(ds.ImagePositionPatient, float) + 256 * dc * row + j[:, None] * dr * col
        acquired = ds.pixel_array[:, 256].astype(float) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        ijk = volume.lps_to_index(points)
        resampled = ndimage.map_coordinates(volume.array.astype(float), ijk[:, ::-1].T, order=1, cval=-1000)
        bone_acquired, bone_resampled = np.flatnonzero(acquired > 300), np.flatnonzero(resampled > 300)
        if len(bone_acquired) < 10:
            continue
        assert abs(bone_acquired[0] - bone_resampled[0]) <= 3  # pixels of 0.49 mm
        assert abs(bone_acquired[-1] - bone_resampled[-1]) <= 3


def test_empty_folder(tmp_path):
    with pytest.raises(InputError, match="is empty"):
        load_volume(tmp_path)


def test_missing_path(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_volume(tmp_path / "nope")


def test_non_dicom_files_only(tmp_path):
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "scan.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(200))
    with pytest.raises(InputError, match="No DICOM image slices were found.*2 files looked at"):
        load_volume(tmp_path)


def test_non_dicom_files_beside_a_series_are_skipped_with_a_warning(ct_dir, tmp_path):
    folder = _copy(_dicom_files(ct_dir / ABDOMEN)[:4], tmp_path / "s")
    (folder / "DICOMDIR.txt").write_text("index")
    volume = load_volume(folder)
    assert volume.shape == (4, 512, 512)
    assert any("1 file(s) that are not DICOM images were skipped" in w for w in volume.warnings)


def test_one_missing_slice_is_refused_with_its_position(ct_dir, tmp_path):
    files = _dicom_files(ct_dir / ABDOMEN)[:10]
    folder = _copy(files[:5] + files[6:], tmp_path / "gap")
    with pytest.raises(SeriesError, match=r"missing about 1 slice\(s\): a gap of 6.00 mm") as err:
        load_volume(folder)
    assert "allow gaps" in err.value.hint
    volume = read_dicom_series(folder, allow_gaps=True)
    assert volume.shape[0] == 10 and any("Interpolated across the gap" in w for w in volume.warnings)


def test_far_gap_in_small_real_series(dicom_misc_dir):
    with pytest.raises(SeriesError, match="gap of 202.50 mm"):
        load_volume(dicom_misc_dir / "pydicom-dicomdirtests-CT2")


def test_mixed_series_uses_the_largest_and_names_the_others(ct_dir, tmp_path):
    folder = _copy(_dicom_files(ct_dir / ABDOMEN)[:6], tmp_path / "mixed")
    other_uid = pydicom.uid.generate_uid()
    for f in _dicom_files(ct_dir / ABDOMEN)[10:13]:
        ds = pydicom.dcmread(f)
        ds.SeriesInstanceUID = other_uid
        ds.save_as(folder / f"other-{f.name}")
    volume = load_volume(folder)
    assert volume.shape[0] == 6
    note = next(w for w in volume.warnings if "2 series were found" in w)
    assert other_uid in note and "(3 slices, CT)" in note
    chosen = load_volume(folder, series_uid=other_uid)
    assert chosen.shape[0] == 3 and chosen.source.series_instance_uid == other_uid
    with pytest.raises(InputError, match="is not in this folder") as err:
        load_volume(folder, series_uid="1.2.3.4")
    assert other_uid in err.value.hint


def test_mixed_sizes_in_one_series(dicom_misc_dir, ct_dir, tmp_path):
    folder = _copy(_dicom_files(ct_dir / ABDOMEN)[:3], tmp_path / "sizes")
    ds = pydicom.dcmread(dicom_misc_dir / "CT_small.dcm")
    ref = pydicom.dcmread(_dicom_files(ct_dir / ABDOMEN)[5])
    ds.SeriesInstanceUID = ref.SeriesInstanceUID
    ds.ImageOrientationPatient = ref.ImageOrientationPatient
    ds.ImagePositionPatient = ref.ImagePositionPatient
    ds.PixelSpacing = ref.PixelSpacing
    ds.save_as(folder / "small.dcm")
    with pytest.raises(SeriesError, match=r"mixes image sizes \(3 slices of 512x512, 1 slices of 128x128\)"):
        load_volume(folder)


def test_truncated_file_is_named(ct_dir, tmp_path):
    files = _dicom_files(ct_dir / ABDOMEN)[:5]
    folder = _copy(files, tmp_path / "trunc")
    victim = folder / files[2].name
    victim.write_bytes(victim.read_bytes()[:200_000])  # header intact, pixel data cut short
    with pytest.raises(SeriesError, match=f"'{victim.name}' is damaged or truncated"):
        load_volume(folder)


def test_duplicate_positions(ct_dir, tmp_path):
    files = _dicom_files(ct_dir / ABDOMEN)[:4]
    folder = _copy(files, tmp_path / "dup")
    ds = pydicom.dcmread(files[1])
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    ds.save_as(folder / "copy.dcm")
    with pytest.raises(SeriesError, match="Two slices lie at the same position"):
        load_volume(folder)


def test_compressed_without_decoder(ct_dir, tmp_path):
    folder = _copy(_dicom_files(ct_dir / ABDOMEN)[:3], tmp_path / "jp2")
    for f in _dicom_files(folder):
        ds = pydicom.dcmread(f)
        ds.file_meta.TransferSyntaxUID = pydicom.uid.HTJ2KLossless  # no decoder in the test env
        ds.PixelData = pydicom.encaps.encapsulate([b"\xff\x4f\xff\x51" + bytes(64)])
        ds["PixelData"].VR = "OB"
        ds.save_as(f, enforce_file_format=True)
    with pytest.raises(InputError, match="JPEG 2000.*no decoder for it is installed") as err:
        load_volume(folder)
    assert "pylibjpeg" in err.value.hint


def test_single_slice_is_refused(dicom_misc_dir, tmp_path):
    folder = _copy([dicom_misc_dir / "CT_small.dcm"], tmp_path / "one")
    with pytest.raises(SeriesError, match="single slice"):
        load_volume(folder)


def test_nrrd_and_nifti_give_the_same_geometry(tmp_path):
    import nibabel
    import nrrd

    from medprint.coords import FLIP_LPS_RAS

    rng = np.random.default_rng(1)
    array = rng.integers(-1000, 2000, size=(6, 7, 8)).astype(np.int16)  # [k, j, i]
    ijk_to_lps = np.array([[0.8, 0.0, 0.3, -10.0], [0.0, 0.9, 0.0, 20.0], [-0.1, 0.0, 2.5, 30.0], [0, 0, 0, 1]])
    nrrd.write(str(tmp_path / "v.nrrd"), array, {
        "space": "left-posterior-superior", "space directions": ijk_to_lps[:3, :3].T,
        "space origin": ijk_to_lps[:3, 3]}, index_order="C")
    nibabel.save(nibabel.Nifti1Image(array.transpose(2, 1, 0), FLIP_LPS_RAS @ ijk_to_lps), str(tmp_path / "v.nii.gz"))
    for name in ("v.nrrd", "v.nii.gz"):
        volume = load_volume(tmp_path / name)
        np.testing.assert_array_equal(volume.array, array)
        np.testing.assert_allclose(volume.ijk_to_lps, ijk_to_lps, atol=1e-5)


def test_unknown_file_type(tmp_path):
    (tmp_path / "model.stl").write_bytes(bytes(84))
    with pytest.raises(InputError, match="not a volume MedPrint can read"):
        load_volume(tmp_path / "model.stl")


def test_files_without_preamble_or_meta_header_are_read(ct_dir, tmp_path):
    """Older exports store the bare data set: no 128-byte preamble, no 'DICM', no file meta."""
    from pydicom.filebase import DicomFileLike
    from pydicom.filewriter import write_dataset

    files = _dicom_files(ct_dir / ABDOMEN)[:5]
    reference = read_dicom_series(_copy(files, tmp_path / "ref"))
    bare = tmp_path / "bare"
    bare.mkdir()
    for n, f in enumerate(files):
        ds = pydicom.dcmread(f)
        with open(bare / f"IM{n}", "wb") as fp:
            out = DicomFileLike(fp)
            out.is_little_endian, out.is_implicit_VR = True, True
            write_dataset(out, pydicom.Dataset(ds))  # the data set alone, without file meta
    assert not (bare / "IM0").read_bytes()[128:132] == b"DICM"
    (bare / "notes.txt").write_text("not DICOM either")
    volume = read_dicom_series(bare)
    np.testing.assert_array_equal(volume.array, reference.array)
    np.testing.assert_allclose(volume.ijk_to_lps, reference.ijk_to_lps)
    assert any("1 file(s) that are not DICOM images were skipped" in w for w in volume.warnings)
