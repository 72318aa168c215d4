"""Segments of a ``vtkMRMLSegmentationNode`` <-> masks on a ``Volume``'s grid, and segments -> ``Mesh``.

A mask is a bool array ``[k, j, i]`` on the grid of a ``Volume`` (geometry ``ijk_to_lps``, mm). A
segment's binary labelmap is a ``vtkOrientedImageData`` whose image-to-node matrix is RAS; Slicer's
own resampler (``vtkOrientedImageDataResample``, what *Export to labelmap* uses) maps it onto the
volume's grid, nearest neighbour. A segmentation under a linear parent transform is read and written
in world coordinates; a warping one is refused. Needs Slicer's segmentation converter rules (the
Segmentations module registers them at start-up).
"""

import numpy as np
import slicer
from vtkmodules.util import numpy_support
from vtkmodules.vtkCommonCore import VTK_UNSIGNED_CHAR
from vtkmodules.vtkCommonDataModel import vtkPolyData

from medprint.coords import flip_matrix
from medprint.errors import InputError
from medprint.mesh import Mesh
from medprint.segment import bounding_box

from . import node_to_world_matrix, numpy_to_matrix, transformed_mesh


def _oriented_image(mask: np.ndarray, image_to_node_ras: np.ndarray, start_ijk=(0, 0, 0)):
    """A uint8 ``vtkOrientedImageData`` of ``mask[k, j, i]`` placed by ``image_to_node_ras``, its first
    voxel at index ``start_ijk`` of that grid (an extent, as Slicer keeps a segment's bounding box)."""
    mask = np.ascontiguousarray(mask, dtype=np.uint8)
    nk, nj, ni = mask.shape
    i0, j0, k0 = (int(v) for v in start_ijk)
    image = slicer.vtkOrientedImageData()
    image.SetExtent(i0, i0 + ni - 1, j0, j0 + nj - 1, k0, k0 + nk - 1)
    image.AllocateScalars(VTK_UNSIGNED_CHAR, 1)
    numpy_support.vtk_to_numpy(image.GetPointData().GetScalars())[:] = mask.ravel()
    image.SetImageToWorldMatrix(numpy_to_matrix(image_to_node_ras))
    return image


def _check(segmentation_node, segment_id: str = None):
    if segmentation_node is None or not segmentation_node.IsA("vtkMRMLSegmentationNode"):
        raise InputError("Select a segmentation.")
    if segment_id is not None and segmentation_node.GetSegmentation().GetSegment(segment_id) is None:
        raise InputError(f"The segmentation '{segmentation_node.GetName()}' has no segment '{segment_id}'.",
                         hint="choose a segment in the Segment step")


def set_segment_from_mask(segmentation_node, mask: np.ndarray, ijk_to_lps: np.ndarray, name: str,
                          color=(0.89, 0.85, 0.79), segment_id: str = "") -> str:
    """Write ``mask`` (bool ``[k, j, i]`` on a grid with ``ijk_to_lps``) into a segment; returns its ID.

    With ``segment_id`` of an existing segment its voxels are replaced; otherwise a new segment
    ``name`` is added. The mask's voxels land at their patient positions in the scene (RAS).
    """
    _check(segmentation_node)
    mask = np.asarray(mask)
    box = bounding_box(mask) if mask.ndim == 3 else None
    if box is None:
        raise InputError("The segment would be empty.", hint="check the threshold range")
    image_to_node = np.linalg.inv(node_to_world_matrix(segmentation_node)) @ flip_matrix(ijk_to_lps)
    image = _oriented_image(mask[box], image_to_node, (box[2].start, box[1].start, box[0].start))  # its box only
    segmentation = segmentation_node.GetSegmentation()
    if segment_id and segmentation.GetSegment(segment_id) is not None:
        logic = slicer.vtkSlicerSegmentationsModuleLogic
        if not logic.SetBinaryLabelmapToSegment(image, segmentation_node, segment_id, logic.MODE_REPLACE):
            raise InputError(f"The segment '{segment_id}' could not be replaced.")
        return segment_id
    new_id = segmentation_node.AddSegmentFromBinaryLabelmapRepresentation(image, name, list(color))
    if not new_id:
        raise InputError("Slicer could not add the segment.",
                         hint="the Segmentations module is needed (its converter rules are missing)")
    return new_id


