"""MedPrint: a guided print workflow in 3D Slicer, from a CT to a registered print.

One collapsible section per step (segment, model, guide, export, print, register), each with a status
line and a Next button. The GUI collects inputs into a parameter node saved with the scene; the logic
converts nodes with ``MedPrintLib`` and calls the ``medprint`` core, which does all the work and knows
nothing about Slicer. The steps' results live in a case folder (``medprint.workflow``), the same one
the command line uses. The later sections' handlers and case actions live in ``MedPrintLib``'s
``*_panel`` modules. Packages that Slicer does not ship are installed on first use, with consent
(``MedPrintLib.dependencies``), never imported here at module level.
"""

from pathlib import Path
from typing import Annotated, Optional

import vtk

import slicer
from slicer.i18n import tr as _
from slicer.i18n import translate
from slicer.parameterNodeWrapper import Choice, Maximum, Minimum, parameterNodeWrapper
from slicer.ScriptedLoadableModule import (
    ScriptedLoadableModule,
    ScriptedLoadableModuleLogic,
    ScriptedLoadableModuleTest,
    ScriptedLoadableModuleWidget,
)
from slicer.util import VTKObservationMixin
from slicer import (
    vtkMRMLMarkupsClosedCurveNode,
    vtkMRMLMarkupsFiducialNode,
    vtkMRMLMarkupsLineNode,
    vtkMRMLMarkupsPlaneNode,
    vtkMRMLModelNode,
    vtkMRMLScalarVolumeNode,
    vtkMRMLSegmentationNode,
)

from MedPrintLib import (case_node, dependencies, export_panel, guide_panel, markups_plan, model_node, model_panel,
                         print_panel, register_form, register_panel, workflow_selftest)
from MedPrintLib.panel_widgets import show_rows
from MedPrintLib.progress_dialog import run_with_progress
from MedPrintLib.model_panel import PRESET_COLORS
from MedPrintLib.step_status import open_case_status, step_status
from medprint import workflow
from medprint.build_volume import PRINTERS
from medprint.export import FORMATS
from medprint.segment import PRESETS

#: printing technologies a guide is designed for (the keys of medprint.guide.plan.TECHNOLOGIES)
GUIDE_TECHNOLOGIES = ("resin", "fdm")
#: what each later step needs beyond Slicer (keys of MedPrintLib.dependencies.FEATURES)
STEP_FEATURES = {"guide": "guide", "export": "export", "print": "print", "register": "registry"}
#: Register form field types: minutes (-1 unknown), 1-5 scores (0 unknown), units claimed
Minutes = Annotated[int, Minimum(-1), Maximum(100_000)]
Score = Annotated[int, Minimum(0), Maximum(5)]
Units = Annotated[int, Minimum(1), Maximum(20)]


def formChoice(name: str) -> Choice:
    """The choices of a Register form field (``MedPrintLib.register_form.FIELDS``)."""
    return Choice(register_form.FIELDS[name][2])


#
# MedPrint
#


class MedPrint(ScriptedLoadableModule):
    """Module description shown in Slicer's module panel."""

    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = _("MedPrint")
        self.parent.categories = [translate("qSlicerAbstractCoreModule", "Printing")]
        self.parent.dependencies = ["Segmentations", "Markups"]
        self.parent.contributors = ["MedPrint developers"]
        self.parent.helpText = _("""
From a CT to a printed part, step by step: choose a case folder and label, segment the tissue (a preset
one click away, then Slicer's Segment Editor), make a closed model in millimetres, design a surgical
guide from markups, check and export the print files, print on the printer you choose, and record the
case with the registry form. Each step shows its status; Next opens the following step. Results are
kept in the case folder, as with the medprint command.
""")
        self.parent.acknowledgementText = _("""
Built on 3D Slicer's scripted-module template (Jean-Christophe Fillion-Robin, Kitware Inc.,
Andras Lasso, PerkLab, and Steve Pieper, Isomics, Inc.).
""")


#
# MedPrintParameterNode
#


