"""T1: MedPrintLib.segmentation_node against Slicer's real segmentation classes (PyPI slicer-core).

References are Slicer's own: its labelmap export (vtkSlicerSegmentationsModuleLogic), its closed-surface
conversion and STL export, and the image-to-world matrix Slicer keeps for each segment.
"""

import numpy as np
import pytest
import slicer
from scipy.spatial import cKDTree
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkCommonCore import vtkStringArray
from vtkmodules.vtkFiltersSources import vtkSphereSource
from vtkmodules.vtkIOGeometry import vtkSTLReader

from MedPrintLib import matrix_to_numpy, numpy_to_matrix
from MedPrintLib.segmentation_node import mask_from_segment, segment_to_mesh, set_segment_from_mask
from MedPrintLib.volume_node import add_volume_node, volume_from_node
from medprint.errors import InputError
from medprint.mesh import Mesh
from medprint.surface import mask_to_mesh
from medprint.volume import Volume

SHAPE = (14, 23, 19)  # [k, j, i], all different


@pytest.fixture
def scene(segmentations_logic):
    return segmentations_logic.GetMRMLScene()


@pytest.fixture
def mask() -> np.ndarray:
    """An ellipsoid with a bump and a one-voxel island, away from the borders."""
    k, j, i = np.mgrid[:SHAPE[0], :SHAPE[1], :SHAPE[2]]
    mask = ((k - 7) / 4.5) ** 2 + ((j - 11) / 8.0) ** 2 + ((i - 9) / 6.0) ** 2 <= 1.0
    mask[7, 11, 14:17] = True
    mask[2, 3, 3] = True
    return mask


def _segmentation(scene):
    node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Segmentation")
    node.CreateDefaultDisplayNodes()
    return node


def _slicer_voxels_ras(segmentation, segment_id) -> np.ndarray:
    """RAS world positions of the segment's voxels, computed from Slicer's own labelmap geometry."""
    labelmap = slicer.vtkOrientedImageData()
    segmentation.GetBinaryLabelmapRepresentation(segment_id, labelmap)
    extent = labelmap.GetExtent()
    dims = [extent[1] - extent[0] + 1, extent[3] - extent[2] + 1, extent[5] - extent[4] + 1]
    values = vtk_to_numpy(labelmap.GetPointData().GetScalars()).reshape(dims[::-1])
    k, j, i = np.nonzero(values)
    ijk = np.stack([i + extent[0], j + extent[2], k + extent[4], np.ones_like(i)]).astype(float)
    from vtkmodules.vtkCommonMath import vtkMatrix4x4

    matrix = vtkMatrix4x4()
    labelmap.GetImageToWorldMatrix(matrix)
    return (matrix_to_numpy(matrix) @ ijk)[:3].T


def test_mask_round_trip_on_an_oblique_grid(scene, mask, oblique_ijk_to_lps):
    segmentation = _segmentation(scene)
    segment_id = set_segment_from_mask(segmentation, mask, oblique_ijk_to_lps, "bone")
    assert segmentation.GetSegmentation().GetSegment(segment_id).GetName() == "bone"
    back = mask_from_segment(segmentation, segment_id, oblique_ijk_to_lps, SHAPE)
    assert back.dtype == bool and back.shape == SHAPE
    assert np.array_equal(back, mask)


def test_voxels_land_at_their_patient_positions_in_slicer(scene, mask, oblique_ijk_to_lps):
    """Every voxel of the segment, placed by Slicer's own image-to-world matrix, is at the RAS
    position of the same voxel of the core's volume (LPS with x, y negated)."""
    segmentation = _segmentation(scene)
    segment_id = set_segment_from_mask(segmentation, mask, oblique_ijk_to_lps, "bone")
    ras_slicer = _slicer_voxels_ras(segmentation, segment_id)
    k, j, i = np.nonzero(mask)
    volume = Volume(np.zeros(SHAPE, np.int16), oblique_ijk_to_lps)
    lps_core = volume.index_to_lps(np.stack([i, j, k], axis=1).astype(float))
    assert len(ras_slicer) == len(lps_core) == mask.sum()
    ours = {tuple(p) for p in np.round(lps_core * [-1, -1, 1], 6)}
    theirs = {tuple(p) for p in np.round(ras_slicer, 6)}
    assert ours == theirs


