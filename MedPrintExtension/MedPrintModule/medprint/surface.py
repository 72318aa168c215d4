"""Labelmap -> closed, smoothed, outward-wound triangle surface (VTK), in LPS millimetres.

The mask is cropped to its bounding box and padded by one voxel so the surface closes at the volume
border. Contouring and smoothing run in voxel-index space, as Slicer's closed-surface conversion
does, and the result is mapped through the volume's IJK -> LPS affine. ``smoothing`` means what
Slicer's "smoothing factor" means: a windowed-sinc low-pass filter with pass band 10^(-4 x factor).
"""

from __future__ import annotations

import functools
from typing import Optional

import numpy as np

from .coords import apply_affine
from .errors import EmptyResultError, InputError
from .mesh import Mesh
from .progress import Progress, no_progress
from .segment import bounding_box

SMOOTHING_ITERATIONS = 20  # as Slicer: "ten or twenty iterations is all that is usually necessary"


def available_methods() -> tuple[str, ...]:
    """Contouring methods this VTK offers, preferred first.

    "flying-edges" (vtkDiscreteFlyingEdges3D, VTK >= 8.2, Slicer's default) gives closed manifold
    surfaces; "surface-nets" (vtkSurfaceNets3D, VTK >= 9.3) can pinch into a non-manifold edge where
    two voxels touch only along an edge (seen on real CT bone), so it is offered, not preferred;
    "marching-cubes" (vtkDiscreteMarchingCubes) is the fallback for any VTK.
    """
    from vtkmodules import vtkFiltersCore, vtkFiltersGeneral

    methods = []
    if hasattr(vtkFiltersGeneral, "vtkDiscreteFlyingEdges3D"):
        methods.append("flying-edges")
    if hasattr(vtkFiltersCore, "vtkSurfaceNets3D"):
        methods.append("surface-nets")
    methods.append("marching-cubes")
    return tuple(methods)


def use_threads() -> None:
    """Let VTK's threaded filters use every core when its SMP backend is the sequential one.

    PyPI's VTK starts with the "Sequential" backend; Slicer's own VTK is built with TBB and is left
    as it is.
    """
    from vtkmodules.vtkCommonCore import vtkSMPTools

    if vtkSMPTools.GetBackend() == "Sequential" and vtkSMPTools.SetBackend("STDThread"):
        vtkSMPTools.Initialize(0)


def mask_to_mesh(mask: np.ndarray, ijk_to_lps: np.ndarray, smoothing: float = 0.5,
                 target_triangles: Optional[int] = None, method: str = "auto",
                 progress: Optional[Progress] = None) -> Mesh:
    """Closed surface of the True voxels of ``mask[k, j, i]``; vertices in LPS mm, normals outward.

    ``smoothing`` 0..1 (Slicer's smoothing factor); ``target_triangles`` decimates to about that many
    triangles; ``method`` one of ``available_methods()`` or "auto" (the first of them).
    """
    progress = progress or no_progress
    if not 0.0 <= smoothing <= 1.0:
        raise InputError(f"The smoothing factor {smoothing:g} is outside 0–1.")
    methods = available_methods()
    if method == "auto":
        method = methods[0]
    elif method not in methods:
        raise InputError(f"The surface method '{method}' is not available with this VTK.",
                         hint=f"use one of {', '.join(methods)}")
    box = bounding_box(mask)
    if box is None:
        raise EmptyResultError("The segmentation is empty, so there is no surface to make.",
                               hint="check the threshold range")
    labels = np.zeros(tuple(s.stop - s.start + 2 for s in box), dtype=bool)  # padded: closes at borders
    labels[1:-1, 1:-1, 1:-1] = mask[box]
    offset_ijk = np.array([box[2].start, box[1].start, box[0].start], dtype=float) - 1.0

    use_threads()
    progress(0.1, f"contouring ({method})")
    polydata = _contour(labels, method)
    if smoothing > 0:
        progress(0.4, "smoothing")
        polydata = _smooth(polydata, smoothing)
    if target_triangles and polydata.GetNumberOfPolys() > target_triangles:
        progress(0.7, f"decimating to {target_triangles} triangles")
        polydata = _decimate(polydata, target_triangles)
    progress(0.9, "placing in patient space")
    mesh = Mesh.from_polydata(polydata)
    vertices = apply_affine(ijk_to_lps, mesh.vertices + offset_ijk)
    faces = mesh.faces
    # winding = the filter's own convention, mirrored if the IJK -> LPS matrix is left-handed
    if _winds_outward(method) != (np.linalg.det(ijk_to_lps[:3, :3]) > 0):
        faces = faces[:, ::-1]
    progress(1.0, f"{len(faces)} triangles")
    return Mesh(vertices, faces, "LPS")


