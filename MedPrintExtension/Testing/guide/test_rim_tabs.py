"""Thin tabs at the plate's rim (medprint.guide.rim): a 3 mm plate with a 0.4 mm wide tongue on its
rim loses the tongue and nothing well inside; a tongue under a feature is kept. Walls measured with
the QA's own measure (medprint.qa), independently of the trimming's bookkeeping."""

import manifold3d
import numpy as np

from medprint.build_volume import printer_profile
from medprint.guide.heightmap import Grid, prism
from medprint.guide.rim import thin_spots, trim_thin_tabs
from medprint.guide.solids import to_manifold
from medprint.mesh import Mesh
from medprint.qa import QASettings, check_mesh

GRID = Grid(0.0, 0.0, 0.2, 101, 101)   # 20 x 20 mm
HEIGHTS = np.full((GRID.nx, GRID.ny), 3.0)


def _plate_cells():
    """A 10 x 10 mm square (cells 25..74) with a tongue 2 cells (0.4 mm) wide, 5 mm long, off its side (x 15..20 mm)."""
    cells = np.zeros((GRID.nx - 1, GRID.ny - 1), bool)
    cells[25:75, 25:75] = True
    cells[75:100, 49:51] = True
    return cells


def _build(cells):
    return to_manifold(*prism(HEIGHTS, cells, GRID, 0.0), "plate")


BLOCKED = manifold3d.Manifold.cube([40.0, 40.0, 5.0]).translate([-10.0, -10.0, -5.5])   # below the plate


def _thin_regions(solid, limit_mm):
    """The QA's thin places (medprint.qa.check_mesh at ``limit_mm``) of at least 1 mm²."""
    mesh = solid.to_mesh64()
    mesh = Mesh(np.asarray(mesh.vert_properties)[:, :3], np.asarray(mesh.tri_verts, dtype=np.int64))
    report = check_mesh(mesh, QASettings(printer=printer_profile("form-3", min_wall_mm=limit_mm)))
    return [r for r in report.thin_regions if r["area_mm2"] >= 1.0]


def test_thin_tongue_is_cut_off_and_the_rest_kept():
    cells = _plate_cells()
    before = _thin_regions(_build(cells) - BLOCKED, 1.0)
    # the tongue's two sides (x 15..20 mm) read its width, 0.4 mm
    assert len(before) == 2 and all(abs(r["value"] - 0.4) < 0.01 and r["min_mm"][0] >= 15.0 for r in before)
    assert len(thin_spots(_build(cells) - BLOCKED, 1.0)) > 0
    plate, trimmed = trim_thin_tabs(cells, np.zeros((GRID.nx, GRID.ny), bool), BLOCKED, GRID, 1.0, 3.25, _build)
    assert not trimmed[76:, 45:55].any()                                # the tongue is gone
    # the square keeps all but its corners (rounded by the footprint's 2 mm opening) and a notch at
    # the tongue's root (cleared a wall's width, 5 cells, round the thin faces)
    assert trimmed[30:65, 30:70].all() and trimmed[25:75, 25:75].sum() >= 0.95 * 50 * 50
    assert trimmed.sum() <= 50 * 50
    assert len(thin_spots(plate - BLOCKED, 1.0)) == 0 and _thin_regions(plate - BLOCKED, 1.0) == []
    assert abs(plate.volume() - 10.0 * 10.0 * 3.0) < 0.05 * 300.0


def test_tongue_under_a_feature_is_kept():
    cells = _plate_cells()
    keep = np.zeros((GRID.nx, GRID.ny), bool)
    keep[70:, 40:60] = True
    _, trimmed = trim_thin_tabs(cells, keep, BLOCKED, GRID, 1.0, 3.25, _build)
    assert trimmed[76:100, 49:51].all()
