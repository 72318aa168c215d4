"""``medprint.mesh.Mesh`` <-> ``vtkMRMLModelNode``.

A model node's polydata is RAS (Slicer's scene space); a ``Mesh`` may be LPS or RAS and is
converted on the way in. Reading a node gives a RAS ``Mesh``; call ``.in_space("LPS")`` for files.
Points are copied, never shared, and their order and the triangles are kept as they are.
"""

import numpy as np

from medprint.errors import InputError
from medprint.mesh import Mesh

from . import node_to_world_matrix, transformed_mesh


def mesh_to_model_node(mesh: Mesh, node, normals: bool = True):
    """Write ``mesh`` into an existing model node (in RAS world coordinates); returns the node.

    ``normals`` adds point normals for smooth shading; the points and triangles stay exactly as in
    ``mesh`` (no splitting, no reordering). Under a linear parent transform the points are stored
    so that they land at the mesh's world positions.
    """
    if node is None or not node.IsA("vtkMRMLModelNode"):
        raise InputError("The output must be a model node.")
    ras = mesh.in_space("RAS")
    world_to_local = np.linalg.inv(node_to_world_matrix(node))
    ras = transformed_mesh(ras, world_to_local)
    polydata = ras.to_polydata()
    if normals and ras.triangle_count:
        from vtkmodules.vtkFiltersCore import vtkPolyDataNormals

        filt = vtkPolyDataNormals()
        filt.SetInputData(polydata)
        filt.ComputePointNormalsOn()
        filt.ComputeCellNormalsOff()
        filt.SplittingOff()
        filt.ConsistencyOff()
        filt.AutoOrientNormalsOff()
        filt.Update()
        polydata = filt.GetOutput()
    node.SetAndObservePolyData(polydata)
    return node


def add_model_node(scene, mesh: Mesh, name: str = "Model", color=(0.89, 0.85, 0.79)):
    """A new model node in ``scene`` holding ``mesh``, shown in 3-D and as slice outlines."""
    node = scene.AddNewNodeByClass("vtkMRMLModelNode", name)
    mesh_to_model_node(mesh, node)
    show_model(node, color)
    return node


def show_model(node, color=(0.89, 0.85, 0.79)):
    """Make sure ``node`` has a display node; set its colour (0..1 RGB) and slice outlines."""
    if node.GetDisplayNode() is None:
        node.CreateDefaultDisplayNodes()
    display = node.GetDisplayNode()
    display.SetColor(*color)
    display.SetVisibility2D(True)
    return display


def mesh_from_model_node(node) -> Mesh:
    """The triangles of a model node as a RAS ``Mesh`` in world coordinates (mm).

    Polygons are triangulated; lines and vertices are dropped. A linear parent transform is applied.
    """
    if node is None or not node.IsA("vtkMRMLModelNode"):
        raise InputError("Select a model as input.")
    polydata = node.GetPolyData()
    if polydata is None or polydata.GetNumberOfPoints() == 0:
        raise InputError(f"The model '{node.GetName()}' is empty.")
    mesh = Mesh.from_polydata(polydata, space="RAS")
    return transformed_mesh(mesh, node_to_world_matrix(node))