@parameterNodeWrapper
class MedPrintParameterNode:
    """Everything the workflow needs, saved with the scene. Units: mm; smoothing 0..1.

    caseFolder, caseLabel - where the case's files go, and the label naming them (never patient data).
    inputVolume, segmentation, segmentId - the CT and the segment the model is made of.
    preset - tissue preset (a key of medprint.segment.PRESETS) used by "Add segment from preset".
    smoothing, targetTriangles - surface smoothing factor, and decimation target (0 keeps all).
    outputModel - the model node the surface goes into (created when empty).
    guide* - the guide plan's markups (contact points or curve, drill lines, cut planes), printing
        technology and wall thickness (mm).
    export* - the printer the parts are checked for, repair on/off, and an extra copy's format,
        coordinates (LPS as files, RAS as the scene) and folder.
    printPrinter - the configured printer the print step sends to ("" = the first that answers).
    register* - the registry case form (MedPrintLib.register_form: defaults mean "not answered").
    """

    caseFolder: Path
    caseLabel: str
    inputVolume: vtkMRMLScalarVolumeNode
    segmentation: vtkMRMLSegmentationNode
    segmentId: str
    preset: Annotated[str, Choice(list(PRESETS))] = "bone"
    smoothing: Annotated[float, Minimum(0.0), Maximum(1.0)] = 0.5
    targetTriangles: Annotated[int, Minimum(0), Maximum(10_000_000)] = 0
    outputModel: vtkMRMLModelNode
    guideContactPoints: vtkMRMLMarkupsFiducialNode
    guideContactCurve: vtkMRMLMarkupsClosedCurveNode
    guideTrajectories: list[vtkMRMLMarkupsLineNode]
    guideCutPlanes: list[vtkMRMLMarkupsPlaneNode]
    guideTechnology: Annotated[str, Choice(list(GUIDE_TECHNOLOGIES))] = "resin"
    guideThickness: Annotated[float, Minimum(1.0), Maximum(10.0)] = 3.0
    exportPrinter: Annotated[str, Choice([export_panel.CASE_PRINTER, *PRINTERS])] = export_panel.CASE_PRINTER
    exportRepair: bool = True
    exportFormat: Annotated[str, Choice(list(FORMATS))] = "3mf"
    exportSpace: Annotated[str, Choice(["LPS", "RAS"])] = "LPS"
    exportFolder: Path
    printPrinter: str
    registerAgeBand: Annotated[str, formChoice("registerAgeBand")] = "unknown"
    registerSex: Annotated[str, formChoice("registerSex")] = "unknown"
    registerIndication: Annotated[str, formChoice("registerIndication")] = "unknown"
    registerIndicationText: str
    registerRegion: str
    registerStructure: str
    registerLaterality: Annotated[str, formChoice("registerLaterality")] = "from the case"
    registerPurpose: Annotated[str, formChoice("registerPurpose")] = "unknown"
    registerPrinted: Annotated[str, formChoice("registerPrinted")] = "unknown"
    registerTechnology: Annotated[str, formChoice("registerTechnology")] = "from the case"
    registerMaterial: str
    registerSurgeryPerformed: Annotated[str, formChoice("registerSurgeryPerformed")] = "unknown"
    registerConsultationClinician: Minutes = -1
    registerConsultationOther: Minutes = -1
    registerSegmentationClinician: Minutes = -1
    registerSegmentationOther: Minutes = -1
    registerCadClinician: Minutes = -1
    registerCadOther: Minutes = -1
    registerPostProcessingClinician: Minutes = -1
    registerPostProcessingOther: Minutes = -1
    registerUsefulness: Score = 0
    registerConfidenceBefore: Score = 0
    registerConfidenceAfter: Score = 0
    registerPlanChanged: Annotated[str, formChoice("registerPlanChanged")] = "unknown"
    registerMinutesSaved: Minutes = -1
    registerModelCode: Annotated[str, Choice(register_form.code_choices("anatomic_model"))] = "suggested"
    registerModelUnits: Units = 1
    registerGuideCode: Annotated[str, Choice(register_form.code_choices("anatomic_guide"))] = "suggested"
    registerGuideUnits: Units = 1


