"""Slicer side of MedPrint: MRML nodes <-> core types, the workflow panels, and first-use installs.

Adapters: ``volume_node`` (scalar volume <-> ``Volume``), ``segmentation_node`` (segment <-> mask, closed
surface), ``model_node`` (model <-> ``Mesh``), ``markups_plan`` (markups <-> guide plan), ``case_node``
(the parameter node <-> the case folder), ``register_form`` (the Register form's fields <-> the
clinician's answers), ``dependencies`` (packages Slicer lacks, installed with consent). They use only
MRML classes and VTK (no ``slicer.app``, no Qt), so they run both inside Slicer and on PyPI
``slicer-core``, where the tests exercise them.

Panels: ``model_panel``, ``guide_panel``, ``export_panel``, ``print_panel``, ``register_panel`` hold each
section's case actions (plain functions, exposed on ``MedPrintLogic``) and its widget handlers (given
the module widget as host); ``panel_widgets`` writes tables, choices and notes into Qt widgets with
Qt's C++ API only (so the tests run it on real Qt widgets); ``step_status`` (status lines),
``progress_dialog`` (cancellable long work), ``i18n`` (Slicer's ``tr``), ``workflow_selftest`` (what
``MedPrintTest`` runs in Slicer).

Coordinates: Slicer scenes are RAS, ``medprint`` types say which space they hold (mostly LPS); the
flip itself lives in ``medprint.coords``. A node under a *linear* parent transform is read and
written in world coordinates (as if the transform were hardened); a non-linear one is refused.
"""

import numpy as np

from medprint.errors import InputError


def matrix_to_numpy(vtk_matrix) -> np.ndarray:
    """A ``vtkMatrix4x4`` -> a 4x4 float64 array."""
    return np.array([[vtk_matrix.GetElement(r, c) for c in range(4)] for r in range(4)])


def numpy_to_matrix(array: np.ndarray):
    """A 4x4 array -> a new ``vtkMatrix4x4``."""
    from vtkmodules.vtkCommonMath import vtkMatrix4x4

    array = np.asarray(array, dtype=float)
    matrix = vtkMatrix4x4()
    for r in range(4):
        for c in range(4):
            matrix.SetElement(r, c, float(array[r, c]))
    return matrix


def node_to_world_matrix(node) -> np.ndarray:
    """4x4 RAS matrix from ``node``'s local coordinates to world (identity without a parent transform).

    Raises ``InputError`` when the node sits under a non-linear (warping) transform, which a
    matrix cannot express.
    """
    transform_node = node.GetParentTransformNode()
    if transform_node is None:
        return np.eye(4)
    if not transform_node.IsTransformToWorldLinear():
        raise InputError(
            f"'{node.GetName()}' is under a warping (non-linear) transform.",
            hint="harden the transform (Data module: right-click > Harden transform) and try again",
        )
    from vtkmodules.vtkCommonMath import vtkMatrix4x4

    matrix = vtkMatrix4x4()
    transform_node.GetMatrixTransformToWorld(matrix)
    return matrix_to_numpy(matrix)


def transformed_mesh(mesh, matrix: np.ndarray):
    """``mesh`` (a ``medprint.mesh.Mesh``) moved by a 4x4 affine in its own space; a mirroring matrix
    also reverses the winding, so closed meshes keep outward normals. The identity returns ``mesh``."""
    from medprint.coords import apply_affine
    from medprint.mesh import Mesh

    matrix = np.asarray(matrix, dtype=float)
    if np.allclose(matrix, np.eye(4)):
        return mesh
    faces = mesh.faces[:, ::-1] if np.linalg.det(matrix[:3, :3]) < 0 else mesh.faces
    return Mesh(apply_affine(matrix, mesh.vertices), faces, mesh.space)
