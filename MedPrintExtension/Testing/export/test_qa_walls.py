"""QA's wall reading: sharp edges of thick parts are edges, not thin walls; thin fins (straight or
tapered) are still found, and a thin place's area is the area that reads thin."""

import manifold3d
import numpy as np
import pytest
import trimesh

from medprint.build_volume import printer_profile
from medprint.mesh import Mesh
from medprint.qa import NOT_PRINTABLE, PRINTABLE, WALL_FACING_DEG, QASettings, check_mesh, face_geometry
from medprint.rays import RayCaster

MK4 = QASettings(printer=printer_profile("prusa-mk4"))  # 0.8 mm minimum wall


def _mesh(solid, subdivisions: int = 0) -> Mesh:
    out = solid.to_mesh()
    tm = trimesh.Trimesh(np.asarray(out.vert_properties)[:, :3], np.asarray(out.tri_verts), process=False)
    for _ in range(subdivisions):
        tm = tm.subdivide()
    return Mesh(np.asarray(tm.vertices, float), np.asarray(tm.faces, np.int64))


def _prism(polygon, length: float, subdivisions: int) -> Mesh:
    """The polygon (counter-clockwise, mm) extruded ``length`` along z, finely meshed."""
    return _mesh(manifold3d.Manifold.extrude(manifold3d.CrossSection([polygon]), length), subdivisions)


def _box(lo, hi):
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    return manifold3d.Manifold.cube(tuple(hi - lo)).translate(tuple(lo))


def _naive_readings(mesh: Mesh) -> np.ndarray:
    """Inward ray lengths from every face centroid to the first face met (no rule applied)."""
    centroid, normal, _ = face_geometry(mesh)
    _, distance = RayCaster(mesh).first_hits(centroid, -normal, 1e-4, 10.0)
    return distance


@pytest.mark.parametrize("polygon, angle", [
    ([(0, 0), (10, 0), (5, 5 * np.sqrt(3))], 60.0),   # equilateral: three 60° edges
    ([(0, 0), (10, 0), (0, 10)], 45.0),                # right isosceles: two 45° edges, one 90°
])
def test_sharp_edges_of_a_thick_part_are_not_thin_walls(polygon, angle):
    prism = _prism(polygon, 20.0, 4)  # facets ~0.6 mm: centroids 0.1-0.3 mm from the edges
    assert angle > WALL_FACING_DEG
    # a plain inward ray from near an edge leaves through the other face after d * tan(angle):
    # read naively, the edges of this 10 mm part are far below the 0.8 mm limit
    naive = _naive_readings(prism)
    assert naive.min() < 0.4 and (naive < 0.8).sum() > 100
    report = check_mesh(prism, MK4)
    assert report.thin_regions == [] and not any("walls thinner" in r for r in report.reasons)
    assert report.min_wall_mm >= 5.0  # what it does read are real widths (or nothing: 10 mm cap)


def test_a_thin_fin_on_a_block_is_found_with_its_area():
    solid = _box((-10, -10, -10), (10, 10, 0)) + _box((-0.15, -3, 0), (0.15, 3, 5))  # 0.3 x 6 x 5 mm fin
    mesh = _mesh(solid)
    report = check_mesh(mesh, MK4)
    assert report.verdict == NOT_PRINTABLE and any("walls thinner than 0.8 mm" in r for r in report.reasons)
    assert len(report.thin_regions) == 1
    fin = report.thin_regions[0]
    assert fin["value"] == pytest.approx(0.3, abs=1e-4)
    assert fin["area_mm2"] == pytest.approx(2 * 6 * 5, abs=0.5)   # its two faces, not the block's
    assert fin["center_mm"][0] == pytest.approx(0.0, abs=0.2) and 0.0 <= fin["center_mm"][2] <= 5.0


def test_a_tapered_fin_is_found():
    # a blade 1.5 mm thick at its root tapering to an edge 6 mm up (14° included angle), 10 mm long
    blade = manifold3d.Manifold.extrude(manifold3d.CrossSection([[(-0.75, 0), (0.75, 0), (0, 6)]]), 10.0)
    blade = blade.rotate((90.0, 0.0, 0.0)).translate((0.0, 5.0, 0.0))  # profile in x-z, along y
    mesh = _mesh(_box((-10, -10, -10), (10, 10, 0)) + blade, 3)
    report = check_mesh(mesh, MK4)
    thin = [r for r in report.thin_regions if r["area_mm2"] >= MK4.thin_area_mm2]
    assert report.verdict == NOT_PRINTABLE and len(thin) == 1
    # the upper part of its flanks (where the blade is under 0.8 mm: above 2.8 mm) reads thin
    assert thin[0]["value"] < 0.3 and thin[0]["min_mm"][2] > 1.5 and thin[0]["max_mm"][2] == pytest.approx(6.0, abs=0.1)
    assert 2 * 10 * 3.2 * 0.7 < thin[0]["area_mm2"] < 2 * 10 * 3.2 * 1.3


def test_a_small_thin_tab_beside_large_faces_counts_its_own_area():
    # a 0.3 x 1 x 1 mm tab on a block meshed with large triangles: thin, but 2 mm² of it
    mesh = _mesh(_box((-10, -10, -10), (10, 10, 0)) + _box((-0.15, -0.5, 0), (0.15, 0.5, 1)))
    report = check_mesh(mesh, MK4)
    assert len(report.thin_regions) == 1
    tab = report.thin_regions[0]
    assert tab["value"] == pytest.approx(0.3, abs=1e-4)
    assert tab["area_mm2"] == pytest.approx(2.0, abs=0.1)   # its vertices' fans hold ~400 mm² of the block
    assert report.verdict == PRINTABLE  # listed, below the 4 mm² a thin place must cover to fail
