"""Thin tabs at the plate's rim, found with the export QA's wall measure and cut off.

The plate's footprint is a vertical prism (its outline in plan view, frame mm). Where that outline
crosses a steep part of the plate (the plate climbing a bone wall) at an angle, the vertical cut
meets the sloping plate at a shallow angle and leaves a wedge thinner than a wall. Here the plate
(``plate - blocked bone``, frame mm) is read with :func:`medprint.qa.face_walls`, as the verifier
and the export QA read the finished guide; the rim columns under each thin place (of at least
``AREA_MM2``) are dropped from the footprint and the plate rebuilt, a few passes at most. Columns
well inside the plate and those the sleeves and slot housings stand on are kept.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy import ndimage

from ..mesh import Mesh
from . import body
from .heightmap import Grid
from .solids import to_arrays

#: Thin places smaller than this are left (sharp cut corners read thin over a few faces), mm².
AREA_MM2 = 1.0
#: Rebuilds of the plate at most.
PASSES = 4


def thin_spots(solid, min_wall_mm: float) -> np.ndarray:
    """Plan positions (k, 2), frame mm, of the faces of ``solid`` (manifold3d, frame mm) whose QA
    wall reading is below ``min_wall_mm``, in thin places of at least ``AREA_MM2``."""
    from ..qa import face_geometry, face_walls, thin_regions
    from ..rays import RayCaster
    from ..topology import edges, merge_coincident

    mesh, _ = merge_coincident(Mesh(*to_arrays(solid)))
    centroid, _, area = geometry = face_geometry(mesh)
    walls = face_walls(mesh, RayCaster(mesh), 10.0, geometry)
    regions = [r for r in thin_regions(mesh, walls, min_wall_mm, area, edges(mesh).vertices)
               if r.area_mm2 >= AREA_MM2]
    thin = np.flatnonzero((walls < min_wall_mm) & (area > 0))
    inside = np.zeros(len(thin), bool)
    for r in regions:
        box = (centroid[thin] >= np.subtract(r.min_mm, 1e-6)) & (centroid[thin] <= np.add(r.max_mm, 1e-6))
        inside |= box.all(axis=1)
    return centroid[thin[inside], :2]


def trim_thin_tabs(cells: np.ndarray, keep: np.ndarray, blocked, grid: Grid, min_wall_mm: float, inset_mm: float,
                   build: Callable):
    """(plate, cells): the plate ``build(cells)`` (manifold3d) with the footprint ``cells``
    (nx-1, ny-1) cleared, pass by pass, within ``min_wall_mm`` of its thin rim places (see
    :func:`thin_spots` on ``plate - blocked``), except on columns ``keep`` (nx, ny) and columns
    more than ``inset_mm`` inside the outline; the footprint is tidied as in :func:`body.footprint`."""
    plate = build(cells)
    inset = int(np.ceil(inset_mm / grid.step))
    for _ in range(PASSES):
        spots = thin_spots(plate - blocked, min_wall_mm)
        reach = body.disk(int(np.ceil(min_wall_mm / grid.step)))
        near = ndimage.binary_dilation(body.mark_columns(grid, spots), reach)
        drop = near & ~keep & ~ndimage.binary_erosion(body.cell_columns(cells), body.disk(inset))
        if not drop.any():
            break
        cells = cells & ~(drop[:-1, :-1] | drop[1:, :-1] | drop[1:, 1:] | drop[:-1, 1:])
        cells = body.footprint(body.cell_columns(cells), grid.step, 0.0, 2 * min_wall_mm)
        plate = build(cells)
    return plate, cells
