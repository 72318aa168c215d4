"""Shared test set-up: the module folder on sys.path, and the real CT series shipped in ../shared."""

import os
import sys
from pathlib import Path

import pytest

MODULE_DIR = Path(__file__).resolve().parents[1] / "MedPrintModule"
if str(MODULE_DIR) not in sys.path:
    sys.path.insert(0, str(MODULE_DIR))

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = next((p for p in (Path(os.environ.get("MEDPRINT_SHARED_DATA", "")), REPO.parent / "shared" / "data", Path("/work/shared/data")) if str(p) != "." and p.is_dir()), REPO.parent / "shared" / "data")


@pytest.fixture(scope="session")
def ct_dir() -> Path:
    """Folder holding the real de-identified CT series (``../shared/data/ct``)."""
    path = SHARED_DATA / "ct"
    assert path.is_dir(), f"the shared CT data is missing at {path}; set MEDPRINT_SHARED_DATA"
    return path


@pytest.fixture(scope="session")
def dicom_misc_dir() -> Path:
    path = SHARED_DATA / "dicom-misc"
    assert path.is_dir(), f"the shared DICOM files are missing at {path}; set MEDPRINT_SHARED_DATA"
    return path


@pytest.fixture(autouse=True, scope="session")
def _user_folders(tmp_path_factory):
    """Tests never read or write the user's own MedPrint settings and outbox (printers, registry)."""
    saved = {key: os.environ.get(key) for key in ("MEDPRINT_CONFIG_DIR", "MEDPRINT_DATA_DIR")}
    os.environ["MEDPRINT_CONFIG_DIR"] = str(tmp_path_factory.mktemp("user-config"))
    os.environ["MEDPRINT_DATA_DIR"] = str(tmp_path_factory.mktemp("user-data"))
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def user_dirs(tmp_path, monkeypatch):
    """Empty user data and config folders, no registry in the environment."""
    monkeypatch.setenv("MEDPRINT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MEDPRINT_CONFIG_DIR", str(tmp_path / "config"))
    for name in ("URL", "SITE", "TOKEN"):
        monkeypatch.delenv(f"MEDPRINT_REGISTRY_{name}", raising=False)
    return tmp_path
