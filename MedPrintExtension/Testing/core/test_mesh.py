"""Mesh type, conversions and STL files: coordinates, header, closedness, atomic writes."""

import numpy as np
import pytest
import trimesh
from hypothesis import given, settings
from hypothesis import strategies as st

from medprint.mesh import Mesh, read_stl, write_stl


def _box(size=(10.0, 20.0, 30.0), origin=(5.0, -7.0, 100.0)) -> Mesh:
    tm = trimesh.creation.box(extents=size)
    tm.apply_translation(np.array(origin) + np.array(size) / 2)
    return Mesh.from_trimesh(tm, "LPS")


def test_volume_and_closedness_are_measured():
    box = _box()
    assert box.volume_mm3() == pytest.approx(6000.0)
    assert box.is_watertight()
    holed = Mesh(box.vertices, box.faces[1:], "LPS")
    assert not holed.is_watertight()
    flipped = box.faces.copy()
    flipped[0] = flipped[0, ::-1]
    assert not Mesh(box.vertices, flipped, "LPS").is_watertight()  # inconsistent winding
    inverted = Mesh(box.vertices, box.faces[:, ::-1], "LPS")
    assert inverted.volume_mm3() == pytest.approx(-6000.0)


def test_lps_ras_flip_keeps_winding_and_volume():
    box = _box()
    ras = box.in_space("RAS")
    np.testing.assert_allclose(ras.vertices[:, :2], -box.vertices[:, :2])
    np.testing.assert_allclose(ras.vertices[:, 2], box.vertices[:, 2])
    assert ras.volume_mm3() == pytest.approx(6000.0) and ras.is_watertight()
    assert ras.in_space("LPS").vertices.tolist() == box.vertices.tolist()


def test_polydata_round_trip():
    box = _box()
    back = Mesh.from_polydata(box.to_polydata(), "LPS")
    np.testing.assert_array_equal(back.vertices, box.vertices)
    np.testing.assert_array_equal(back.faces, box.faces)


def test_polydata_with_quads_is_triangulated():
    from vtkmodules.vtkFiltersSources import vtkCubeSource

    cube = vtkCubeSource()
    cube.SetXLength(2.0)
    cube.SetYLength(3.0)
    cube.SetZLength(4.0)
    cube.Update()
    mesh = Mesh.from_polydata(cube.GetOutput())
    assert mesh.triangle_count == 12
    assert abs(mesh.volume_mm3()) == pytest.approx(24.0)


@pytest.mark.parametrize("space", ["LPS", "RAS"])
def test_stl_has_slicers_space_header_and_exact_coordinates(tmp_path, space):
    box = _box()
    path = write_stl(box, tmp_path / "part.stl", space=space)
    header = path.read_bytes()[:80]
    assert header.startswith(b"MedPrint ") and f"SPACE={space}".encode() in header
    assert header.rstrip(b"\0").decode("ascii").split() == ["MedPrint", header.split()[1].decode(), f"SPACE={space}"]
    independent = trimesh.load_mesh(str(path), file_type="stl")
    expected = box.in_space(space).vertices
    assert independent.is_watertight and independent.volume == pytest.approx(6000.0, rel=1e-6)
    np.testing.assert_allclose(np.sort(independent.vertices, axis=0), np.sort(expected, axis=0), atol=1e-4)
    back = read_stl(path)
    assert back.space == space and back.is_watertight()
    np.testing.assert_allclose(back.in_space("LPS").vertices.min(axis=0), box.vertices.min(axis=0), atol=1e-4)


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    box = _box()
    target = tmp_path / "out.stl"

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("medprint.mesh.os.replace", broken)
    with pytest.raises(OSError, match="disk full"):
        write_stl(box, target)
    assert list(tmp_path.iterdir()) == []


def test_unreadable_stl(tmp_path):
    from medprint.errors import InputError

    path = tmp_path / "bad.stl"
    path.write_bytes(b"solid x\nfacet normal garbage\n")
    with pytest.raises(InputError, match="not a readable STL"):
        read_stl(path)


def test_an_edge_shared_by_four_triangles_is_not_watertight():
    """Two closed boxes touching along one edge: every edge has two faces except that one (four)."""
    one = trimesh.creation.box(extents=(1, 1, 1))
    two = trimesh.creation.box(extents=(1, 1, 1))
    two.apply_translation((1, 1, 0))
    joined = trimesh.util.concatenate([one, two])
    joined.merge_vertices()
    mesh = Mesh.from_trimesh(joined)
    assert Mesh.from_trimesh(one).is_watertight() and not mesh.is_watertight()
    assert mesh.volume_mm3() == pytest.approx(2.0)


def test_stl_facet_normals_are_unit_and_outward(tmp_path):
    box = _box()
    path = write_stl(box, tmp_path / "n.stl")
    records = np.frombuffer(path.read_bytes()[84:], dtype=[("n", "<f4", 3), ("v", "<f4", (3, 3)), ("a", "<u2")])
    assert len(records) == box.triangle_count
    np.testing.assert_allclose(np.linalg.norm(records["n"], axis=1), 1.0, atol=1e-6)
    centroid = box.vertices.mean(axis=0)
    outward = np.einsum("ij,ij->i", records["n"], records["v"].mean(axis=1) - centroid)
    assert np.all(outward > 0)


def _watertight_by_definition(faces: np.ndarray) -> bool:
    """Every undirected edge in exactly two faces, once in each direction (slow, obvious version)."""
    from collections import Counter

    directed = Counter((int(a), int(b)) for f in faces for a, b in ((f[0], f[1]), (f[1], f[2]), (f[2], f[0])))
    return len(faces) > 0 and all(n == 1 and directed.get((b, a)) == 1 for (a, b), n in directed.items())


@settings(max_examples=300, deadline=None)
@given(st.lists(st.permutations(range(5)).map(lambda p: p[:3]), min_size=1, max_size=12))
def test_watertight_check_agrees_with_the_definition(triangles):
    faces = np.array(triangles, dtype=np.int64)
    mesh = Mesh(np.random.default_rng(0).random((5, 3)), faces)
    assert mesh.is_watertight() == _watertight_by_definition(faces)


def test_watertight_check_on_closed_and_doubled_shells():
    tetra = np.array([[0, 2, 1], [0, 1, 3], [1, 2, 3], [0, 3, 2]])
    vertices = np.random.default_rng(1).random((4, 3))
    assert Mesh(vertices, tetra).is_watertight() and _watertight_by_definition(tetra)
    doubled = np.vstack([tetra, tetra])  # every edge twice in each direction
    assert not Mesh(vertices, doubled).is_watertight() and not _watertight_by_definition(doubled)