def test_export_matches_slicers_own_labelmap_export(scene, segmentations_logic, mask, oblique_ijk_to_lps):
    """Slicer's 'Export to labelmap' onto the CT's grid and MedPrint's mask_from_segment agree voxel for
    voxel, for a segment Slicer made itself from a closed surface (not from our mask)."""
    rng = np.random.default_rng(3)
    ct = Volume(rng.integers(-1000, 2000, size=SHAPE).astype(np.int16), oblique_ijk_to_lps)
    ct_node = add_volume_node(scene, ct, name="CT")
    center_ras = (ct.ijk_to_ras @ [9.0, 11.0, 7.0, 1.0])[:3]
    sphere = vtkSphereSource()
    sphere.SetCenter(*center_ras)
    sphere.SetRadius(6.0)
    sphere.SetThetaResolution(32)
    sphere.SetPhiResolution(32)
    sphere.Update()
    model = scene.AddNewNodeByClass("vtkMRMLModelNode", "ball")
    model.SetAndObservePolyData(sphere.GetOutput())
    segmentation = _segmentation(scene)
    segmentation.SetReferenceImageGeometryParameterFromVolumeNode(ct_node)
    assert segmentations_logic.ImportModelToSegmentationNode(model, segmentation, "")
    segment_id = segmentation.GetSegmentation().GetNthSegmentID(0)

    ids = vtkStringArray()
    ids.InsertNextValue(segment_id)
    labelmap_node = scene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode", "exported")
    assert segmentations_logic.ExportSegmentsToLabelmapNode(segmentation, ids, labelmap_node, ct_node)
    slicer_export = volume_from_node(labelmap_node)
    assert np.allclose(slicer_export.ijk_to_lps, ct.ijk_to_lps, atol=1e-6)  # on the CT's grid
    ours = mask_from_segment(segmentation, segment_id, ct.ijk_to_lps, ct.shape)
    theirs = slicer_export.array > 0
    assert theirs.sum() > 50
    assert np.array_equal(ours, theirs)
    # and the ball is where it was put: the voxel centroid within one voxel of the sphere centre
    k, j, i = np.nonzero(ours)
    centroid_ras = (ct.ijk_to_ras @ [i.mean(), j.mean(), k.mean(), 1.0])[:3]
    assert np.linalg.norm(centroid_ras - center_ras) < ct.spacing.max()


def test_segment_on_a_finer_grid_is_resampled_onto_the_volume(scene, oblique_ijk_to_lps):
    """A segment painted at half the voxel size comes back on the volume's grid (nearest neighbour)."""
    fine = oblique_ijk_to_lps.copy()
    fine[:3, :3] /= 2.0
    fine[:3, 3] -= 0.25 * oblique_ijk_to_lps[:3, :3].sum(axis=1)  # fine voxel centres inside coarse voxels
    coarse = np.zeros(SHAPE, bool)
    coarse[4:9, 6:15, 5:12] = True
    fine_mask = coarse.repeat(2, 0).repeat(2, 1).repeat(2, 2)
    segmentation = _segmentation(scene)
    segment_id = set_segment_from_mask(segmentation, fine_mask, fine, "fine")
    back = mask_from_segment(segmentation, segment_id, oblique_ijk_to_lps, SHAPE)
    assert np.array_equal(back, coarse)


def test_linear_parent_transform_keeps_world_positions(scene, mask, oblique_ijk_to_lps):
    transform = scene.AddNewNodeByClass("vtkMRMLLinearTransformNode")
    shift = np.eye(4)
    shift[:3, 3] = [12.0, -7.5, 30.0]
    transform.SetMatrixTransformToParent(numpy_to_matrix(shift))
    segmentation = _segmentation(scene)
    segmentation.SetAndObserveTransformNodeID(transform.GetID())
    segment_id = set_segment_from_mask(segmentation, mask, oblique_ijk_to_lps, "bone")
    assert np.array_equal(mask_from_segment(segmentation, segment_id, oblique_ijk_to_lps, SHAPE), mask)
    local = _slicer_voxels_ras(segmentation, segment_id)  # node coordinates: world minus the shift
    k, j, i = np.nonzero(mask)
    world = (np.diag([-1, -1, 1, 1]) @ oblique_ijk_to_lps @ np.stack([i, j, k, np.ones_like(i)]))[:3].T
    assert {tuple(p) for p in np.round(local + shift[:3, 3], 6)} == {tuple(p) for p in np.round(world, 6)}