#
# MedPrintWidget
#


class MedPrintWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    """The workflow panel: one section per step, widgets bound to the parameter node. The export, print
    and register sections' handlers are ``MedPrintLib`` panels, given this widget as their host."""

    def __init__(self, parent=None) -> None:
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self.logic = None
        self._parameterNode = None
        self._parameterNodeGuiTag = None
        self._messages = {}  # step -> the last action's outcome, shown on its status line

    def setup(self) -> None:
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/MedPrint.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        # the .ui connects the top widget's mrmlSceneChanged signal to each MRML widget's setMRMLScene
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = MedPrintLogic()

        # step -> (section, status line, Next button); the order is the workflow's
        self._sections = {
            "segment": (self.ui.segmentCollapsibleButton, self.ui.segmentStatusLabel, self.ui.segmentNextButton),
            "model": (self.ui.modelCollapsibleButton, self.ui.modelStatusLabel, self.ui.modelNextButton),
            "guide": (self.ui.guideCollapsibleButton, self.ui.guideStatusLabel, self.ui.guideNextButton),
            "export": (self.ui.exportCollapsibleButton, self.ui.exportStatusLabel, self.ui.exportNextButton),
            "print": (self.ui.printCollapsibleButton, self.ui.printStatusLabel, self.ui.printNextButton),
            "register": (self.ui.registerCollapsibleButton, self.ui.registerStatusLabel, None),
        }
        self._titles = {step: widgets[0].text for step, widgets in self._sections.items()}
        self._runButtons = {"guide": self.ui.guideRunButton, "export": self.ui.exportRunButton,
                            "print": self.ui.printRunButton, "register": self.ui.registerRunButton}
        self._resultTables = {"guide": self.ui.guideResultsTable, "export": self.ui.exportResultsTable,
                              "print": self.ui.printResultsTable, "register": self.ui.registerResultsTable}

        editor = self.ui.segmentEditorWidget  # our selectors choose its segmentation and volume
        editor.setSegmentationNodeSelectorVisible(False)
        editor.setSourceVolumeNodeSelectorVisible(False)
        editor.setMaximumNumberOfUndoStates(10)
        editor.setMRMLSegmentEditorNode(self.logic.getSegmentEditorNode())

        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)
        # the sections' own widgets and actions (MedPrintLib panels; this widget is their host)
        self._panels = {"model": model_panel.ModelPanel(self), "guide": guide_panel.GuidePanel(self),
                        "export": export_panel.ExportPanel(self), "print": print_panel.PrintPanel(self),
                        "register": register_panel.RegisterPanel(self)}
        self.ui.printCollapsibleButton.connect(
            "contentsCollapsed(bool)", lambda collapsed: collapsed or self._panels["print"].refreshPrinters())
        self.ui.registerCollapsibleButton.connect(
            "contentsCollapsed(bool)", lambda collapsed: collapsed or self._panels["register"].onOpened())
        for step, button in self._runButtons.items():
            button.connect("clicked(bool)", lambda checked=False, step=step: self.onRunStep(step))
        for step, (section, status, nextButton) in self._sections.items():
            if nextButton is not None:
                nextButton.connect("clicked(bool)", lambda checked=False, step=step: self.goToNextStep(step))
        self.initializeParameterNode()

    def cleanup(self) -> None:
        self.removeObservers()

    def enter(self) -> None:
        self.initializeParameterNode()
        self._panels["print"].refreshPrinters()
        self.ui.segmentEditorWidget.installKeyboardShortcuts()

    def exit(self) -> None:
        editor = self.ui.segmentEditorWidget
        editor.setActiveEffect(None)
        editor.uninstallKeyboardShortcuts()
        editor.removeViewObservations()
        self.setParameterNode(None)

    def onSceneStartClose(self, caller, event) -> None:
        self.setParameterNode(None)
        self.ui.segmentEditorWidget.setSegmentationNode(None)
        self.ui.segmentEditorWidget.removeViewObservations()

    def onSceneEndClose(self, caller, event) -> None:
        self._messages = {}
        self.ui.segmentEditorWidget.setMRMLSegmentEditorNode(self.logic.getSegmentEditorNode())
        if self.parent.isEntered:
            self.initializeParameterNode()

    def initializeParameterNode(self) -> None:
        self.setParameterNode(self.logic.getParameterNode())
        if not self._parameterNode.inputVolume:
            firstVolumeNode = slicer.mrmlScene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
            if firstVolumeNode:
                self._parameterNode.inputVolume = firstVolumeNode

    def setParameterNode(self, inputParameterNode: Optional[MedPrintParameterNode]) -> None:
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._updateGui)
        self._parameterNode = inputParameterNode
        if self._parameterNode:
            # widgets with the "SlicerParameterName" property in the .ui are bound to the fields
            self._parameterNodeGuiTag = self._parameterNode.connectGui(self.ui)
            self.addObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._updateGui)
            self._updateGui()

    @property
    def parameters(self) -> Optional[MedPrintParameterNode]:
        """The parameter node the panels read and write."""
        return self._parameterNode

    def _updateGui(self, caller=None, event=None) -> None:
        parameters = self._parameterNode
        if parameters is None:
            return
        preset = PRESETS.get(parameters.preset)
        self.ui.presetDescriptionLabel.text = preset.description if preset else ""
        editor = self.ui.segmentEditorWidget
        if editor.segmentationNode() is not parameters.segmentation:
            editor.setSegmentationNode(parameters.segmentation)
        if editor.sourceVolumeNode() is not parameters.inputVolume:
            editor.setSourceVolumeNode(parameters.inputVolume)

        case, self.ui.caseStatusLabel.text = open_case_status(
            parameters.parameterNode.GetParameter(case_node.CASE_FOLDER))
        for step, (section, status, nextButton) in self._sections.items():
            suffix, status.text, runnable = step_status(case, step, self._messages.get(step, ""))
            section.text = self._titles[step] + suffix
            if step in self._runButtons:
                self._runButtons[step].enabled = runnable
                show_rows(self._resultTables[step], case_node.result_rows(case.results.get(step, {}) if case else {}))
        for step in ("model", "guide", "export", "print"):
            self._panels[step].update(case)
        self._panels["register"].update(case, self._runButtons["register"].enabled)

    def goToNextStep(self, step: str) -> None:
        steps = list(self._sections)
        self._sections[step][0].collapsed = True
        self._sections[steps[steps.index(step) + 1]][0].collapsed = False

    # ------------------------------------------------------------------ actions

    def run(self, step: str, labelText: str, function, cancelled: str = ""):
        """``function(progress)`` behind a cancellable progress dialog (MedPrintLib.progress_dialog); its
        result, or None with the reason on the step's status line."""
        result, message = run_with_progress(step, labelText, function, cancelled)
        if message:
            self._messages[step] = message
        self._updateGui()
        return result

    def report(self, step: str, message: str) -> None:
        """Show ``message`` on the step's status line."""
        self._messages[step] = message
        self._updateGui()

    def onRunStep(self, step: str) -> None:
        if not dependencies.ensure_feature(STEP_FEATURES[step], requester="MedPrint"):
            self.report(step, _("Cancelled: required Python packages are not installed."))
            return
        parameters = self._parameterNode

        summary = self.run(step, _("Running the {step} step...").format(step=step),
                           lambda progress: self._panels[step].runStep(self.logic.caseOf(parameters), progress))
        if summary:
            self.report(step, summary)