@functools.lru_cache(maxsize=None)
def _winds_outward(method: str) -> bool:
    """Whether ``method`` winds faces outward in index space, found once on a single-voxel probe
    (filters and VTK versions differ, and measuring the probe costs microseconds)."""
    probe = np.zeros((3, 3, 3), dtype=bool)
    probe[1, 1, 1] = True
    return Mesh.from_polydata(_contour(probe, method)).volume_mm3() > 0


def _image(labels: np.ndarray):
    """A C-contiguous bool ``labels[k, j, i]`` as uint8 vtkImageData with unit spacing at the origin
    (x = i, y = j, z = k). The image shares the array's memory: keep the array alive while it is used."""
    from vtkmodules.util.numpy_support import numpy_to_vtk
    from vtkmodules.vtkCommonDataModel import vtkImageData

    image = vtkImageData()
    image.SetDimensions(labels.shape[2], labels.shape[1], labels.shape[0])
    image.GetPointData().SetScalars(numpy_to_vtk(labels.view(np.uint8).ravel(), deep=False))
    return image


def _contour(labels: np.ndarray, method: str):
    image = _image(labels)
    if method == "surface-nets":
        from vtkmodules.vtkFiltersCore import vtkSurfaceNets3D

        nets = vtkSurfaceNets3D()
        nets.SetInputData(image)
        nets.SetValue(0, 1)
        nets.SmoothingOff()  # smoothed below like Slicer's factor
        nets.SetOutputMeshTypeToTriangles()
        nets.Update()
        return nets.GetOutput()
    if method == "flying-edges":
        from vtkmodules.vtkFiltersGeneral import vtkDiscreteFlyingEdges3D as Contour
    else:
        from vtkmodules.vtkFiltersGeneral import vtkDiscreteMarchingCubes as Contour
    contour = Contour()
    contour.SetInputData(image)
    contour.SetValue(0, 1)
    contour.ComputeGradientsOff()
    contour.ComputeNormalsOff()
    contour.ComputeScalarsOff()
    contour.Update()
    return contour.GetOutput()


def _smooth(polydata, smoothing: float):
    from vtkmodules.vtkFiltersCore import vtkWindowedSincPolyDataFilter

    smoother = vtkWindowedSincPolyDataFilter()
    smoother.SetInputData(polydata)
    smoother.SetNumberOfIterations(SMOOTHING_ITERATIONS)
    smoother.SetPassBand(10.0 ** (-4.0 * smoothing))
    smoother.BoundarySmoothingOff()
    smoother.FeatureEdgeSmoothingOff()
    smoother.NonManifoldSmoothingOn()
    smoother.NormalizeCoordinatesOn()
    smoother.Update()
    return smoother.GetOutput()


def _decimate(polydata, target_triangles: int):
    """Quadric decimation to about ``target_triangles``, preserving volume and closedness."""
    from vtkmodules.vtkFiltersCore import vtkQuadricDecimation

    decimator = vtkQuadricDecimation()
    decimator.SetInputData(polydata)
    decimator.SetTargetReduction(1.0 - target_triangles / polydata.GetNumberOfPolys())
    decimator.VolumePreservationOn()
    decimator.Update()
    return decimator.GetOutput()