def test_segments_sharing_a_layer_are_read_one_by_one(scene, oblique_ijk_to_lps):
    a = np.zeros(SHAPE, bool)
    a[2:6, 3:9, 2:8] = True
    b = np.zeros(SHAPE, bool)
    b[8:12, 10:20, 9:16] = True
    segmentation = _segmentation(scene)
    id_a = set_segment_from_mask(segmentation, a, oblique_ijk_to_lps, "a")
    id_b = set_segment_from_mask(segmentation, b, oblique_ijk_to_lps, "b")
    segmentation.GetSegmentation().CollapseBinaryLabelmaps(False)
    assert segmentation.GetSegmentation().GetNumberOfLayers() == 1
    assert np.array_equal(mask_from_segment(segmentation, id_a, oblique_ijk_to_lps, SHAPE), a)
    assert np.array_equal(mask_from_segment(segmentation, id_b, oblique_ijk_to_lps, SHAPE), b)

    b2 = np.zeros(SHAPE, bool)
    b2[1:3, 1:3, 12:15] = True
    assert set_segment_from_mask(segmentation, b2, oblique_ijk_to_lps, "ignored", segment_id=id_b) == id_b
    assert np.array_equal(mask_from_segment(segmentation, id_b, oblique_ijk_to_lps, SHAPE), b2)
    assert np.array_equal(mask_from_segment(segmentation, id_a, oblique_ijk_to_lps, SHAPE), a)
    assert segmentation.GetSegmentation().GetNumberOfSegments() == 2


def test_closed_surface_is_slicers_and_matches_the_core_surface(scene, mask, oblique_ijk_to_lps, tmp_path):
    """segment_to_mesh gives Slicer's closed surface (same triangles as Slicer's own STL export), which
    encloses the same volume as the core's surface of the same mask."""
    segmentation = _segmentation(scene)
    segmentation.GetSegmentation().SetConversionParameter("Smoothing factor", "0.5")
    segment_id = set_segment_from_mask(segmentation, mask, oblique_ijk_to_lps, "bone")
    mesh = segment_to_mesh(segmentation, segment_id)
    assert mesh.space == "RAS" and mesh.triangle_count > 500

    assert slicer.vtkSlicerSegmentationsModuleLogic.ExportSegmentsClosedSurfaceRepresentationToFiles(
        str(tmp_path), segmentation, None, "STL", True, 1.0, False)  # LPS files, as Slicer writes them
    reader = vtkSTLReader()
    reader.SetFileName(str(next(tmp_path.glob("*.stl"))))
    reader.Update()
    from_slicer = Mesh.from_polydata(reader.GetOutput(), space="LPS")
    ours = mesh.in_space("LPS")
    # the exporter drops a few degenerate triangles; every vertex it wrote is one of ours (float32)
    assert abs(from_slicer.triangle_count - ours.triangle_count) <= 0.01 * ours.triangle_count
    distances, _ = cKDTree(ours.vertices).query(from_slicer.vertices)
    assert distances.max() < 1e-3
    assert from_slicer.volume_mm3() == pytest.approx(ours.volume_mm3(), rel=1e-4)

    core = mask_to_mesh(mask, oblique_ijk_to_lps, smoothing=0.5)
    voxel_mm3 = abs(np.linalg.det(oblique_ijk_to_lps[:3, :3]))
    assert ours.volume_mm3() == pytest.approx(core.volume_mm3(), rel=0.05)
    assert ours.volume_mm3() == pytest.approx(mask.sum() * voxel_mm3, rel=0.15)


def test_plain_messages_for_wrong_input(scene, mask, oblique_ijk_to_lps):
    segmentation = _segmentation(scene)
    with pytest.raises(InputError, match="segmentation"):
        set_segment_from_mask(scene.AddNewNodeByClass("vtkMRMLModelNode"), mask, oblique_ijk_to_lps, "x")
    with pytest.raises(InputError, match="empty"):
        set_segment_from_mask(segmentation, np.zeros(SHAPE, bool), oblique_ijk_to_lps, "x")
    with pytest.raises(InputError, match="no segment"):
        mask_from_segment(segmentation, "nope", oblique_ijk_to_lps, SHAPE)
    with pytest.raises(InputError, match="no segment"):
        segment_to_mesh(segmentation, "nope")
    empty_id = segmentation.GetSegmentation().AddEmptySegment("empty")
    assert not mask_from_segment(segmentation, empty_id, oblique_ijk_to_lps, SHAPE).any()
    with pytest.raises(InputError, match="empty"):
        segment_to_mesh(segmentation, empty_id)
