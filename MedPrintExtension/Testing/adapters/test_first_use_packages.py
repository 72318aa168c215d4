"""The packages the Slicer module offers to install before a step (MedPrintLib.dependencies.FEATURES)
are all the step needs beyond what Slicer ships.

Each later step runs on the demo case in a fresh Python (``-S``) whose only site-packages is a copy of
this environment's (symbolic links) without the packages Slicer lacks, apart from the step's own
first-use packages; a step that needs one more fails here, as it would in Slicer after the install.
"""

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from MedPrintLib.dependencies import FEATURES, PACKAGES
from medprint.pipeline import ModelSettings
from medprint.volume import load_volume
from medprint.workflow import STEP_RUNNERS, create_case, open_case, run_model_step

MODULE_DIR = Path(__file__).resolve().parents[2] / "MedPrintModule"
DEMO_CT = MODULE_DIR / "medprint" / "data" / "demo_ct"
#: the module's step -> feature names (MedPrint.py's STEP_FEATURES; checked by the static tests)
STEP_FEATURES = {"guide": "guide", "export": "export", "print": "print", "register": "registry"}
#: packages Slicer does not ship: the first-use ones, and the ones only the CLI and the server use
NOT_IN_SLICER = set(PACKAGES) | {"trimesh", "manifold3d", "embreex", "pymeshfix", "serial", "requests", "pydantic",
                                 "nibabel", "nrrd", "typer", "rich", "sqlalchemy", "alembic", "fastapi",
                                 "uvicorn", "psycopg", "selenium", "lib3mf"}
RUN_STEP = """
import sys
sys.path[:0] = sys.argv[3:5]
from medprint.workflow import open_case, run_later_step
print(run_later_step(open_case(sys.argv[1]), sys.argv[2]))
"""


def _site_without(blocked: set, folder: Path) -> Path:
    """A site-packages of symbolic links to this environment's, without the ``blocked`` packages."""
    folder.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not any(entry.name == name or entry.name.startswith(name + ".") for name in blocked):
            (folder / entry.name).symlink_to(entry)
    return folder


def _run(case_folder: Path, step: str, blocked: set, scratch: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MEDPRINT_CONFIG_DIR": str(scratch / "config"), "MEDPRINT_DATA_DIR": str(scratch / "data")}
    for variable in ("MEDPRINT_REGISTRY_URL", "MEDPRINT_REGISTRY_SITE", "MEDPRINT_REGISTRY_TOKEN", "PYTHONPATH"):
        env.pop(variable, None)
    site = _site_without(blocked, scratch / f"site-{step}")
    return subprocess.run([sys.executable, "-S", "-c", RUN_STEP, str(case_folder), step, str(site), str(MODULE_DIR)],
                          capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def demo_case(tmp_path_factory):
    """The demo CT's case after the model step, the CT cropped to the vertebra the demo guide plan
    fits (60 mm around its contact points), so the later steps run in seconds."""
    from dataclasses import replace

    import numpy as np

    from medprint.guide.plan import load_plan
    from medprint.guide.step import DEMO_PLAN

    volume = load_volume(DEMO_CT)
    center = np.mean(load_plan(DEMO_PLAN).contact.points_lps, axis=0)
    low, high = np.sort(volume.lps_to_index(np.array([center - 30.0, center + 30.0])), axis=0)
    start = np.clip(np.floor(low).astype(int), 0, None)
    stop = np.minimum(np.ceil(high).astype(int) + 1, volume.shape[::-1])
    shift = np.eye(4)
    shift[:3, 3] = start
    cropped = replace(volume, array=volume.array[start[2]:stop[2], start[1]:stop[1], start[0]:stop[0]].copy(),
                      ijk_to_lps=volume.ijk_to_lps @ shift)
    case = create_case(tmp_path_factory.mktemp("first-use") / "case", "demo")
    run_model_step(case, cropped, ModelSettings())
    return case


def test_each_step_runs_with_only_its_first_use_packages(demo_case, tmp_path):
    assert list(STEP_FEATURES) == list(STEP_RUNNERS), "a step without a first-use feature"
    for step, feature in STEP_FEATURES.items():  # in order: each step reads what the earlier ones wrote
        run = _run(demo_case.folder, step, NOT_IN_SLICER - set(FEATURES[feature]), tmp_path)
        assert run.returncode == 0, f"{step} needs more than {FEATURES[feature]}:\n{run.stderr[-2000:]}"
        assert open_case(demo_case.folder).steps[step] == "done", f"{step}: {run.stdout}"


def test_a_missing_package_is_caught(demo_case, tmp_path):
    """The check can fail: the export step without its packages does, naming what is missing."""
    run = _run(demo_case.folder, "export", NOT_IN_SLICER, tmp_path)
    assert run.returncode != 0 and ("No module named" in run.stderr or "not installed" in run.stderr)