#
# MedPrintLogic
#


class MedPrintLogic(ScriptedLoadableModuleLogic):
    """Nodes in, nodes out: converts with MedPrintLib and calls the core. No GUI: usable from the
    Python console and batch scripts. Errors are ``medprint.errors.MedPrintError`` with a message.
    The later steps' case actions are ``MedPrintLib``'s panel functions, exposed here."""

    exportCase = staticmethod(export_panel.export_case)
    qaReport = staticmethod(export_panel.qa_report)
    saveExportCopy = staticmethod(export_panel.save_export_copy)
    printCase = staticmethod(print_panel.print_case)
    followPrint = staticmethod(print_panel.follow_print)
    newSegmentation = staticmethod(model_panel.new_segmentation)
    addPresetSegment = staticmethod(model_panel.add_preset_segment)
    makeModel = staticmethod(model_panel.make_model)
    summary = staticmethod(model_panel.model_summary)
    saveRegisterForm = staticmethod(register_panel.save_form_answers)
    reviewRegisterForm = staticmethod(register_panel.review_form)
    outboxStatus = staticmethod(register_panel.outbox_status)

    def __init__(self) -> None:
        ScriptedLoadableModuleLogic.__init__(self)

    def getParameterNode(self):
        return MedPrintParameterNode(super().getParameterNode())

    @staticmethod
    def getSegmentEditorNode():
        """MedPrint's own Segment Editor parameter node (a singleton, so it is saved with the scene)."""
        node = slicer.mrmlScene.GetSingletonNode("MedPrint", "vtkMRMLSegmentEditorNode")
        if node is None:
            node = slicer.vtkMRMLSegmentEditorNode()
            node.SetSingletonTag("MedPrint")
            node = slicer.mrmlScene.AddNode(node)
        return node

    @staticmethod
    def caseOf(parameters):
        """The case the parameter node points at (created on first use)."""
        return case_node.case_from_parameters(parameters.parameterNode)

    @staticmethod
    def saveGuidePlan(case, contactPoints, contactCurve, trajectories, cutPlanes, technology: str = "resin",
                      thickness: float = 3.0):
        """The guide plan from markups (contact point list or closed curve, drill lines, cut planes),
        written into the case where the guide step reads it; returns its path."""
        plan = markups_plan.plan_from_markups(contactPoints, contactCurve, trajectories, cutPlanes,
                                              technology=technology, thickness_mm=thickness, case_label=case.label)
        return case_node.save_guide_plan(case, plan)

    @staticmethod
    def runStep(case, step: str, progress=None) -> str:
        """Run a later step's core runner on the case and show the models it wrote; returns its summary."""
        summary = workflow.run_later_step(case, step, progress)
        for name, mesh in case_node.step_models(workflow.open_case(case.folder), step):
            model_node.add_model_node(slicer.mrmlScene, mesh, name=name)
        return summary

