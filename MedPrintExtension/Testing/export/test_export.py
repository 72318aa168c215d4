"""Every export format, re-read by an independent reader, gives back the same parts, positions
(within 1e-4 mm, in the stated coordinate system) and colours."""

import zipfile
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import trimesh

from mesh_shapes import sphere
from medprint.errors import InputError
from medprint.export import COLORS, Part, write_each, write_parts

NS = {"m": "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"}


@pytest.fixture
def parts():
    bone = sphere(30.0, center=(-120.5, 80.25, 310.125), subdivisions=4)  # far from the origin: float32 matters
    guide = sphere(8.0, center=(-100.0, 60.0, 300.0), subdivisions=2)
    return [Part("case7-bone", bone, COLORS["bone"]), Part("case7-guide", guide, COLORS["guide"])]


def _same_points(got, want, tol=1e-4):
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= tol


@pytest.mark.parametrize("space", ["LPS", "RAS"])
@pytest.mark.parametrize("ascii_stl", [False, True])
def test_stl_round_trip(tmp_path, parts, space, ascii_stl):
    path = write_parts(parts, tmp_path / "all.stl", space=space, ascii_stl=ascii_stl)
    head = path.read_bytes()[:80]
    assert f"SPACE={space}".encode() in head
    assert head.startswith(b"solid") == ascii_stl
    tm = trimesh.load_mesh(path, process=False)
    want = np.concatenate([p.mesh.in_space(space).vertices[p.mesh.faces] for p in parts])
    _same_points(np.asarray(tm.triangles), want)
    lps_x = np.concatenate([p.mesh.vertices[p.mesh.faces] for p in parts])[..., 0].mean()  # about -119
    assert np.asarray(tm.triangles)[..., 0].mean() == pytest.approx(lps_x if space == "LPS" else -lps_x)


def test_obj_round_trip_with_materials(tmp_path, parts):
    path = write_parts(parts, tmp_path / "all.obj")
    assert (tmp_path / "all.mtl").exists()
    scene = trimesh.load(path, process=False)  # one geometry per material (= part)
    assert sorted(scene.geometry) == ["case7-bone", "case7-guide"]
    for part in parts:
        got = scene.geometry[part.name]
        _same_points(np.asarray(got.triangles), part.mesh.vertices[part.mesh.faces])
        diffuse = np.asarray(got.visual.material.diffuse)[:3]
        assert tuple(int(c) for c in diffuse) == part.color


def test_ply_round_trip_with_colours(tmp_path, parts):
    path = write_parts(parts, tmp_path / "all.ply", space="RAS")
    tm = trimesh.load(path, process=False)
    want = np.concatenate([p.mesh.in_space("RAS").vertices for p in parts])
    _same_points(np.asarray(tm.vertices), want, tol=1e-9)  # float64 on disk
    colors = np.asarray(tm.visual.vertex_colors)[:, :3]
    n = len(parts[0].mesh.vertices)
    assert (colors[:n] == parts[0].color).all() and (colors[n:] == parts[1].color).all()
    assert len(tm.faces) == sum(len(p.mesh.faces) for p in parts)


def test_3mf_named_coloured_objects_in_mm(tmp_path, parts):
    path = write_parts(parts, tmp_path / "case7.3mf")
    with zipfile.ZipFile(path) as z:
        assert {"[Content_Types].xml", "_rels/.rels", "3D/3dmodel.model"} <= set(z.namelist())
        rels = ET.fromstring(z.read("_rels/.rels"))
        assert rels[0].get("Target") == "/3D/3dmodel.model"
        model = ET.fromstring(z.read("3D/3dmodel.model"))
    assert model.get("unit") == "millimeter"
    bases = model.findall("m:resources/m:basematerials/m:base", NS)
    colours = {b.get("name"): b.get("displaycolor") for b in bases}
    objects = model.findall("m:resources/m:object", NS)
    assert [o.get("name") for o in objects] == ["case7-bone", "case7-guide"]
    items = model.findall("m:build/m:item", NS)
    assert sorted(i.get("objectid") for i in items) == sorted(o.get("id") for o in objects)  # one plate
    for obj, part in zip(objects, parts):
        base = bases[int(obj.get("pindex"))]
        assert base.get("displaycolor") == part.hex_color == colours[part.name]
        vertices = np.array([[float(v.get(a)) for a in "xyz"] for v in obj.findall("m:mesh/m:vertices/m:vertex", NS)])
        faces = np.array([[int(t.get(a)) for a in ("v1", "v2", "v3")]
                          for t in obj.findall("m:mesh/m:triangles/m:triangle", NS)])
        _same_points(vertices, part.mesh.vertices)
        assert np.array_equal(faces, part.mesh.faces)
    assert part.hex_color == "#6FB8D2"


def test_one_file_per_part(tmp_path, parts):
    paths = write_each(parts, tmp_path, "stl")
    assert [p.name for p in paths] == ["case7-bone.stl", "case7-guide.stl"]
    for path, part in zip(paths, parts):
        tm = trimesh.load_mesh(path, process=False)
        _same_points(np.asarray(tm.triangles), part.mesh.vertices[part.mesh.faces])


def test_bad_requests_are_refused(tmp_path, parts):
    with pytest.raises(InputError, match="not a mesh format"):
        write_parts(parts, tmp_path / "x.vtk")
    with pytest.raises(InputError, match="same name"):
        write_parts([parts[0], parts[0]], tmp_path / "x.3mf")
    with pytest.raises(InputError, match="no part"):
        write_parts([], tmp_path / "x.3mf")
    assert list(tmp_path.iterdir()) == []  # nothing half-written
