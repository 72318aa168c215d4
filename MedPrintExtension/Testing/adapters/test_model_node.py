"""T1: MedPrintLib.model_node against Slicer's real MRML classes (PyPI slicer-core, no Qt).

The reference for "LPS on disk" is Slicer's own vtkMRMLModelStorageNode, not our writer.
"""

import numpy as np
import pytest
import slicer
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkFiltersSources import vtkSphereSource
from vtkmodules.vtkIOGeometry import vtkSTLReader

from MedPrintLib import numpy_to_matrix
from MedPrintLib.model_node import add_model_node, mesh_from_model_node, mesh_to_model_node
from medprint.errors import InputError
from medprint.mesh import Mesh


@pytest.fixture
def scene():
    return slicer.vtkMRMLScene()


@pytest.fixture
def mesh_lps() -> Mesh:
    """A closed, outward-wound sphere (r = 12 mm) off the origin in all three axes, in LPS."""
    source = vtkSphereSource()
    source.SetCenter(31.5, -47.25, 102.0)
    source.SetRadius(12.0)
    source.SetThetaResolution(24)
    source.SetPhiResolution(16)
    source.Update()
    mesh = Mesh.from_polydata(source.GetOutput(), space="LPS")
    assert mesh.is_watertight() and mesh.volume_mm3() > 0
    return mesh


def _node_points(node) -> np.ndarray:
    return vtk_to_numpy(node.GetPolyData().GetPoints().GetData()).astype(float)


def test_lps_mesh_lands_in_the_node_as_ras(scene, mesh_lps):
    node = add_model_node(scene, mesh_lps, name="model")
    points = _node_points(node)
    assert np.array_equal(points, mesh_lps.vertices * [-1.0, -1.0, 1.0])  # x, y negated, exactly
    assert node.GetPolyData().GetNumberOfPolys() == mesh_lps.triangle_count
    assert node.GetDisplayNode() is not None


def test_round_trip_keeps_vertices_and_triangles(scene, mesh_lps):
    node = add_model_node(scene, mesh_lps)
    back = mesh_from_model_node(node)
    assert back.space == "RAS"
    assert np.array_equal(back.in_space("LPS").vertices, mesh_lps.vertices)
    assert np.array_equal(back.faces, mesh_lps.faces)
    assert back.is_watertight()
    assert back.volume_mm3() == pytest.approx(mesh_lps.volume_mm3(), rel=1e-12)  # winding kept


def test_ras_mesh_is_written_unchanged(scene, mesh_lps):
    mesh_ras = mesh_lps.in_space("RAS")
    node = scene.AddNewNodeByClass("vtkMRMLModelNode")
    mesh_to_model_node(mesh_ras, node, normals=False)
    assert np.array_equal(_node_points(node), mesh_ras.vertices)


def test_slicer_writes_our_lps_vertices_to_an_lps_stl(scene, mesh_lps, tmp_path):
    """What Slicer's model storage node writes in LPS (its default for files) equals our LPS mesh."""
    node = add_model_node(scene, mesh_lps)
    storage = slicer.vtkMRMLModelStorageNode()
    storage.SetCoordinateSystem(slicer.vtkMRMLStorageNode.CoordinateSystemLPS)
    path = tmp_path / "model.stl"
    storage.SetFileName(str(path))
    assert storage.WriteData(node)
    assert b"SPACE=LPS" in path.read_bytes()[:80]

    reader = vtkSTLReader()  # a plain VTK reader: no coordinate conversion on the way back
    reader.SetFileName(str(path))
    reader.Update()
    on_disk = Mesh.from_polydata(reader.GetOutput(), space="LPS")
    assert on_disk.triangle_count == mesh_lps.triangle_count
    ours = mesh_lps.vertices[mesh_lps.faces]       # (m, 3 corners, xyz), triangle order as written
    theirs = on_disk.vertices[on_disk.faces]
    assert np.abs(theirs - ours).max() < 1e-4     # float32 STL
    assert on_disk.volume_mm3() == pytest.approx(mesh_lps.volume_mm3(), rel=1e-5)  # outward, not flipped