def mask_from_segment(segmentation_node, segment_id: str, ijk_to_lps: np.ndarray, shape_kji) -> np.ndarray:
    """The segment's voxels as a bool mask ``[k, j, i]`` of ``shape_kji`` on the grid ``ijk_to_lps``.

    Voxels outside the grid are dropped; an oblique or finer segment is resampled (nearest neighbour)
    by Slicer's own resampler.
    """
    _check(segmentation_node, segment_id)
    labelmap = slicer.vtkOrientedImageData()
    segmentation_node.GetBinaryLabelmapRepresentation(segment_id, labelmap)
    world = node_to_world_matrix(segmentation_node)
    if not np.allclose(world, np.eye(4)):
        from vtkmodules.vtkCommonTransforms import vtkTransform

        transform = vtkTransform()
        transform.SetMatrix(numpy_to_matrix(world))
        slicer.vtkOrientedImageDataResample.TransformOrientedImage(labelmap, transform)
    reference = slicer.vtkOrientedImageData()  # the grid only: the resampler reads no voxels of it
    reference.SetExtent(0, shape_kji[2] - 1, 0, shape_kji[1] - 1, 0, shape_kji[0] - 1)
    reference.SetImageToWorldMatrix(numpy_to_matrix(flip_matrix(ijk_to_lps)))
    resampled = slicer.vtkOrientedImageData()
    if labelmap.GetPointData().GetScalars() is None or labelmap.IsEmpty():
        return np.zeros(tuple(shape_kji), dtype=bool)
    slicer.vtkOrientedImageDataResample.ResampleOrientedImageToReferenceOrientedImage(
        labelmap, reference, resampled, False)
    scalars = resampled.GetPointData().GetScalars()
    extent = resampled.GetExtent()
    dims = [extent[1] - extent[0] + 1, extent[3] - extent[2] + 1, extent[5] - extent[4] + 1]
    array = numpy_support.vtk_to_numpy(scalars).reshape(dims[::-1]) > 0
    if tuple(extent) == reference.GetExtent():
        return array
    mask = np.zeros(tuple(shape_kji), dtype=bool)  # place the resampled extent inside the grid
    lo = [max(extent[2 * a], 0) for a in range(3)]
    hi = [min(extent[2 * a + 1] + 1, shape_kji[2 - a]) for a in range(3)]
    if all(l < h for l, h in zip(lo, hi)):
        mask[lo[2]:hi[2], lo[1]:hi[1], lo[0]:hi[0]] = array[
            lo[2] - extent[4]:hi[2] - extent[4], lo[1] - extent[2]:hi[1] - extent[2],
            lo[0] - extent[0]:hi[0] - extent[0]]
    return mask


def segment_to_mesh(segmentation_node, segment_id: str) -> Mesh:
    """The segment's closed surface as Slicer shows it in 3-D ("Show 3D", the segmentation's own
    smoothing factor), as a RAS ``Mesh`` in world coordinates (mm)."""
    _check(segmentation_node, segment_id)
    if not segmentation_node.CreateClosedSurfaceRepresentation():
        raise InputError("Slicer could not make a closed surface of the segmentation.",
                         hint="the Segmentations module is needed (its converter rules are missing)")
    surface = vtkPolyData()
    segmentation_node.GetClosedSurfaceRepresentation(segment_id, surface)
    mesh = Mesh.from_polydata(surface, space="RAS")
    if mesh.triangle_count == 0:
        raise InputError(f"The segment '{segment_id}' is empty.", hint="paint or threshold it in the Segment step")
    return transformed_mesh(mesh, node_to_world_matrix(segmentation_node))
