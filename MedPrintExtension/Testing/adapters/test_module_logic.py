"""T1: MedPrint.py's own MedPrintLogic, run on Slicer's real MRML classes (PyPI slicer-core) and the
real CT, as MedPrintTest runs it inside Slicer.

slicer-core lacks the Qt-side Python modules MedPrint.py imports at its top; the ``module`` fixture
(conftest.py) puts minimal stand-ins for those into ``sys.modules`` for the test only, so the module file
loads; the logic under test uses none of them: volumes, segmentations, models and the case are the
real thing.
"""

import json

import numpy as np
import pytest
import slicer
from scipy.spatial import cKDTree

from MedPrintLib.case_node import model_settings_from_parameters
from MedPrintLib.model_node import mesh_from_model_node
from MedPrintLib.workflow_selftest import closed_surface_edges
from MedPrintLib.segmentation_node import mask_from_segment
from medprint.errors import MedPrintError
from medprint.mesh import read_stl
from medprint.pipeline import ModelSettings, make_model
from medprint.volume import load_volume
from medprint.workflow import create_case, open_case
from slicer_reader import read_ct_with_slicer


@pytest.fixture(scope="module")
def ct_folder(ct_dir):
    return ct_dir / "abdomen-pancreas-ctcb001"


def test_segment_then_model_in_slicer_gives_the_command_lines_model(module, ct_folder, tmp_path):
    """Preset segment -> segment editor's segment -> model: the same mask, triangles and volume as
    ``make_model`` on the core's own reading of the series, and the case records it (LPS STL)."""
    scene = slicer.mrmlScene
    logic = module.MedPrintLogic()
    ct = read_ct_with_slicer(scene, ct_folder)
    segmentation = logic.newSegmentation(ct)
    segment_id, figures = logic.addPresetSegment(ct, segmentation, "bone")
    reference = make_model(load_volume(ct_folder), ModelSettings(preset="bone"))
    assert figures["voxels"] == reference.stats["voxels"] > 10000

    node = scene.AddNewNodeByClass("vtkMRMLScriptedModuleNode")  # the wrapper's node, as it stores fields
    node.SetParameter("caseFolder", str(tmp_path / "case"))
    node.SetParameter("caseLabel", "abdomen-1")
    case = create_case(tmp_path / "case", "abdomen-1")
    model = scene.AddNewNodeByClass("vtkMRMLModelNode", "bone model")
    fractions = []
    made = logic.makeModel(ct, model, model_settings_from_parameters(node), segmentation, segment_id, case,
                           progress=lambda fraction, message: fractions.append(fraction))
    assert fractions and 0.0 <= min(fractions) and max(fractions) <= 1.0

    assert made["triangles"] == reference.stats["triangles"]
    assert made["volume_cm3"] == pytest.approx(reference.stats["volume_cm3"], rel=1e-9)
    assert made["watertight"] and closed_surface_edges(model.GetPolyData()) == 0
    in_node = mesh_from_model_node(model).in_space("LPS")
    assert np.abs(in_node.vertices - reference.mesh.vertices).max() < 1e-9  # same points, RAS in the scene

    recorded = open_case(tmp_path / "case")
    assert recorded.steps["model"] == "done"
    on_disk = read_stl(recorded.path(recorded.results["model"]["file"]))
    assert on_disk.volume_mm3() == pytest.approx(reference.mesh.volume_mm3(), rel=1e-4)  # LPS, outward
    assert recorded.results["model"]["voxels"] == reference.stats["voxels"]
    assert "abdomen-1" in recorded.results["model"]["file"]


