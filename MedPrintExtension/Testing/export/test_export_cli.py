"""``medprint qa | repair | export`` exit statuses and outputs."""

import json

import numpy as np
import trimesh
from typer.testing import CliRunner

from mesh_shapes import plate, sphere
from medprint.cli import app
from medprint.mesh import Mesh, read_stl, write_stl

runner = CliRunner()


def test_qa_exit_status_and_json(tmp_path):
    good = write_stl(sphere(), tmp_path / "ball.stl")
    result = runner.invoke(app, ["qa", str(good), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)["ball"]
    assert report["verdict"] == "printable" and report["watertight"]
    thin = write_stl(plate(0.3), tmp_path / "thin.stl")
    result = runner.invoke(app, ["qa", str(thin), "--printer", "form-3"])
    assert result.exit_code == 1 and "walls thinner than 0.5 mm" in result.stdout
    bad = tmp_path / "bad.stl"
    bad.write_bytes(b"not a mesh at all")
    assert runner.invoke(app, ["qa", str(bad)]).exit_code == 2
    assert runner.invoke(app, ["qa", str(good), "--printer", "nope"]).exit_code == 2


def test_repair_command_fills_a_hole(tmp_path):
    ball = sphere()
    centroids = ball.vertices[ball.faces].mean(axis=1)
    holed = write_stl(Mesh(ball.vertices, ball.faces[np.linalg.norm(centroids - [10, 0, 0], axis=1) >= 2.5]),
                      tmp_path / "holed.stl")
    assert runner.invoke(app, ["qa", str(holed)]).exit_code == 1
    result = runner.invoke(app, ["repair", str(holed), "-o", str(tmp_path / "fixed.stl"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["actions"]["holes_filled"] == 1 and summary["verdict"] == "printable"
    assert read_stl(tmp_path / "fixed.stl").is_watertight()


def test_export_converts_between_formats(tmp_path):
    ball = write_stl(sphere(), tmp_path / "ball.stl", space="RAS")
    result = runner.invoke(app, ["export", str(ball), "-o", str(tmp_path / "ball.ply"), "--space", "LPS"])
    assert result.exit_code == 0, result.output
    tm = trimesh.load(tmp_path / "ball.ply", process=False)
    original = read_stl(ball)  # RAS (from its header)
    assert original.space == "RAS"
    assert np.abs(np.sort(tm.vertices[:, 0]) - np.sort(-original.vertices[:, 0])).max() < 1e-4  # flipped to LPS
    assert runner.invoke(app, ["export", str(ball), "-o", str(tmp_path / "ball.dcm")]).exit_code == 2
