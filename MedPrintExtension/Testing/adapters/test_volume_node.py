"""T1: MedPrintLib.volume_node against Slicer's real MRML classes (PyPI slicer-core, no Qt).

Geometry is checked against what Slicer itself reports (IJKToRAS, the voxel it reads back at an
index, the NRRD it writes), not against our own conversion.
"""

import numpy as np
import pytest
import slicer
from vtkmodules.vtkCommonMath import vtkMatrix4x4

from MedPrintLib import matrix_to_numpy, numpy_to_matrix
from MedPrintLib.volume_node import add_volume_node, volume_from_node, volume_to_node
from medprint.coords import FLIP_LPS_RAS
from medprint.errors import InputError
from medprint.volume import Volume, load_volume
from slicer_reader import read_ct_with_slicer


@pytest.fixture
def scene():
    return slicer.vtkMRMLScene()


@pytest.fixture
def volume(oblique_ijk_to_lps) -> Volume:
    rng = np.random.default_rng(7)
    array = rng.integers(-1024, 3000, size=(6, 7, 9)).astype(np.int16)  # [k, j, i], all sizes different
    return Volume(array=array, ijk_to_lps=oblique_ijk_to_lps)


def _ijk_to_ras(node) -> np.ndarray:
    matrix = vtkMatrix4x4()
    node.GetIJKToRASMatrix(matrix)
    return matrix_to_numpy(matrix)


def test_round_trip_is_identical(scene, volume):
    node = add_volume_node(scene, volume, name="CT")
    back = volume_from_node(node)
    assert back.array.dtype == volume.array.dtype
    assert back.array.shape == volume.array.shape
    assert np.array_equal(back.array, volume.array)
    assert np.allclose(back.ijk_to_lps, volume.ijk_to_lps, rtol=0, atol=1e-9)
    assert not np.shares_memory(back.array, volume.array)


def test_node_geometry_is_what_slicer_reports(scene, volume):
    node = add_volume_node(scene, volume)
    ijk_to_ras = _ijk_to_ras(node)
    assert np.allclose(ijk_to_ras, FLIP_LPS_RAS @ volume.ijk_to_lps, atol=1e-9)
    assert np.allclose(node.GetSpacing(), volume.spacing, atol=1e-9)
    assert node.GetImageData().GetDimensions() == (9, 7, 6)  # (I, J, K)
    assert node.GetImageData().GetOrigin() == (0.0, 0.0, 0.0)  # geometry lives in the node, as in Slicer


@pytest.mark.parametrize("ijk", [(0, 0, 0), (8, 6, 5), (3, 2, 1), (5, 0, 4)])
def test_voxel_lands_at_the_ras_position_slicer_reports(scene, volume, ijk):
    i, j, k = ijk
    array = volume.array.copy()
    array[k, j, i] = 12345  # mark one voxel, find it through Slicer's own indexing
    node = add_volume_node(scene, volume.with_array(array))
    image = node.GetImageData()
    assert image.GetScalarComponentAsDouble(i, j, k, 0) == 12345
    ras_slicer = (_ijk_to_ras(node) @ np.array([i, j, k, 1.0]))[:3]
    lps_ours = volume.index_to_lps(np.array([[i, j, k]], dtype=float))[0]
    assert np.allclose(ras_slicer, lps_ours * [-1, -1, 1], atol=1e-9)
    # and back from Slicer's RAS position to the index
    back = volume_from_node(node)
    assert np.allclose(back.lps_to_index(np.array([ras_slicer * [-1, -1, 1]]))[0], ijk, atol=1e-9)


def test_node_written_by_slicer_as_nrrd_reads_back_with_the_same_geometry(scene, volume, tmp_path):
    """Slicer's own volume writer (LPS NRRD) and the core's NRRD reader agree with the adapter."""
    node = add_volume_node(scene, volume)
    storage = slicer.vtkMRMLVolumeArchetypeStorageNode()
    storage.SetFileName(str(tmp_path / "ct.nrrd"))
    assert storage.WriteData(node)
    from_file = load_volume(tmp_path / "ct.nrrd")
    assert np.array_equal(from_file.array, volume.array)
    assert np.allclose(from_file.ijk_to_lps, volume.ijk_to_lps, atol=1e-6)

    read = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "read")
    reader = slicer.vtkMRMLVolumeArchetypeStorageNode()
    reader.SetFileName(str(tmp_path / "ct.nrrd"))
    assert reader.ReadData(read)
    again = volume_from_node(read)
    assert np.array_equal(again.array, volume.array)
    assert np.allclose(again.ijk_to_lps, volume.ijk_to_lps, atol=1e-6)


def test_linear_parent_transform_is_applied_both_ways(scene, volume):
    transform = scene.AddNewNodeByClass("vtkMRMLLinearTransformNode")
    shift_ras = np.eye(4)
    shift_ras[:3, 3] = [10.0, -20.0, 30.0]
    transform.SetMatrixTransformToParent(numpy_to_matrix(shift_ras))
    node = add_volume_node(scene, volume)
    node.SetAndObserveTransformNodeID(transform.GetID())
    moved = volume_from_node(node)
    assert np.allclose(moved.ijk_to_lps[:3, 3], volume.ijk_to_lps[:3, 3] + [-10.0, 20.0, 30.0])

    volume_to_node(volume, node)  # writing under the transform keeps world positions
    assert np.allclose(volume_from_node(node).ijk_to_lps, volume.ijk_to_lps, atol=1e-9)


def test_bool_mask_becomes_uint8(scene, volume):
    mask = volume.array > 1000
    node = add_volume_node(scene, volume.with_array(mask))
    back = volume_from_node(node)
    assert back.array.dtype == np.uint8 and np.array_equal(back.array, mask.astype(np.uint8))


def test_empty_node_and_wrong_node_give_plain_messages(scene):
    empty = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "empty")
    with pytest.raises(InputError, match="holds no image data"):
        volume_from_node(empty)
    with pytest.raises(InputError, match="scalar volume"):
        volume_from_node(scene.AddNewNodeByClass("vtkMRMLModelNode"))
    with pytest.raises(InputError, match="scalar volume"):
        volume_from_node(None)


def test_sheared_grid_is_refused(scene, volume):
    sheared = volume.ijk_to_lps.copy()
    sheared[:3, 0] += 0.3 * sheared[:3, 1]
    with pytest.raises(InputError, match="sheared"):
        add_volume_node(scene, Volume(volume.array, sheared))


def test_real_ct_read_by_slicer_matches_the_core_reader(scene, ct_dir):
    """The same series through Slicer's reader + the adapter and through medprint's DICOM reader:
    same voxels, and every voxel at the same patient position."""
    folder = ct_dir / "abdomen-pancreas-ctcb001"
    from_slicer = volume_from_node(read_ct_with_slicer(scene, folder))
    from_core = load_volume(folder)
    assert from_slicer.shape == from_core.shape
    assert np.array_equal(from_slicer.array, from_core.array)
    assert np.allclose(from_slicer.ijk_to_lps, from_core.ijk_to_lps, atol=1e-6)
