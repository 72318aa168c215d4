"""T1: the workflow Slicer's self-test runs (MedPrintLib.workflow_selftest, called by MedPrintTest), run
here on real MRML classes with the real abdomen CT in place of Slicer's CTChest sample (which Slicer
downloads): segment, model, export, print on the chosen printer, the Register form, register.

The ``test`` object is a ``unittest.TestCase`` (what ScriptedLoadableModuleTest is) whose
``delayDisplay`` collects the messages; the logic is MedPrint.py's own (``module`` fixture, conftest.py)."""

import unittest

import slicer

from medprint.registry.outbox import Outbox
from medprint.workflow import open_case
from slicer_reader import read_ct_with_slicer


class SelfTest(unittest.TestCase):
    """What the workflow needs of ScriptedLoadableModuleTest: its asserts and delayDisplay."""

    __test__ = False  # a helper, not a test case for pytest to collect

    def __init__(self):
        super().__init__("runTest")
        self.messages = []

    def runTest(self):  # unittest needs a test method name; the workflow is run by the test below
        pass

    def delayDisplay(self, message, msec=0):
        self.messages.append(message)


class StoredFields:
    """The parameter node as parameterNodeWrapper stores it (each field a parameter of a real
    vtkMRMLScriptedModuleNode, ``str(value)``, as Slicer's serializers write them); ``parameterNode`` is
    the node, as on the wrapper."""

    def __init__(self, node):
        object.__setattr__(self, "parameterNode", node)

    def __setattr__(self, name, value):
        self.parameterNode.SetParameter(name, str(value))

    def __getattr__(self, name):
        return self.parameterNode.GetParameter(name)


def test_the_self_tests_workflow_runs_to_a_registered_case(module, ct_dir, tmp_path):
    from MedPrintLib import workflow_selftest

    test = SelfTest()
    volume = read_ct_with_slicer(slicer.mrmlScene, ct_dir / "abdomen-pancreas-ctcb001")
    parameters = StoredFields(slicer.mrmlScene.AddNewNodeByClass("vtkMRMLScriptedModuleNode"))
    workflow_selftest.workflow_on_ctchest(test, module.MedPrintLogic(), parameters, volume, tmp_path)
    case = open_case(tmp_path / "case")
    assert case.steps["model"] == case.steps["export"] == case.steps["register"] == "done"
    printed = case.results["print"]  # the chosen printer reached the print step
    assert printed.get("printer_profile") == "prusa-mk4" or "do not fit selftest-mk4" in printed["skipped"]
    assert [m.split(":")[0] for m in test.messages] == ["Model made", "export", "print", "register"]
    (entry,) = Outbox(tmp_path / "data" / "registry-outbox.sqlite3").entries()  # the test's own outbox
    assert entry.status == "pending" and b'"indication_category":"thoracic"' in entry.payload
    assert (tmp_path / "config" / "printers.json").is_file()  # its printer, in its own config folder
