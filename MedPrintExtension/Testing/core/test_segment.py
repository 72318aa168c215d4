"""Segmentation: presets, islands by mm³, largest island, hole filling, closing, empty results."""

import numpy as np
import pytest

from medprint.errors import EmptyResultError, InputError
from medprint.segment import PRESETS, SegmentSettings, ball, bounding_box, segment
from medprint.volume import Volume


def _volume(array, spacing=(1.0, 1.0, 1.0)):
    return Volume(array=array, ijk_to_lps=np.diag(list(spacing) + [1.0]))


def _grid(shape):
    return np.indices(shape).astype(float)


def test_presets_cover_the_documented_ranges():
    assert (PRESETS["bone"].low_hu, PRESETS["bone"].high_hu) == (226, 3071)
    assert PRESETS["cortical-bone"].low_hu > PRESETS["bone"].low_hu
    assert PRESETS["soft-tissue"].high_hu < PRESETS["bone"].low_hu
    for preset in PRESETS.values():  # the documented range is the one applied
        assert f"{preset.low_hu:g}–{preset.high_hu:g} HU" in preset.description


def test_threshold_bounds_are_inclusive_and_preset_picks_tissue():
    array = np.array([-1000, -700, 40, 225, 226, 700, 1500, 3071, 3072], dtype=np.int16)
    volume = _volume(np.tile(array, (3, 3, 1)))
    bone = segment(volume, SegmentSettings("bone", min_island_mm3=0))[1, 1]
    np.testing.assert_array_equal(bone, [0, 0, 0, 0, 1, 1, 1, 1, 0])
    soft = segment(volume, SegmentSettings("soft-tissue", min_island_mm3=0))[1, 1]
    np.testing.assert_array_equal(soft, [0, 1, 1, 1, 0, 0, 0, 0, 0])
    custom = segment(volume, SegmentSettings("bone", low_hu=600, high_hu=1600, min_island_mm3=0))[1, 1]
    np.testing.assert_array_equal(custom, [0, 0, 0, 0, 0, 1, 1, 0, 0])


def test_small_islands_are_removed_by_physical_size():
    array = np.full((30, 30, 30), -1000, dtype=np.int16)
    array[2:12, 2:12, 2:12] = 1000   # 1000 voxels
    array[20:23, 20:23, 20:23] = 1000  # 27 voxels
    spacing = (0.5, 0.5, 2.0)  # 0.5 mm³ per voxel: 500 mm³ and 13.5 mm³
    volume = _volume(array, spacing)
    mask = segment(volume, SegmentSettings(min_island_mm3=14.0))
    assert mask.sum() == 1000
    mask = segment(volume, SegmentSettings(min_island_mm3=13.0))
    assert mask.sum() == 1027


def test_keep_largest_and_diagonal_pieces_are_separate():
    array = np.full((20, 20, 20), -1000, dtype=np.int16)
    array[2:8, 2:8, 2:8] = 1000
    array[8:10, 8:10, 8:10] = 1000  # touches the first only at a corner: another island
    mask = segment(_volume(array), SegmentSettings(keep_largest=True))
    assert mask.sum() == 216


def test_fill_holes_fills_an_enclosed_cavity_only():
    array = np.full((20, 20, 20), -1000, dtype=np.int16)
    array[3:17, 3:17, 3:17] = 1000
    array[6:14, 6:14, 6:14] = 0       # enclosed marrow-like cavity
    array[9:11, 9:11, 0:4] = -1000    # does not reach it: still enclosed
    mask = segment(_volume(array), SegmentSettings(fill_holes=True, min_island_mm3=0))
    assert mask.sum() == 14 ** 3 - 1 * 2 * 2  # only the 2x2x1 notch at the surface stays empty
    array[9:11, 9:11, 0:7] = -1000    # now a channel opens the cavity: no longer a hole
    mask = segment(_volume(array), SegmentSettings(fill_holes=True, min_island_mm3=0))
    assert mask.sum() == 14 ** 3 - 8 ** 3 - 2 * 2 * 3


