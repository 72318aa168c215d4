"""Repair fixes each repairable defect, the result passes QA, and the kept surface moved no more than
the tolerance (checked with an exact point-to-triangle distance in numpy, independent of the
repair's own VTK measurement)."""

import numpy as np
import pytest

from mesh_shapes import join, sphere, surface_distances
from medprint.mesh import Mesh
from medprint.qa import PRINTABLE, check_mesh
from medprint.repair import RepairRefused, RepairSettings, repair_mesh


def _printable(mesh: Mesh):
    report = check_mesh(mesh)
    assert report.verdict == PRINTABLE, report.reasons
    assert report.watertight
    return report


def _same_vertices(a: Mesh, b: Mesh) -> bool:
    return np.array_equal(np.unique(a.vertices, axis=0), np.unique(b.vertices, axis=0))


def test_punched_hole_is_filled(ball):
    centroids = ball.vertices[ball.faces].mean(axis=1)
    punched = Mesh(ball.vertices, ball.faces[np.linalg.norm(centroids - [10, 0, 0], axis=1) >= 2.5])
    result = repair_mesh(punched)
    assert result.actions["holes_filled"] == 1 and result.hausdorff_mm == 0.0
    _printable(result.mesh)
    # the kept surface did not move: every input vertex is still there, exactly
    kept = {tuple(v) for v in result.mesh.vertices}
    assert all(tuple(v) in kept for v in punched.vertices[np.unique(punched.faces)])
    # the patch lies close to the sphere it closes (a 2.5 mm hole in a 10 mm sphere: sagitta ~0.3 mm)
    radius = np.linalg.norm(result.mesh.vertices, axis=1)
    assert np.abs(radius - 10).max() < 0.4
    assert result.mesh.volume_mm3() == pytest.approx(ball.volume_mm3(), rel=0.002)


def test_flipped_faces_are_turned_back(ball):
    faces = ball.faces.copy()
    top = np.flatnonzero(ball.vertices[faces].mean(axis=1)[:, 2] > 9.5)
    faces[top] = faces[top][:, ::-1]
    result = repair_mesh(Mesh(ball.vertices, faces))
    assert result.actions["faces_flipped"] == len(top)
    _printable(result.mesh)
    assert np.array_equal(np.sort(result.mesh.faces, axis=1), np.sort(ball.faces, axis=1))
    assert result.mesh.volume_mm3() == pytest.approx(ball.volume_mm3())


def test_inside_out_shell_is_turned_outward(ball):
    result = repair_mesh(Mesh(ball.vertices, ball.faces[:, ::-1]))
    assert result.actions["shells_turned_outward"] == 1
    assert result.mesh.volume_mm3() == pytest.approx(ball.volume_mm3())
    _printable(result.mesh)


def test_duplicated_shell_and_debris_are_removed(ball):
    small = sphere(3.0, center=(30, 0, 0), subdivisions=2)
    debris = sphere(1.0, center=(-20, 0, 0), subdivisions=1)
    mesh = join(ball, small, small, debris)
    mesh = Mesh(mesh.vertices, np.concatenate([mesh.faces, [[0, 0, 5]]]))  # and a degenerate face
    result = repair_mesh(mesh)
    assert result.actions["duplicate_faces_removed"] == len(small.faces)
    assert result.actions["tiny_shells_removed"] == 1 and result.actions["degenerate_faces_removed"] == 1
    report = _printable(result.mesh)
    assert report.shells == 2
    assert result.mesh.volume_mm3() == pytest.approx(ball.volume_mm3() + small.volume_mm3())


def test_intersecting_spheres_are_united_within_tolerance():
    a, b = sphere(10.0), sphere(10.0, center=(12.0, 0, 0))
    result = repair_mesh(join(a, b))
    assert result.actions["shells_united"] == 2
    report = _printable(result.mesh)
    assert report.shells == 1 and report.self_intersecting_faces == 0
    lens = np.pi * (4 * 10 + 12) * (2 * 10 - 12) ** 2 / 12  # two r=10 balls 12 mm apart overlap by this
    assert result.mesh.volume_mm3() == pytest.approx(a.volume_mm3() + b.volume_mm3() - lens, rel=0.01)
    # independent Hausdorff: the new surface lies on the old one, and the old outer surface on the new
    there = surface_distances(result.mesh.vertices, join(a, b))
    outer = np.concatenate([a.vertices[np.linalg.norm(a.vertices - [12, 0, 0], axis=1) > 10.01],
                            b.vertices[np.linalg.norm(b.vertices, axis=1) > 10.01]])
    back = surface_distances(outer, result.mesh)
    independent = max(there.max(), back.max())
    assert independent <= 0.1
    assert result.hausdorff_mm == pytest.approx(independent, abs=2e-3)


def test_repair_beyond_tolerance_is_refused():
    crossing = join(sphere(10.0), sphere(10.0, center=(12.0, 0, 0)))
    with pytest.raises(RepairRefused, match="more than the 1e-06 mm allowed"):
        repair_mesh(crossing, RepairSettings(tolerance_mm=1e-6))


def test_clean_mesh_is_left_alone(ball):
    result = repair_mesh(ball)
    assert result.hausdorff_mm == 0.0 and not any(v for v in result.actions.values())
    assert np.array_equal(result.mesh.faces, ball.faces) and _same_vertices(result.mesh, ball)


def test_a_qa_report_saves_repeated_checks(ball):
    from medprint.qa import check_mesh as qa

    assert repair_mesh(ball, checked=qa(ball)).mesh is ball  # nothing to repair: the same mesh back
    centroids = ball.vertices[ball.faces].mean(axis=1)
    holed = Mesh(ball.vertices, ball.faces[np.linalg.norm(centroids - [10, 0, 0], axis=1) >= 2.5])
    result = repair_mesh(holed, checked=qa(holed))
    assert result.actions["holes_filled"] == 1
    _printable(result.mesh)


def test_flipped_faces_and_a_hole_together(ball):
    faces = ball.faces.copy()
    centroids = ball.vertices[faces].mean(axis=1)
    half = centroids[:, 1] > 0  # half the sphere, half the hole's rim with it
    faces[half] = faces[half][:, ::-1]
    holed = Mesh(ball.vertices, faces[np.linalg.norm(centroids - [10, 0, 0], axis=1) >= 2.5])
    result = repair_mesh(holed)
    assert result.actions["holes_filled"] == 1 and result.actions["faces_flipped"] > 0
    _printable(result.mesh)
    assert result.mesh.volume_mm3() == pytest.approx(ball.volume_mm3(), rel=0.002)
