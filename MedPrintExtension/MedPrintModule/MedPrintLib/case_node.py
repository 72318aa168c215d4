"""The module's parameter node <-> the case folder (``medprint.workflow.Case``).

The parameter node, saved with the scene, says where the case lives (``caseFolder``, ``caseLabel``)
and holds each step's settings; the case folder holds what the steps made (``case.json`` and files),
so the later steps' runners (``medprint.workflow.STEP_RUNNERS``) work on it as they do from the CLI.
The functions read and write a ``vtkMRMLScriptedModuleNode`` under the field names of
``MedPrintParameterNode``, in the form ``parameterNodeWrapper`` stores them (``str(value)``), so they
take ``wrapper.parameterNode`` inside Slicer and a bare node in tests. No patient data is read or
written: the label is the user's choice and is checked by ``medprint.workflow.check_label``.
"""

from pathlib import Path

import numpy as np

from medprint.errors import InputError
from medprint.mesh import Mesh
from medprint.pipeline import ModelSettings
from medprint.volume import Volume
from medprint.workflow import Case, create_case, open_case

CASE_FOLDER, CASE_LABEL = "caseFolder", "caseLabel"
#: ``ModelSettings`` field -> (parameter-node field, type) for the settings the module shows
MODEL_PARAMETERS = {"preset": ("preset", str), "smoothing": ("smoothing", float),
                    "target_triangles": ("targetTriangles", int)}


def _folder(node) -> str:
    folder = node.GetParameter(CASE_FOLDER)
    return "" if folder in ("", ".") else folder  # Path() is stored as "."


def case_from_parameters(node) -> Case:
    """Open the case the parameter node points at, creating the folder and ``case.json`` if new."""
    folder, label = _folder(node), node.GetParameter(CASE_LABEL)
    if not folder:
        raise InputError("Choose a case folder first.", hint="the Case section at the top: an empty folder "
                                                             "for a new case, or an existing case folder")
    if (Path(folder) / "case.json").exists() and not label:
        return open_case(folder)
    return create_case(folder, label)


def model_settings_from_parameters(node) -> ModelSettings:
    """The Model step's settings; a target of 0 triangles means no decimation."""
    values = {}
    for key, (name, kind) in MODEL_PARAMETERS.items():
        text = node.GetParameter(name)
        if text != "":
            values[key] = kind(text)
    if not values.get("target_triangles"):
        values["target_triangles"] = None
    return ModelSettings(**values)


def parameters_from_case(case: Case, node) -> None:
    """Point the parameter node at ``case`` and restore the Model settings the case recorded."""
    was_modifying = node.StartModify()
    node.SetParameter(CASE_FOLDER, str(case.folder))
    node.SetParameter(CASE_LABEL, case.label)
    settings = case.results.get("model", {}).get("settings", {})
    for key, (name, kind) in MODEL_PARAMETERS.items():
        if settings.get(key) is not None:
            node.SetParameter(name, str(kind(settings[key])))
        elif key == "target_triangles":
            node.SetParameter(name, "0")
    node.EndModify(was_modifying)


def model_figures(volume: Volume, mask: np.ndarray, mesh: Mesh) -> dict:
    """What the Model step records of a model made from a Slicer segment (``medprint.workflow.
    record_model_step``): voxels and volumes (cm³), triangles, closedness."""
    voxels = int(np.count_nonzero(mask))
    return {"voxels": voxels, "mask_volume_cm3": voxels * volume.voxel_volume_mm3 / 1000.0,
            "triangles": mesh.triangle_count, "volume_cm3": mesh.volume_mm3() / 1000.0,
            "watertight": mesh.is_watertight(), "made_from": "Slicer segment"}


def save_guide_plan(case: Case, plan) -> Path:
    """Write the guide ``plan`` (from the module's markups) into the case, where the guide step reads it
    (``medprint.guide.step.PLAN_FILE``; LPS mm JSON)."""
    from medprint.guide.plan import save_plan
    from medprint.guide.step import PLAN_FILE

    return save_plan(plan, case.path(*PLAN_FILE))


def _stl_files(value) -> list:
    """The ``.stl`` paths anywhere in a step's results (dicts and lists walked), in order, once each."""
    found, todo = [], [value]
    while todo:
        value = todo.pop(0)
        if isinstance(value, dict):
            todo.extend(value.values())
        elif isinstance(value, list):
            todo.extend(value)
        elif isinstance(value, str) and value.lower().endswith(".stl") and value not in found:
            found.append(value)
    return found


def step_models(case: Case, step: str) -> list:
    """``(file stem, Mesh in LPS)`` for each STL file the step recorded in ``case.results[step]`` (at
    any depth) and no earlier step did, so the module can show what the step made."""
    from medprint.mesh import read_stl
    from medprint.workflow import STEPS

    earlier = {name for s in STEPS[:STEPS.index(step)] for name in _stl_files(case.results.get(s, {}))}
    return [(Path(name).stem, read_stl(case.path(name))) for name in _stl_files(case.results.get(step, {}))
            if name not in earlier and case.path(name).is_file()]


def result_rows(results: dict, limit: int = 300) -> list:
    """A step's recorded figures as ``(dotted key, text)`` rows for a table: nested dicts and lists of
    dicts are walked (``verification.checks.0.name``), lists of plain values joined, floats to 4
    significant digits; at most ``limit`` rows."""
    rows, todo = [], [("", results)]
    while todo and len(rows) < limit:
        key, value = todo.pop(0)
        if isinstance(value, dict):
            todo[:0] = [(f"{key}.{k}" if key else str(k), v) for k, v in value.items()]
        elif isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
            todo[:0] = [(f"{key}.{i}", v) for i, v in enumerate(value)]
        elif isinstance(value, list):
            rows.append((key, ", ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in value)))
        else:
            rows.append((key, f"{value:.4g}" if isinstance(value, float) else str(value)))
    return rows
