"""``vtkMRMLScalarVolumeNode`` <-> ``medprint.volume.Volume``.

The node keeps its geometry in IJKToRAS (its ``vtkImageData`` has origin 0 and spacing 1); a
``Volume`` keeps ``ijk_to_lps``. Arrays are ``[k, j, i]``, the order of ``slicer.util.arrayFromVolume``.
Voxel values are copied both ways, so the node and the ``Volume`` never share memory.
"""

import numpy as np
from vtkmodules.util import numpy_support
from vtkmodules.vtkCommonDataModel import vtkImageData
from vtkmodules.vtkCommonMath import vtkMatrix4x4

from medprint.coords import flip_matrix
from medprint.errors import InputError
from medprint.volume import SourceInfo, Volume

from . import matrix_to_numpy, node_to_world_matrix, numpy_to_matrix


def volume_from_node(node, source: SourceInfo = SourceInfo(), warnings: tuple[str, ...] = ()) -> Volume:
    """The voxels and world geometry (LPS mm) of a scalar volume node as a ``Volume`` that records
    ``source`` and ``warnings`` (see ``MedPrintLib.dicom_source``).

    A linear parent transform is applied to the geometry (the voxels are not resampled).
    No node name or attribute goes into the ``Volume``: names can hold patient data.
    """
    if node is None or not node.IsA("vtkMRMLScalarVolumeNode"):
        raise InputError("Select a scalar volume (for example a CT) as input.")
    image = node.GetImageData()
    scalars = image.GetPointData().GetScalars() if image is not None else None
    if scalars is None or image.GetNumberOfPoints() == 0:
        raise InputError(f"The volume '{node.GetName()}' holds no image data.", hint="load the series again")
    if scalars.GetNumberOfComponents() != 1:
        raise InputError(
            f"The volume '{node.GetName()}' has {scalars.GetNumberOfComponents()} values per voxel "
            "(a colour or vector image); MedPrint needs a greyscale volume such as a CT.")
    ni, nj, nk = image.GetDimensions()
    array = numpy_support.vtk_to_numpy(scalars).reshape(nk, nj, ni).copy()

    ijk_to_ras = vtkMatrix4x4()
    node.GetIJKToRASMatrix(ijk_to_ras)
    local = matrix_to_numpy(ijk_to_ras)
    extent_start = np.eye(4)  # an extent that does not start at 0 shifts index 0 of the array
    extent_start[:3, 3] = image.GetExtent()[0::2]
    ijk_to_world_ras = node_to_world_matrix(node) @ local @ extent_start
    return Volume(array=array, ijk_to_lps=flip_matrix(ijk_to_world_ras), source=source, warnings=tuple(warnings))


def volume_to_node(volume: Volume, node):
    """Write ``volume`` (voxels and geometry) into an existing scalar volume node; returns the node.

    If the node is under a linear transform, its IJKToRAS is set so that the voxels land at the
    ``Volume``'s world positions. Raises ``InputError`` for a sheared grid, which a volume node
    cannot represent.
    """
    if node is None or not node.IsA("vtkMRMLScalarVolumeNode"):
        raise InputError("The output must be a scalar volume node.")
    ijk_to_ras = np.linalg.inv(node_to_world_matrix(node)) @ flip_matrix(volume.ijk_to_lps)
    axes = ijk_to_ras[:3, :3] / np.linalg.norm(ijk_to_ras[:3, :3], axis=0)
    if not np.allclose(axes.T @ axes, np.eye(3), atol=1e-6):
        raise InputError("The volume's voxel grid is sheared, which Slicer cannot show.",
                         hint="resample it onto an orthogonal grid first")

    array = volume.array
    if array.dtype == bool:
        array = array.astype(np.uint8)
    array = np.ascontiguousarray(array)
    nk, nj, ni = array.shape
    image = vtkImageData()
    image.SetDimensions(ni, nj, nk)
    vtk_array = numpy_support.numpy_to_vtk(array.ravel(), deep=True)
    vtk_array.SetName("ImageScalars")
    image.GetPointData().SetScalars(vtk_array)

    was_modifying = node.StartModify()
    node.SetIJKToRASMatrix(numpy_to_matrix(ijk_to_ras))
    node.SetAndObserveImageData(image)
    node.EndModify(was_modifying)
    return node


def add_volume_node(scene, volume: Volume, name: str = "Volume"):
    """A new scalar volume node in ``scene`` holding ``volume``, with default display settings."""
    node = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", name)
    volume_to_node(volume, node)
    node.CreateDefaultDisplayNodes()
    return node


__all__ = ["volume_from_node", "volume_to_node", "add_volume_node"]
