"""The workflows ``MedPrintTest`` (MedPrint.py, Slicer's self-test) runs inside Slicer: CTChest from a
preset segment to a registered case, and a guide from markups on the built-in demo CT.

``test`` is the ``ScriptedLoadableModuleTest`` (its asserts and ``delayDisplay``), ``logic`` a
``MedPrintLogic``, ``parameters`` its parameter node (the fields the panels bind). The user's printers,
registry and outbox are out of reach: the test works in its own config and data folders, and the one
printer it configures listens nowhere (127.0.0.1 port 9), so nothing is printed or submitted.
"""

import os
from contextlib import contextmanager
from pathlib import Path

#: a filled Register form (parameter-node fields as the widgets set them)
FORM = {"registerAgeBand": "50-59", "registerSex": "female", "registerIndication": "thoracic",
        "registerIndicationText": "chest wall reconstruction planning", "registerRegion": "Thorax",
        "registerPurpose": "surgical_planning", "registerPrinted": "yes", "registerSegmentationClinician": 12,
        "registerUsefulness": 4, "registerModelCode": "0559T", "registerModelUnits": 1}


@contextmanager
def isolated_user_folders(folder: Path):
    """The MedPrint config and data folders moved into ``folder``, no registry in the environment."""
    isolated = {"MEDPRINT_CONFIG_DIR": str(folder / "config"), "MEDPRINT_DATA_DIR": str(folder / "data")}
    names = (*isolated, "MEDPRINT_REGISTRY_URL", "MEDPRINT_REGISTRY_SITE", "MEDPRINT_REGISTRY_TOKEN")
    saved = {name: os.environ.pop(name, None) for name in names}
    os.environ.update(isolated)
    try:
        yield
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value


def closed_surface_edges(polydata) -> int:
    """Open and non-manifold edges of ``polydata`` (VTK's own count; 0 for a closed surface)."""
    import vtk

    edges = vtk.vtkFeatureEdges()
    edges.SetInputData(polydata)
    edges.BoundaryEdgesOn()
    edges.NonManifoldEdgesOn()
    edges.FeatureEdgesOff()
    edges.ManifoldEdgesOff()
    edges.Update()
    return edges.GetOutput().GetNumberOfCells()