def test_slicer_reads_our_node_back_from_its_own_lps_file(scene, mesh_lps, tmp_path):
    node = add_model_node(scene, mesh_lps)
    path = tmp_path / "model.vtk"
    writer = slicer.vtkMRMLModelStorageNode()
    writer.SetFileName(str(path))  # default coordinate system for files: LPS
    assert writer.WriteData(node)
    read = scene.AddNewNodeByClass("vtkMRMLModelNode", "read")
    reader = slicer.vtkMRMLModelStorageNode()
    reader.SetFileName(str(path))
    assert reader.ReadData(read)
    mesh = mesh_from_model_node(read).in_space("LPS")
    assert np.abs(mesh.vertices - mesh_lps.vertices).max() < 1e-4
    assert np.array_equal(mesh.faces, mesh_lps.faces)


def test_linear_and_mirroring_parent_transforms(scene, mesh_lps):
    transform = scene.AddNewNodeByClass("vtkMRMLLinearTransformNode")
    mirror_shift = np.diag([-1.0, 1.0, 1.0, 1.0])  # a mirror reverses winding
    mirror_shift[:3, 3] = [5.0, 6.0, -7.0]
    transform.SetMatrixTransformToParent(numpy_to_matrix(mirror_shift))
    node = scene.AddNewNodeByClass("vtkMRMLModelNode")
    node.SetAndObserveTransformNodeID(transform.GetID())

    mesh_to_model_node(mesh_lps, node)  # stored so that the world positions are the mesh's
    world = mesh_from_model_node(node)
    assert np.allclose(world.in_space("LPS").vertices, mesh_lps.vertices, atol=1e-9)
    assert world.volume_mm3() == pytest.approx(mesh_lps.volume_mm3(), rel=1e-9)

    local = Mesh.from_polydata(node.GetPolyData(), space="RAS")
    assert local.volume_mm3() == pytest.approx(mesh_lps.volume_mm3(), rel=1e-9)  # outward in the node too


def test_normals_do_not_change_points_or_triangles(scene, mesh_lps):
    node = add_model_node(scene, mesh_lps)
    polydata = node.GetPolyData()
    assert polydata.GetPointData().GetNormals() is not None
    assert polydata.GetNumberOfPoints() == len(mesh_lps.vertices)


def test_empty_and_wrong_nodes_give_plain_messages(scene):
    with pytest.raises(InputError, match="is empty"):
        mesh_from_model_node(scene.AddNewNodeByClass("vtkMRMLModelNode", "nothing"))
    with pytest.raises(InputError, match="model"):
        mesh_from_model_node(scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode"))
    empty = Mesh(np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64))
    node = add_model_node(scene, empty)
    assert node.GetPolyData().GetNumberOfPoints() == 0


def test_what_the_module_logic_does_gives_a_closed_model_inside_the_volume(ct_dir):
    """MedPrintLogic.process without Qt: Slicer-read CT -> adapter -> make_model -> model node.
    (MedPrintTest checks the same inside Slicer on CTChest; it cannot run here.)"""
    from MedPrintLib.volume_node import volume_from_node
    from MedPrintLib.workflow_selftest import closed_surface_edges
    from medprint.pipeline import ModelSettings, make_model
    from slicer_reader import read_ct_with_slicer

    scene = slicer.vtkMRMLScene()
    volume_node = read_ct_with_slicer(scene, ct_dir / "abdomen-pancreas-ctcb001")  # Slicer's own reader
    result = make_model(volume_from_node(volume_node), ModelSettings(preset="bone", smoothing=0.5))
    node = add_model_node(scene, result.mesh, name="bone model")

    polydata = node.GetPolyData()
    assert polydata.GetNumberOfPolys() == result.mesh.triangle_count > 10000
    assert closed_surface_edges(polydata) == 0  # VTK's own count of open and non-manifold edges
    assert mesh_from_model_node(node).is_watertight()

    volume_bounds, model_bounds = [0.0] * 6, [0.0] * 6
    volume_node.GetRASBounds(volume_bounds)
    node.GetRASBounds(model_bounds)
    for axis in range(3):
        assert model_bounds[2 * axis] >= volume_bounds[2 * axis] - 1.0
        assert model_bounds[2 * axis + 1] <= volume_bounds[2 * axis + 1] + 1.0
