"""Fixtures of the export tests (the known meshes live in mesh_shapes.py, beside the tests)."""

import sys
from pathlib import Path

import pytest

from medprint.mesh import Mesh

sys.path.insert(0, str(Path(__file__).resolve().parent))  # mesh_shapes.py beside the tests

from mesh_shapes import sphere  # noqa: E402


@pytest.fixture
def ball() -> Mesh:
    return sphere()


@pytest.fixture(scope="session")
def phantom_series(tmp_path_factory):
    """A small CT phantom written as DICOM with a patient name and ID (a bone sphere of radius 15 mm
    and a bone shell around a cavity), as a folder of slices."""
    from medprint.phantom import Shell, Sphere, axial_geometry, write_series

    folder = tmp_path_factory.mktemp("phantom") / "dicom"
    geometry = axial_geometry((40, 96, 96), (1.5, 1.0, 1.0), center_lps=(0.0, 0.0, 0.0))
    write_series(folder, geometry, [Sphere((-20.0, 0.0, 0.0), 12.0, 1200.0),
                                    Shell((22.0, 0.0, 0.0), (14.0, 14.0, 14.0), 4.0, 1200.0)])
    return folder