def test_edited_segment_is_what_the_model_is_made_of(module, ct_folder):
    """Erasing half the segment (as a Segment Editor effect would) halves the model."""
    scene = slicer.mrmlScene
    logic = module.MedPrintLogic()
    ct = read_ct_with_slicer(scene, ct_folder)
    segmentation = logic.newSegmentation(ct)
    segment_id, figures = logic.addPresetSegment(ct, segmentation, "bone")
    from MedPrintLib.segmentation_node import set_segment_from_mask
    from MedPrintLib.volume_node import volume_from_node

    volume = volume_from_node(ct)
    mask = mask_from_segment(segmentation, segment_id, volume.ijk_to_lps, volume.shape)
    kept = mask.copy()
    kept[:, :, : volume.shape[2] // 2] = False  # erase one side (i < half)
    set_segment_from_mask(segmentation, kept, volume.ijk_to_lps, "bone", segment_id=segment_id)
    model = scene.AddNewNodeByClass("vtkMRMLModelNode")
    made = logic.makeModel(ct, model, ModelSettings(), segmentation, segment_id)
    assert made["voxels"] == int(kept.sum()) < figures["voxels"]
    assert made["watertight"]
    bounds = [0.0] * 6
    model.GetRASBounds(bounds)
    half_ras = (volume.ijk_to_ras @ [volume.shape[2] / 2 - 1, 0, 0, 1])[0]
    assert bounds[1] <= half_ras + 1.0 or bounds[0] >= half_ras - 1.0  # only one side of the cut


def test_without_a_segment_the_model_is_the_presets(module, ct_folder):
    scene = slicer.mrmlScene
    logic = module.MedPrintLogic()
    ct = read_ct_with_slicer(scene, ct_folder)
    model = scene.AddNewNodeByClass("vtkMRMLModelNode")
    made = logic.makeModel(ct, model, ModelSettings(preset="bone", smoothing=0.2))
    reference = make_model(load_volume(ct_folder), ModelSettings(preset="bone", smoothing=0.2))
    assert made["triangles"] == reference.stats["triangles"] == model.GetPolyData().GetNumberOfPolys()


def test_segment_editor_node_is_a_scene_singleton(module):
    logic = module.MedPrintLogic()
    node = logic.getSegmentEditorNode()
    assert node.IsA("vtkMRMLSegmentEditorNode") and node is logic.getSegmentEditorNode()


def test_later_steps_run_from_slicer_on_the_case(module, ct_folder, tmp_path, user_dirs):
    """Each later step whose core has landed (not the guide: it needs markups on the bone) runs through
    MedPrintLogic.runStep on the case the Model step wrote; the case records it and every STL it wrote
    appears in the scene. No registry is configured, so nothing leaves the machine."""
    from MedPrintLib.case_node import step_models
    from medprint.workflow import STEP_RUNNERS

    scene = slicer.mrmlScene
    logic = module.MedPrintLogic()
    ct = read_ct_with_slicer(scene, ct_folder)
    case = create_case(tmp_path / "case", "abdomen-2")
    logic.makeModel(ct, scene.AddNewNodeByClass("vtkMRMLModelNode"), ModelSettings(), case=case)
    from MedPrintLib.step_status import LATER_STEPS

    steps = [step for step in LATER_STEPS if step in STEP_RUNNERS and step != "guide"]
    assert steps, "no later step's core has registered a runner yet"
    for step in steps:
        models_before = scene.GetNumberOfNodesByClass("vtkMRMLModelNode")
        fractions = []
        summary = logic.runStep(case, step, lambda fraction, message: fractions.append(fraction))
        recorded = open_case(case.folder)
        assert summary and recorded.steps[step] in ("done", "skipped"), step
        assert all(0.0 <= f <= 1.0 for f in fractions), step
        shown = scene.GetNumberOfNodesByClass("vtkMRMLModelNode") - models_before
        assert shown == len(step_models(recorded, step)), step
    if "print" in steps:  # no printer configured: nothing was sent, so there is no job to follow
        assert "sent" not in open_case(case.folder).results["print"]
        with pytest.raises(MedPrintError, match="not sent to a printer"):
            logic.followPrint(open_case(case.folder))


def test_export_panel_checks_then_saves_a_copy_in_the_chosen_format_and_space(module, ct_folder, tmp_path):
    """Check and export with the panel's printer, then an extra copy: an STL in RAS holds the checked
    part with x and y negated (header SPACE=RAS), a 3MF holds it in millimetres."""
    import zipfile

    scene = slicer.mrmlScene
    logic = module.MedPrintLogic()
    ct = read_ct_with_slicer(scene, ct_folder)
    case = create_case(tmp_path / "case", "abdomen-3")
    logic.makeModel(ct, scene.AddNewNodeByClass("vtkMRMLModelNode"), ModelSettings(), case=case)
    with pytest.raises(MedPrintError, match="Check and export the parts first"):
        logic.saveExportCopy(case, tmp_path / "usb", "stl", "RAS")
    summary = logic.exportCase(case, "form-3", repair=True)
    recorded = open_case(case.folder)
    assert recorded.steps["export"] == "done" and "abdomen-3-bone" in summary
    assert recorded.results["export"]["settings"]["printer"] == "form-3"
    assert logic.qaReport(recorded).suffix == ".html" and logic.qaReport(recorded).is_file()

    checked = read_stl(recorded.path("export", "abdomen-3-bone.stl"))
    ras = logic.saveExportCopy(recorded, tmp_path / "usb", "stl", "RAS")
    assert ras == tmp_path / "usb" / "abdomen-3.stl" and b"SPACE=RAS" in ras.read_bytes()[:80]
    copy = read_stl(ras)
    assert copy.space == "RAS" and copy.triangle_count == checked.triangle_count
    assert np.allclose(np.sort(copy.in_space("LPS").vertices, axis=0), np.sort(checked.vertices, axis=0), atol=1e-4)
    assert copy.volume_mm3() == pytest.approx(checked.volume_mm3(), rel=1e-5)  # outward in RAS too

    three_mf = logic.saveExportCopy(recorded, tmp_path / "usb", "3mf", "LPS")
    with zipfile.ZipFile(three_mf) as archive:
        model = archive.read("3D/3dmodel.model").decode()
    assert 'unit="millimeter"' in model and "abdomen-3-bone" in model


def test_guide_panel_designs_the_guide_from_markups_on_the_demo_ct(module, tmp_path):
    """The built-in demo plan placed as markups (contact points, two drill lines, a cut plane) on the
    demo CT's bone model: the Guide panel writes the plan from the markups into the case (same points,
    LPS), the guide step designs and verifies it, and the guide appears in the scene beside the bone."""
    from MedPrintLib.markups_plan import markups_from_plan
    from medprint.guide.plan import load_plan
    from medprint.guide.step import DEMO_PLAN
    from medprint.workflow import DEMO_CT

    scene = slicer.mrmlScene
    logic = module.MedPrintLogic()
    ct = read_ct_with_slicer(scene, DEMO_CT)
    case = create_case(tmp_path / "case", "spine-1")
    bone_node = scene.AddNewNodeByClass("vtkMRMLModelNode", "bone")
    logic.makeModel(ct, bone_node, ModelSettings(), case=case)
    demo = load_plan(DEMO_PLAN)
    markups = markups_from_plan(demo, scene)
    plan_file = logic.saveGuidePlan(case, markups["contact_points"], None, markups["trajectories"],
                                    markups["cuts"], "resin", 3.0)
    written = load_plan(plan_file)
    assert np.allclose(written.contact.points_lps, demo.contact.points_lps, atol=1e-9)
    for ours, theirs in zip(written.trajectories, demo.trajectories):
        assert np.allclose(ours.entry_lps, theirs.entry_lps, atol=1e-9)
        assert np.allclose(ours.direction_lps, theirs.direction_lps, atol=1e-9)
    assert written.case_label == "spine-1"

    models_before = scene.GetNumberOfNodesByClass("vtkMRMLModelNode")
    summary = logic.runStep(case, "guide")
    recorded = open_case(case.folder)
    assert recorded.steps["guide"] == "done" and "checks passed" in summary
    assert recorded.results["guide"]["verification"]
    assert scene.GetNumberOfNodesByClass("vtkMRMLModelNode") == models_before + 1
    guide_node = scene.GetNthNodeByClass(models_before, "vtkMRMLModelNode")
    guide = mesh_from_model_node(guide_node).in_space("LPS")
    on_disk = read_stl(recorded.path(recorded.results["guide"]["file"]))
    assert guide.is_watertight() and guide.volume_mm3() == pytest.approx(on_disk.volume_mm3(), rel=1e-6)
    bone = mesh_from_model_node(bone_node).in_space("LPS")  # the guide sits on the bone, near the contact
    distances, _ = cKDTree(bone.vertices).query(guide.vertices)
    assert distances.min() < 2.0
    center = np.mean(demo.contact.points_lps, axis=0)
    assert np.linalg.norm(guide.vertices.mean(axis=0) - center) < 30.0


def test_print_on_the_chosen_printer_then_register_with_the_form(module, tmp_path, user_dirs):
    """The Print panel's choice reaches the print step (sliced for that printer's profile; it listens
    nowhere, so the job is recorded as not sent), and the Register form's answers, set on the parameter
    node as its widgets would, are saved in the case, reviewed and queued in the test's own outbox."""
    from MedPrintLib import print_panel, register_form
    from medprint.errors import InputError
    from medprint.printing.config import PrinterConfig, printer_choices, save_printer
    from medprint.registry.answers import ANSWERS_FILE
    from medprint.registry.outbox import Outbox
    from medprint.registry.schema import CaseRecord
    from MedPrintLib.volume_node import add_volume_node
    from medprint.volume import Volume

    scene = slicer.mrmlScene
    logic = module.MedPrintLogic()
    case = create_case(tmp_path / "case", "ball-2")
    k, j, i = np.mgrid[:40, :40, :40]  # a 30 mm bone ball in soft tissue, 1 mm voxels: slices in seconds
    ball = ((k - 20) ** 2 + (j - 20) ** 2 + (i - 20) ** 2) <= 15 ** 2
    ct = add_volume_node(scene, Volume(np.where(ball, 700, 40).astype(np.int16), np.eye(4)))
    logic.makeModel(ct, scene.AddNewNodeByClass("vtkMRMLModelNode"), ModelSettings(), case=case)
    save_printer(PrinterConfig(name="bench-voron", kind="octoprint", address="http://127.0.0.1:9", api_key="k",
                               profile="voron-350"))
    items = print_panel.printer_items(printer_choices())
    assert items == [("First printer that answers", ""), ("Slice only (send to no printer)", print_panel.SLICE_ONLY),
                     ("bench-voron (octoprint, voron-350)", "bench-voron")]
    with pytest.raises(InputError, match="known printers: bench-voron"):
        logic.printCase(open_case(case.folder), "no-such-printer")
    summary = logic.printCase(open_case(case.folder), "bench-voron")
    printed = open_case(case.folder).results["print"]
    assert printed["printer_profile"] == "voron-350" and printed["technology"] and "not sent" in summary
    assert "sent" not in printed and printed["not_sent"]
    logic.printCase(open_case(case.folder), print_panel.SLICE_ONLY)  # sliced for the smallest that fits
    printed = open_case(case.folder).results["print"]
    assert printed["printer_profile"] == "prusa-mini" and printed["not_sent"] == "slice only was chosen"

    node = scene.AddNewNodeByClass("vtkMRMLScriptedModuleNode")  # the parameter node, as the widgets set it
    for name, value in {"registerAgeBand": "40-49", "registerIndication": "neuro", "registerPrinted": "yes",
                        "registerCadOther": "25", "registerConfidenceAfter": "5", "registerModelCode": "0559T",
                        "registerModelUnits": "2"}.items():
        node.SetParameter(name, value)
    notes = logic.reviewRegisterForm(open_case(case.folder), node)
    assert notes[0] == ("info", "anatomic model: 0559T x1 + 0560T x1 claimed (the case supports 0559T x1)")
    assert [level for level, _text in notes].count("error") == 0
    # the print step's technology and material filled the unanswered fields, and were saved with the answers
    assert node.GetParameter("registerTechnology") == "material_extrusion"
    assert json.loads(case.path(*ANSWERS_FILE).read_text())["technology"] == "material_extrusion"
    summary = logic.runStep(open_case(case.folder), "register")
    assert summary == "0559T x1 + 0560T x1 queued (no registry configured)"
    (entry,) = Outbox(tmp_path / "data" / "registry-outbox.sqlite3").entries()
    record = CaseRecord.model_validate_json(entry.payload)
    assert (record.patient.age_band, record.imaging.indication_category, record.effort.cad.non_clinician,
            record.assessment.confidence_after) == ("40-49", "neuro", 25, 5)
    (model,) = record.physical_models
    assert (model.printer_model, model.technology) == (printed["printer_model"], "material_extrusion")
    assert logic.outboxStatus() == "Outbox: 1 pending, 0 sent, 0 rejected; registry: none configured"
    # an untouched form (a new scene) takes the answers saved in the case instead of erasing them
    fresh = scene.AddNewNodeByClass("vtkMRMLScriptedModuleNode")
    assert logic.saveRegisterForm(open_case(case.folder), fresh).patient.age_band == "40-49"
    assert register_form.answers_from_parameters(fresh)["assessment"] == {"confidence_after": 5}
