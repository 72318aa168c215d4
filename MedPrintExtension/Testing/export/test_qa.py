"""QA finds injected defects with the right count and place; a clean mesh reports none."""

import json

import numpy as np
import pytest

from mesh_shapes import join, plate, sphere
from medprint.build_volume import printer_profile
from medprint.mesh import Mesh
from medprint.qa import AFTER_REPAIR, NOT_PRINTABLE, PRINTABLE, QASettings, check_mesh, wall_thickness


def test_clean_sphere_reports_nothing(ball):
    report = check_mesh(ball)
    assert report.verdict == PRINTABLE and report.reasons == []
    assert report.watertight and report.shells == 1
    assert (report.boundary_edges, report.non_manifold_edges, report.misoriented_edges) == (0, 0, 0)
    assert (report.degenerate_faces, report.duplicate_faces, report.self_intersecting_faces) == (0, 0, 0)
    assert report.holes == report.inverted_shells == report.tiny_shells == report.thin_regions == []
    assert report.volume_mm3 == pytest.approx(4 / 3 * np.pi * 1000, rel=0.01)
    assert report.area_mm2 == pytest.approx(4 * np.pi * 100, rel=0.01)
    assert report.size_mm == pytest.approx([20, 20, 20], abs=0.1)
    assert report.min_wall_mm == pytest.approx(10.0)  # a 20 mm ball: capped at max_wall_mm
    json.dumps(report.to_dict())  # plain data


def test_thin_plate_reads_its_thickness_and_is_located():
    thin = plate(0.3)
    thickness = wall_thickness(thin)
    inner = np.abs(thin.vertices[:, :2]).max(axis=1) < 10.0 - 1e-6  # off the rim: top and bottom faces
    assert inner.sum() > 90 and np.abs(thickness[inner] - 0.3).max() < 1e-4
    assert thickness.min() == pytest.approx(0.3, abs=1e-4)
    report = check_mesh(thin)
    assert report.verdict == NOT_PRINTABLE
    # the top and bottom skins (the plate's rim reads its width: rays from side faces run along the plate)
    assert len(report.thin_regions) == 2
    for region, z in zip(sorted(report.thin_regions, key=lambda r: r["center_mm"][2]), (-0.15, 0.15)):
        assert region["value"] == pytest.approx(0.3, abs=1e-4)
        assert region["area_mm2"] == pytest.approx(20 * 20, rel=0.05)
        assert region["center_mm"] == pytest.approx([0, 0, z], abs=1e-3)


def test_thick_plate_and_resin_limit():
    thick = plate(2.0)
    assert wall_thickness(thick).min() == pytest.approx(2.0, abs=1e-4)
    half = plate(0.6)
    assert check_mesh(half).verdict == NOT_PRINTABLE  # FDM: 0.8 mm
    assert check_mesh(half, QASettings(printer=printer_profile("form-3"))).verdict == PRINTABLE  # resin 0.5


def test_wall_thickness_of_a_hollow_sphere():
    outer, inner = sphere(10.0, subdivisions=5), sphere(8.5, subdivisions=5)
    shell = join(outer, Mesh(inner.vertices, inner.faces[:, ::-1]))  # cavity wound inward
    thickness = wall_thickness(shell, max_mm=10.0)
    assert np.median(thickness) == pytest.approx(1.5, abs=0.02)
    report = check_mesh(shell)
    assert report.shells == 2 and report.inverted_shells == []  # a cavity, not an inside-out shell
    assert report.volume_mm3 == pytest.approx(4 / 3 * np.pi * (1000 - 8.5 ** 3), rel=0.01)


def test_punched_hole_is_located(ball):
    center = ball.vertices[np.argmax(ball.vertices[:, 0])]  # the +x pole
    centroids = ball.vertices[ball.faces].mean(axis=1)
    punched = np.linalg.norm(centroids - center, axis=1) < 2.5
    report = check_mesh(Mesh(ball.vertices, ball.faces[~punched]))
    assert report.verdict == AFTER_REPAIR and not report.watertight
    assert len(report.holes) == 1
    hole = report.holes[0]
    assert hole["center_mm"][0] > 9.0 and abs(hole["center_mm"][1]) < 0.5 and abs(hole["center_mm"][2]) < 0.5
    assert hole["value"] == pytest.approx(2 * np.pi * 2.4, rel=0.2)  # rim length of a ~2.4 mm hole


def test_flipped_faces_are_counted(ball):
    faces = ball.faces.copy()
    top = np.flatnonzero(ball.vertices[faces].mean(axis=1)[:, 2] > 9.5)
    faces[top] = faces[top][:, ::-1]
    report = check_mesh(Mesh(ball.vertices, faces))
    assert report.verdict == AFTER_REPAIR
    # the rim of the flipped cap: its edges run the same way in both faces
    rim = report.misoriented
    assert len(rim) == 1 and rim[0]["center_mm"][2] > 9.0
    assert report.misoriented_edges == rim[0]["count"]


def test_inside_out_sphere():
    inside_out = sphere()
    report = check_mesh(Mesh(inside_out.vertices, inside_out.faces[:, ::-1]))
    assert report.verdict == AFTER_REPAIR and len(report.inverted_shells) == 1
    assert report.volume_mm3 < 0


def test_duplicated_shell_is_counted(ball):
    small = sphere(3.0, center=(30, 0, 0), subdivisions=2)
    twice = join(ball, small, small)
    report = check_mesh(twice)
    assert report.duplicate_faces == len(small.faces)
    assert report.non_manifold_edges == len(small.faces) * 3 // 2
    assert report.non_manifold[0]["center_mm"] == pytest.approx([30, 0, 0], abs=0.5)
    assert report.verdict == AFTER_REPAIR


def test_intersecting_spheres_are_located():
    both = join(sphere(10.0), sphere(10.0, center=(12.0, 0, 0)))
    report = check_mesh(both, QASettings(printer=printer_profile(min_wall_mm=0.1)))
    assert report.self_intersecting_faces > 0
    # the spheres meet on the circle x = 6, radius 8
    for region in report.self_intersections:
        assert region["center_mm"][0] == pytest.approx(6.0, abs=0.5)
        assert np.hypot(region["max_mm"][1], region["max_mm"][2]) == pytest.approx(8.0 * np.sqrt(2), rel=0.1) \
            or region["max_mm"][1] == pytest.approx(8.0, abs=0.3)
    assert report.verdict == AFTER_REPAIR


def test_tiny_shell_and_degenerate_faces(ball):
    debris = sphere(1.0, center=(20, 0, 0), subdivisions=1)   # 4 mm³ < 10 mm³
    vertices = np.concatenate([ball.vertices, debris.vertices + 0])
    faces = np.concatenate([ball.faces, debris.faces + len(ball.vertices), [[0, 0, 1]]])
    report = check_mesh(Mesh(vertices, faces))
    assert len(report.tiny_shells) == 1 and report.tiny_shells[0]["center_mm"][0] == pytest.approx(20, abs=0.1)
    assert report.degenerate_faces == 1


def test_build_volume_fits_in_any_axis_order():
    box = plate(200.0, size=230.0, subdivisions=0)  # 230 x 230 x 200
    report = check_mesh(box)  # MK4: 250 x 210 x 220
    assert not report.fits_build_volume and report.verdict == NOT_PRINTABLE
    assert "does not fit" in report.reasons[0]
    assert check_mesh(box, QASettings(printer=printer_profile(size_mm=(240, 200, 230)))).fits_build_volume