def test_closing_bridges_a_gap_narrower_than_the_radius():
    array = np.full((20, 40, 20), -1000, dtype=np.int16)
    array[5:15, 5:19, 5:15] = 1000
    array[5:15, 21:35, 5:15] = 1000   # 2 mm gap at j = 19, 20
    volume = _volume(array)
    assert segment(volume, SegmentSettings(min_island_mm3=0)).sum() == 2 * 10 * 14 * 10
    closed = segment(volume, SegmentSettings(closing_mm=2.0, keep_largest=True))
    assert closed[10, 19:21, 10].all()           # bridged
    assert closed.sum() >= 2 * 10 * 14 * 10 + 2 * 8 * 8
    assert not closed[:, :5].any() and not closed[:, 35:].any()  # did not grow outward


def test_ball_is_anisotropic_in_voxels_but_round_in_mm():
    element = ball(np.array([2.0, 1.0, 0.5]), 2.0)
    assert element.shape == (3, 5, 9)
    assert element[1, 2, 0] and element[1, 2, 8] and element[0, 2, 4] and not element[0, 0, 0]


def test_bounding_box_with_margin_clips_at_the_border():
    mask = np.zeros((10, 10, 10), bool)
    mask[0, 4:6, 9] = True
    box = bounding_box(mask, margin=2)
    assert box == (slice(0, 3), slice(2, 8), slice(7, 10))
    assert bounding_box(np.zeros((3, 3, 3), bool)) is None


def test_no_bone_gives_a_clear_error():
    volume = _volume(np.full((10, 10, 10), 40, dtype=np.int16))
    with pytest.raises(EmptyResultError, match="No voxel lies between 226 and 3071 HU.*from 40 to 40"):
        segment(volume, SegmentSettings("bone"))


def test_only_specks_gives_a_clear_error():
    array = np.full((10, 10, 10), -1000, dtype=np.int16)
    array[5, 5, 5] = 1000
    with pytest.raises(EmptyResultError, match="smaller than 100 mm³"):
        segment(_volume(array), SegmentSettings())


def test_bad_settings():
    volume = _volume(np.zeros((4, 4, 4), dtype=np.int16))
    with pytest.raises(InputError, match="no threshold preset called 'bones'"):
        segment(volume, SegmentSettings("bones"))
    with pytest.raises(InputError, match="range 500–100 HU is empty"):
        segment(volume, SegmentSettings("bone", low_hu=500, high_hu=100))


def test_more_islands_than_a_uint16_label_holds():
    mask = np.zeros((100, 100, 60), dtype=bool)
    mask[::2, ::2, ::2] = True  # 75,000 single-voxel islands
    mask[40:59, 40:59, 20:39] = True  # and one block of 19³ voxels, one voxel clear of any speck
    array = np.where(mask, 1000, -1000).astype(np.int16)
    cleaned = segment(_volume(array), SegmentSettings(min_island_mm3=2.0))
    assert cleaned.sum() == 19 ** 3
    largest = segment(_volume(array), SegmentSettings(keep_largest=True))
    assert largest.sum() == 19 ** 3


def test_presets_are_refused_on_non_ct_but_explicit_ranges_work():
    from medprint.volume import SourceInfo

    array = np.full((10, 10, 10), 100, dtype=np.int16)
    array[3:7, 3:7, 3:7] = 900
    mr = Volume(array=array, ijk_to_lps=np.eye(4), source=SourceInfo(modality="MR"))
    with pytest.raises(InputError, match="This series is MR; the 'bone' preset is a Hounsfield range") as err:
        segment(mr, SegmentSettings("bone"))
    assert "lower and the upper threshold" in err.value.hint
    assert segment(mr, SegmentSettings("bone", low_hu=500, high_hu=1000, min_island_mm3=0)).sum() == 64
    unknown = Volume(array=array, ijk_to_lps=np.eye(4))  # NRRD/NIfTI: modality not recorded
    assert segment(unknown, SegmentSettings("bone", min_island_mm3=0)).sum() == 64
