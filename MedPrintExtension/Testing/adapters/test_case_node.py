"""T1: MedPrintLib.case_node: the module's parameter node (a real vtkMRMLScriptedModuleNode, saved
with the scene) <-> the case folder the CLI and the later steps' runners use."""

import json

import numpy as np
import pytest
import slicer

from MedPrintLib.case_node import (case_from_parameters, model_settings_from_parameters,
                                   model_figures, parameters_from_case)
from MedPrintLib.segmentation_node import mask_from_segment, set_segment_from_mask
from MedPrintLib.volume_node import add_volume_node, volume_from_node
from medprint.errors import InputError
from medprint.mesh import read_stl
from medprint.pipeline import ModelSettings
from medprint.surface import mask_to_mesh
from medprint.volume import Volume
from medprint.workflow import open_case, record_model_step


def _parameter_node(scene):
    """What ScriptedLoadableModuleLogic.getParameterNode() makes: a singleton scripted-module node."""
    node = scene.AddNewNodeByClass("vtkMRMLScriptedModuleNode", "MedPrint")
    node.SetSingletonTag("MedPrint")
    node.SetModuleName("MedPrint")
    return node


def test_case_and_settings_survive_saving_and_reopening_the_scene(tmp_path):
    scene = slicer.vtkMRMLScene()
    node = _parameter_node(scene)
    node.SetParameter("caseFolder", str(tmp_path / "case"))
    node.SetParameter("caseLabel", "knee-07")
    node.SetParameter("preset", "cortical-bone")
    node.SetParameter("smoothing", "0.25")
    node.SetParameter("targetTriangles", "50000")
    case = case_from_parameters(node)
    assert json.loads((tmp_path / "case" / "case.json").read_text())["label"] == "knee-07"

    scene.SetRootDirectory(str(tmp_path))
    scene.SetURL(str(tmp_path / "scene.mrml"))
    assert scene.Commit()
    reloaded = slicer.vtkMRMLScene()
    reloaded.SetURL(str(tmp_path / "scene.mrml"))
    assert reloaded.Connect()
    again = reloaded.GetSingletonNode("MedPrint", "vtkMRMLScriptedModuleNode")
    assert case_from_parameters(again).folder == case.folder
    settings = model_settings_from_parameters(again)
    assert (settings.preset, settings.smoothing, settings.target_triangles) == ("cortical-bone", 0.25, 50000)


def test_settings_defaults_and_no_decimation():
    node = _parameter_node(slicer.vtkMRMLScene())
    assert model_settings_from_parameters(node) == ModelSettings()
    node.SetParameter("targetTriangles", "0")
    assert model_settings_from_parameters(node).target_triangles is None


def test_case_restores_the_parameter_node(tmp_path):
    """A case made elsewhere (e.g. by the CLI) points the module at it and brings back its settings."""
    node = _parameter_node(slicer.vtkMRMLScene())
    node.SetParameter("caseFolder", str(tmp_path))
    node.SetParameter("caseLabel", "spine-3")
    case = case_from_parameters(node)
    case.results["model"] = {"settings": ModelSettings(preset="soft-tissue", smoothing=0.8).to_dict()}
    other = _parameter_node(slicer.vtkMRMLScene())
    parameters_from_case(case, other)
    assert other.GetParameter("caseFolder") == str(tmp_path)
    assert other.GetParameter("caseLabel") == "spine-3"
    restored = model_settings_from_parameters(other)
    assert (restored.preset, restored.smoothing, restored.target_triangles) == ("soft-tissue", 0.8, None)
    # an existing case folder opens without retyping the label
    other.SetParameter("caseLabel", "")
    assert case_from_parameters(other).label == "spine-3"


def test_missing_folder_and_unsafe_labels_are_refused(tmp_path):
    node = _parameter_node(slicer.vtkMRMLScene())
    with pytest.raises(InputError, match="case folder"):
        case_from_parameters(node)
    node.SetParameter("caseFolder", ".")  # how parameterNodeWrapper stores an empty pathlib.Path
    with pytest.raises(InputError, match="case folder"):
        case_from_parameters(node)
    node.SetParameter("caseFolder", str(tmp_path / "c"))
    for label in ("", "Doe^John 1970/01/01", "../up"):
        node.SetParameter("caseLabel", label)
        with pytest.raises(InputError, match="case label"):
            case_from_parameters(node)
    assert not (tmp_path / "c" / "case.json").exists()