#
# MedPrintTest
#


class MedPrintTest(ScriptedLoadableModuleTest):
    """Slicer self-test: the whole workflow on the CTChest sample data set (segment, model, export, print
    on a chosen printer, the Register form, register) and a guide from markups on the demo CT, in
    temporary folders (MedPrintLib.workflow_selftest; nothing is printed or submitted)."""

    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        self.setUp()
        self.test_parameter_defaults()
        self.setUp()
        self.test_workflow_on_CTChest()
        self.setUp()
        self.test_guide_from_markups_on_the_demo_CT()

    def test_parameter_defaults(self):
        parameters = MedPrintLogic().getParameterNode()
        self.assertEqual(parameters.preset, "bone")
        self.assertAlmostEqual(parameters.smoothing, 0.5)
        self.assertEqual(parameters.targetTriangles, 0)
        self.assertEqual(set(PRESETS), set(PRESET_COLORS))
        self.assertEqual(register_form.answers_from_parameters(parameters.parameterNode), {})  # nothing answered

    def test_workflow_on_CTChest(self):
        import SampleData

        self.delayDisplay("Loading CTChest")
        volumeNode = SampleData.downloadSample("CTChest")
        self.assertIsNotNone(volumeNode)
        logic = MedPrintLogic()
        workflow_selftest.workflow_on_ctchest(self, logic, logic.getParameterNode(), volumeNode,
                                              Path(slicer.util.tempDirectory()))
        self.delayDisplay("Test passed")

    def test_guide_from_markups_on_the_demo_CT(self):
        workflow_selftest.guide_from_markups_on_the_demo_ct(self, MedPrintLogic(), Path(slicer.util.tempDirectory()))
        self.delayDisplay("Test passed")