def workflow_on_ctchest(test, logic, parameters, volumeNode, folder: Path) -> None:
    """Preset segment -> model (closed, inside the volume) -> case -> export -> print on the chosen
    printer -> register with the filled form; every step's result read back from the case. ``parameters``:
    the module's parameter node (``logic.getParameterNode()``)."""
    import slicer

    from medprint import workflow
    from medprint.registry.outbox import Outbox

    from . import case_node, dependencies, print_panel

    parameters.caseFolder = folder / "case"
    parameters.caseLabel = "selftest"
    case = logic.caseOf(parameters)
    segmentation = logic.newSegmentation(volumeNode)
    segmentId, figures = logic.addPresetSegment(volumeNode, segmentation, "bone")
    test.assertGreater(figures["mask_volume_cm3"], 50.0)  # a chest's bones: several hundred mL

    outputModel = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLModelNode", "bone model")
    fractions = []
    figures = logic.makeModel(volumeNode, outputModel, case_node.model_settings_from_parameters(
        parameters.parameterNode), segmentation, segmentId, case,
        progress=lambda fraction, message: fractions.append(fraction))
    test.delayDisplay("Model made: " + logic.summary(figures))
    test.assertTrue(fractions and max(fractions) <= 1.0)
    polydata = outputModel.GetPolyData()
    test.assertGreater(polydata.GetNumberOfPolys(), 10000)
    test.assertEqual(closed_surface_edges(polydata), 0)
    volumeBounds, modelBounds = [0.0] * 6, [0.0] * 6  # the model lies inside the volume (RAS, 1 mm)
    volumeNode.GetRASBounds(volumeBounds)
    outputModel.GetRASBounds(modelBounds)
    for axis in range(3):
        test.assertGreaterEqual(modelBounds[2 * axis], volumeBounds[2 * axis] - 1.0)
        test.assertLessEqual(modelBounds[2 * axis + 1], volumeBounds[2 * axis + 1] + 1.0)
    case = workflow.open_case(case.folder)
    test.assertEqual(case.steps["model"], "done")
    test.assertTrue(case.path(case.results["model"]["file"]).is_file())

    with isolated_user_folders(folder):
        from medprint.printing.config import PrinterConfig, printer_choices, save_printer

        for feature in ("export", "print", "registry"):
            test.assertTrue(dependencies.ensure_feature(feature, requester="MedPrint test"))
        test.delayDisplay("export: " + logic.exportCase(case))  # the panel's defaults: the case's printer, repair
        save_printer(PrinterConfig(name="selftest-mk4", kind="octoprint", address="http://127.0.0.1:9",
                                   api_key="not-a-key", profile="prusa-mk4"))
        test.assertEqual([value for _text, value in print_panel.printer_items(printer_choices())],
                         ["", print_panel.SLICE_ONLY, "selftest-mk4"])
        parameters.printPrinter = "selftest-mk4"
        printed = logic.printCase(workflow.open_case(case.folder), parameters.printPrinter)
        test.delayDisplay("print: " + printed)
        result = workflow.open_case(case.folder).results["print"]
        if "skipped" not in result:  # sliced for the chosen printer, which did not answer
            test.assertEqual(result["printer_profile"], "prusa-mk4")
            test.assertIn("not_sent", result)
        for name, value in FORM.items():
            setattr(parameters, name, value)
        notes = logic.reviewRegisterForm(workflow.open_case(case.folder), parameters.parameterNode)
        test.assertEqual([text for level, text in notes if level == "error"], [])
        test.delayDisplay("register: " + logic.runStep(workflow.open_case(case.folder), "register"))
        (entry,) = Outbox(folder / "data" / "registry-outbox.sqlite3").entries()
        test.assertIn(b'"age_band":"50-59"', entry.payload)
        test.assertIn(b'"usefulness":4', entry.payload)
        test.assertIn("pending", logic.outboxStatus())


def guide_from_markups_on_the_demo_ct(test, logic, folder: Path) -> None:
    """The built-in demo plan placed as markups on the built-in demo CT's bone gives a verified guide."""
    import slicer

    from medprint import workflow
    from medprint.guide.plan import load_plan
    from medprint.guide.step import DEMO_PLAN

    from . import case_node, dependencies
    from .markups_plan import markups_from_plan

    files = sorted(str(path) for path in workflow.DEMO_CT.glob("*.dcm"))
    volumeNode = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "demo CT")
    storage = slicer.vtkMRMLVolumeArchetypeStorageNode()
    storage.SetFileName(files[0])
    for name in files:
        storage.AddFileName(name)
    storage.SetSingleFile(False)
    test.assertTrue(storage.ReadData(volumeNode))
    case = workflow.create_case(folder / "guide-case", "selftest-guide")
    logic.makeModel(volumeNode, slicer.mrmlScene.AddNewNodeByClass("vtkMRMLModelNode", "bone"),
                    case_node.model_settings_from_parameters(logic.getParameterNode().parameterNode), case=case)
    markups = markups_from_plan(load_plan(DEMO_PLAN), slicer.mrmlScene)
    logic.saveGuidePlan(case, markups["contact_points"], None, markups["trajectories"], markups["cuts"])
    test.assertTrue(dependencies.ensure_feature("guide", requester="MedPrint test"))
    modelsBefore = slicer.mrmlScene.GetNumberOfNodesByClass("vtkMRMLModelNode")
    test.delayDisplay("guide: " + logic.runStep(case, "guide"))
    test.assertEqual(workflow.open_case(case.folder).steps["guide"], "done")
    test.assertEqual(slicer.mrmlScene.GetNumberOfNodesByClass("vtkMRMLModelNode"), modelsBefore + 1)