def test_model_from_a_segment_is_recorded_in_the_case_in_lps(tmp_path, segmentations_logic, oblique_ijk_to_lps):
    """CT node -> segment -> mask on the CT grid -> core surface -> case: the STL on disk is LPS, encloses
    the volume the case records, and the case says the segment and model steps are done."""
    scene = segmentations_logic.GetMRMLScene()
    shape = (12, 20, 16)
    k, j, i = np.mgrid[:shape[0], :shape[1], :shape[2]]
    ball = ((k - 6) / 4.0) ** 2 + ((j - 10) / 6.0) ** 2 + ((i - 8) / 5.0) ** 2 <= 1.0
    ct_node = add_volume_node(scene, Volume(np.where(ball, 700, -50).astype(np.int16), oblique_ijk_to_lps))
    segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode")
    segment_id = set_segment_from_mask(segmentation, ball, oblique_ijk_to_lps, "bone")

    volume = volume_from_node(ct_node)
    mask = mask_from_segment(segmentation, segment_id, volume.ijk_to_lps, volume.shape)
    mesh = mask_to_mesh(mask, volume.ijk_to_lps, smoothing=0.3)
    node = _parameter_node(scene)
    node.SetParameter("caseFolder", str(tmp_path / "case"))
    node.SetParameter("caseLabel", "demo-1")
    node.SetParameter("smoothing", "0.3")
    case = case_from_parameters(node)
    figures = model_figures(volume, mask, mesh)
    stl = record_model_step(case, volume, mesh, model_settings_from_parameters(node),
                            {**figures, "seconds": {"surface": 0.1}})

    assert stl == tmp_path / "case" / "models" / "demo-1-bone.stl"
    assert b"SPACE=LPS" in stl.read_bytes()[:80]
    on_disk = read_stl(stl)
    assert np.abs(on_disk.vertices[on_disk.faces] - mesh.vertices[mesh.faces]).max() < 1e-3  # LPS as made
    reopened = open_case(tmp_path / "case")
    assert reopened.steps["segment"] == reopened.steps["model"] == "done"
    model = reopened.results["model"]
    assert model["file"] == "models/demo-1-bone.stl" and model["coordinates"] == "LPS"
    assert model["voxels"] == int(ball.sum())
    assert model["volume_cm3"] == pytest.approx(on_disk.volume_mm3() / 1000.0, rel=1e-4)
    assert model["watertight"] is True and model["settings"]["smoothing"] == 0.3
    assert model["made_from"] == "Slicer segment" and set(model["seconds"]) == {"surface", "write"}
    assert reopened.source["shape_kji"] == list(shape)


def test_step_models_finds_every_stl_a_step_recorded(tmp_path):
    from MedPrintLib.case_node import step_models
    from medprint.mesh import Mesh, write_stl
    from medprint.workflow import create_case

    case = create_case(tmp_path, "guide-1")
    tetra = Mesh(np.array([[0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10]], float),
                 np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]]))
    write_stl(tetra, case.path("guide", "guide-1-guide.stl"))
    write_stl(tetra, case.path("guide", "parts", "sleeve.STL"))
    write_stl(tetra, case.path("models", "guide-1-bone.stl"))
    case.results["model"] = {"file": "models/guide-1-bone.stl"}
    case.results["guide"] = {"bone": "models/guide-1-bone.stl",  # the model step's: not shown again
                             "file": "guide/guide-1-guide.stl", "report": "guide/report.json",
                             "parts": [{"file": "guide/parts/sleeve.STL"}, {"file": "guide/missing.stl"}],
                             "again": "guide/guide-1-guide.stl", "volume_cm3": 1.5}
    found = step_models(case, "guide")
    assert [name for name, _ in found] == ["guide-1-guide", "sleeve"]
    assert all(mesh.volume_mm3() == pytest.approx(1000 / 6, rel=1e-6) for _, mesh in found)
    assert step_models(case, "export") == []
    assert [name for name, _ in step_models(case, "model")] == ["guide-1-bone"]


def test_result_rows_flatten_what_a_step_recorded():
    from MedPrintLib.case_node import result_rows

    rows = result_rows({"file": "guide/g.stl", "volume_cm3": 2.345678, "insertion": [0.0, 0.6, 0.8],
                        "verification": {"passed": True, "checks": [{"name": "wall", "value": 1.25},
                                                                    {"name": "sleeve", "value": 3}]},
                        "records": [], "ok": None})
    assert rows == [("file", "guide/g.stl"), ("volume_cm3", "2.346"), ("insertion", "0, 0.6, 0.8"),
                    ("verification.passed", "True"), ("verification.checks.0.name", "wall"),
                    ("verification.checks.0.value", "1.25"), ("verification.checks.1.name", "sleeve"),
                    ("verification.checks.1.value", "3"), ("records", ""), ("ok", "None")]
    assert len(result_rows({f"k{i}": i for i in range(500)}, limit=300)) == 300
