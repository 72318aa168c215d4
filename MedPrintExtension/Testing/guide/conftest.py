"""Fixtures of the guide tests (the shapes and plans live in cylinder_case.py, beside the tests)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # cylinder_case.py and measure.py beside the tests

from cylinder_case import cylinder_bone  # noqa: E402


@pytest.fixture(scope="session")
def cylinder():
    return cylinder_bone()
