"""The one place where coordinates change system.

Slicer scenes are RAS (+x = Right, +y = Anterior, +z = Superior);
DICOM and files on disk are LPS (+x = Left, +y = Posterior, +z = Superior). The two differ by a
sign flip of x and y, which is its own inverse.
"""

import numpy as np

FLIP_LPS_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def flip_points(points: np.ndarray) -> np.ndarray:
    """LPS points (n, 3) in mm -> RAS points, or RAS -> LPS (the flip is its own inverse)."""
    points = np.asarray(points, dtype=float)
    return points * np.array([-1.0, -1.0, 1.0])


def flip_matrix(matrix: np.ndarray) -> np.ndarray:
    """A 4x4 matrix mapping into LPS -> the same mapping into RAS (or RAS -> LPS)."""
    return FLIP_LPS_RAS @ np.asarray(matrix, dtype=float)


def apply_affine(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a 4x4 affine to points (n, 3); returns (n, 3) float64 (column by column: no BLAS start-up)."""
    points = np.asarray(points, dtype=float)
    out = np.empty_like(points)
    for row in range(3):
        out[:, row] = points[:, 0] * matrix[row, 0] + points[:, 1] * matrix[row, 1] \
            + points[:, 2] * matrix[row, 2] + matrix[row, 3]
    return out
