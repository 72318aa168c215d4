"""MedPrint: a guided print workflow in 3D Slicer, from a CT to a registered print.

One collapsible section per step (segment, model, guide, export, print, register), each with a status
line and a Next button. The GUI collects inputs into a parameter node saved with the scene; the logic
converts nodes with ``MedPrintLib`` and calls the ``medprint`` core, which does all the work and knows
nothing about Slicer. The steps' results live in a case folder (``medprint.workflow``), the same one
the command line uses. Packages that Slicer does not ship are installed on first use, with consent
(``MedPrintLib.dependencies``), never imported here at module level.
"""

import logging
import os
import time
import traceback
from pathlib import Path
from typing import Annotated, Optional

import qt
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

from MedPrintLib import case_node, dependencies, markups_plan, model_node, segmentation_node, volume_node
from medprint import workflow
from medprint.build_volume import DEFAULT_PRINTER, PRINTERS
from medprint.errors import MedPrintError
from medprint.export import FORMATS
from medprint.segment import PRESETS

#: model and segment colours per preset (RGB 0..1)
PRESET_COLORS = {
    "bone": (0.89, 0.85, 0.79),
    "cortical-bone": (0.95, 0.93, 0.88),
    "soft-tissue": (0.85, 0.55, 0.50),
    "contrast-vessels": (0.80, 0.20, 0.20),
}
#: printing technologies a guide is designed for (the keys of medprint.guide.plan.TECHNOLOGIES)
GUIDE_TECHNOLOGIES = ("resin", "fdm")
#: the steps after the model, run by the core's registered runners (medprint.workflow.STEP_RUNNERS)
LATER_STEPS = ("guide", "export", "print", "register")
#: what each later step needs beyond Slicer (keys of MedPrintLib.dependencies.FEATURES)
STEP_FEATURES = {"guide": "guide", "export": "export", "print": "print", "register": "registry"}


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
guide from markups, check and export the print files, print, and record the case. Each step shows its
status; Next opens the following step. Results are kept in the case folder, as with the medprint command.
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
    exportPrinter: Annotated[str, Choice(list(PRINTERS))] = DEFAULT_PRINTER
    exportRepair: bool = True
    exportFormat: Annotated[str, Choice(list(FORMATS))] = "3mf"
    exportSpace: Annotated[str, Choice(["LPS", "RAS"])] = "LPS"
    exportFolder: Path


#
# MedPrintWidget
#


class _Cancelled(Exception):
    """Raised from the progress callback when the user presses Cancel."""


class MedPrintWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    """The workflow panel: one section per step, widgets bound to the parameter node."""

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
        self.ui.presetButton.connect("clicked(bool)", self.onPresetButton)
        self.ui.makeModelButton.connect("clicked(bool)", self.onMakeModelButton)
        # ticked markups lists: qMRMLCheckableNodeComboBox has no parameterNodeWrapper connector
        self._checkableSelectors = {"guideTrajectories": self.ui.guideTrajectoriesSelector,
                                    "guideCutPlanes": self.ui.guideCutPlanesSelector}
        for name, selector in self._checkableSelectors.items():
            selector.connect("checkedNodesChanged()", lambda name=name: self.onCheckedNodesChanged(name))
        self.ui.exportSaveButton.connect("clicked(bool)", self.onExportSaveButton)
        self.ui.exportReportButton.connect("clicked(bool)", self.onExportReportButton)
        self.ui.printFollowButton.connect("clicked(bool)", self.onPrintFollowButton)
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

    # ------------------------------------------------------------------ status

    def _openCase(self):
        """(case, status text): the case the parameter node points at if its folder already holds one
        (never creates it), or None and what the folder is."""
        folder = self._parameterNode.parameterNode.GetParameter(case_node.CASE_FOLDER)
        if folder in ("", ".") or not (Path(folder) / "case.json").is_file():
            return None, _("Choose a folder and a label: the case is created there on the first step.")
        try:
            case = workflow.open_case(folder)
        except MedPrintError as error:
            return None, error.message
        return case, _("Case '{label}' in {folder}").format(label=case.label, folder=case.folder)

    def _updateGui(self, caller=None, event=None) -> None:
        parameters = self._parameterNode
        if parameters is None:
            return
        preset = PRESETS.get(parameters.preset)
        self.ui.presetDescriptionLabel.text = preset.description if preset else ""
        hasVolume = parameters.inputVolume is not None
        self.ui.presetButton.enabled = hasVolume
        self.ui.makeModelButton.enabled = hasVolume
        editor = self.ui.segmentEditorWidget
        if editor.segmentationNode() is not parameters.segmentation:
            editor.setSegmentationNode(parameters.segmentation)
        if editor.sourceVolumeNode() is not parameters.inputVolume:
            editor.setSourceVolumeNode(parameters.inputVolume)

        for name, selector in self._checkableSelectors.items():
            wanted = {node.GetID() for node in getattr(parameters, name) if node is not None}
            if wanted != {node.GetID() for node in selector.checkedNodes()}:
                wasBlocked = selector.blockSignals(True)
                for index in range(selector.nodeCount()):
                    node = selector.nodeFromIndex(index)
                    selector.setCheckState(node, qt.Qt.Checked if node.GetID() in wanted else qt.Qt.Unchecked)
                selector.blockSignals(wasBlocked)
        case, self.ui.caseStatusLabel.text = self._openCase()
        modelDone = bool(case and case.steps.get("model") == "done")
        for step, (section, status, nextButton) in self._sections.items():
            reason = workflow.UNAVAILABLE.get(step) if step in LATER_STEPS else None
            section.text = self._titles[step] + (_(" (not available yet)") if reason else "")
            state = case.steps.get(step, "pending") if case else "pending"
            if reason:
                status.text = _("Not available yet: {reason}.").format(reason=reason)
            else:
                status.text = self._messages.get(step) or {"done": _("Done."), "skipped": _("Skipped.")}.get(
                    state, _("To do."))
            if step in self._runButtons:
                self._runButtons[step].enabled = bool(not reason and modelDone)
                self._showResults(self._resultTables[step], case.results.get(step, {}) if case else {})
        exported = bool(case and case.steps.get("export") == "done")
        self.ui.exportReportButton.enabled = bool(exported and self.logic.qaReport(case))
        self.ui.exportSaveButton.enabled = exported and str(parameters.exportFolder) not in ("", ".")
        self.ui.printFollowButton.enabled = bool(case and case.results.get("print", {}).get("sent"))

    @staticmethod
    def _showResults(table, results: dict) -> None:
        """The figures a step recorded, one row each (nested ones with dotted keys)."""
        rows = case_node.result_rows(results)
        table.setRowCount(len(rows))
        for row, (key, text) in enumerate(rows):
            table.setItem(row, 0, qt.QTableWidgetItem(key))
            table.setItem(row, 1, qt.QTableWidgetItem(text))

    def onCheckedNodesChanged(self, name: str) -> None:
        if self._parameterNode:
            setattr(self._parameterNode, name, list(self._checkableSelectors[name].checkedNodes()))

    def goToNextStep(self, step: str) -> None:
        steps = list(self._sections)
        self._sections[step][0].collapsed = True
        self._sections[steps[steps.index(step) + 1]][0].collapsed = False

    # ------------------------------------------------------------------ actions

    def _run(self, step: str, labelText: str, function, cancelled: str = ""):
        """Run ``function(progress)`` with a cancellable progress dialog; errors go to a message box
        (the core's own message) and the log (no patient data). Returns its result, or None.
        ``cancelled`` is the status line after Cancel (default: "Cancelled.")."""
        dialog = slicer.util.createProgressDialog(parent=slicer.util.mainWindow(), windowTitle=_("MedPrint"),
                                                  labelText=labelText, maximum=100)

        def progress(fraction: float, message: str) -> None:
            if dialog.wasCanceled:
                raise _Cancelled()
            dialog.value = int(round(100 * min(max(fraction, 0.0), 1.0)))
            dialog.labelText = message
            slicer.app.processEvents()

        try:
            return function(progress)
        except _Cancelled:
            self._messages[step] = cancelled or _("Cancelled.")
        except MedPrintError as error:
            self._messages[step] = _("Failed: ") + error.message
            details = {"detailedText": error.detail} if error.detail else {}
            slicer.util.errorDisplay(str(error), windowTitle=_("MedPrint"), **details)
        except Exception:  # an unexpected error: say so, keep the traceback for the details box
            logging.exception("MedPrint: the %s step failed", step)
            self._messages[step] = _("Failed (unexpected error, see the Python console).")
            slicer.util.errorDisplay(_("The {step} step failed because of an unexpected error.").format(step=step),
                                     windowTitle=_("MedPrint"), detailedText=traceback.format_exc())
        finally:
            dialog.close()
            self._updateGui()
        return None

    def onPresetButton(self) -> None:
        parameters = self._parameterNode
        if not parameters.segmentation:
            parameters.segmentation = self.logic.newSegmentation(parameters.inputVolume)
        added = self._run("segment", _("Segmenting..."), lambda progress: self.logic.addPresetSegment(
            parameters.inputVolume, parameters.segmentation, parameters.preset, progress))
        if added:
            segmentId, figures = added
            parameters.segmentId = segmentId
            self.ui.segmentEditorWidget.setCurrentSegmentID(segmentId)
            self._messages["segment"] = _("Segment '{preset}' added: {volume:.1f} mL. Refine it with the tools below, "
                                          "then press Next.").format(preset=parameters.preset,
                                                                     volume=figures["mask_volume_cm3"])
            self._updateGui()

    def onMakeModelButton(self) -> None:
        parameters = self._parameterNode
        if not parameters.outputModel:
            parameters.outputModel = slicer.mrmlScene.AddNewNodeByClass(
                "vtkMRMLModelNode", slicer.mrmlScene.GenerateUniqueName(f"{parameters.preset} model"))
        segmentId = self.ui.segmentEditorWidget.currentSegmentID() if parameters.segmentation else ""
        parameters.segmentId = segmentId or ""

        def make(progress):  # without a case folder the model is made but not saved
            case = self.logic.caseOf(parameters) if str(parameters.caseFolder) not in ("", ".") else None
            return self.logic.makeModel(parameters.inputVolume, parameters.outputModel,
                                        case_node.model_settings_from_parameters(parameters.parameterNode),
                                        parameters.segmentation, parameters.segmentId, case, progress)

        figures = self._run("model", _("Making the model..."), make)
        if figures:
            self._messages["model"] = self.logic.summary(figures)
            self._updateGui()

    def onRunStep(self, step: str) -> None:
        if not dependencies.ensure_feature(STEP_FEATURES[step], requester="MedPrint"):
            self._messages[step] = _("Cancelled: required Python packages are not installed.")
            self._updateGui()
            return
        parameters = self._parameterNode

        def run(progress):
            case = self.logic.caseOf(parameters)
            if step == "guide":
                self.logic.saveGuidePlan(case, parameters.guideContactPoints, parameters.guideContactCurve,
                                         list(parameters.guideTrajectories), list(parameters.guideCutPlanes),
                                         parameters.guideTechnology, parameters.guideThickness)
            if step == "export":
                return self.logic.exportCase(case, parameters.exportPrinter, parameters.exportRepair, progress)
            return self.logic.runStep(case, step, progress)

        summary = self._run(step, _("Running the {step} step...").format(step=step), run)
        if summary:
            self._messages[step] = summary
            self._updateGui()

    def onExportSaveButton(self) -> None:
        parameters = self._parameterNode
        saved = self._run("export", _("Saving..."), lambda progress: self.logic.saveExportCopy(
            self.logic.caseOf(parameters), parameters.exportFolder, parameters.exportFormat,
            parameters.exportSpace, progress))
        if saved:
            self._messages["export"] = _("Saved {file} ({space}).").format(file=saved, space=parameters.exportSpace)
            self._updateGui()

    def onPrintFollowButton(self) -> None:
        state = self._run("print", _("Following the print..."),
                          lambda progress: self.logic.followPrint(self.logic.caseOf(self._parameterNode), progress),
                          cancelled=_("Stopped following; the printer keeps printing."))
        if state:
            self._messages["print"] = _("The print ended: {state}.").format(state=state)
            self._updateGui()

    def onExportReportButton(self) -> None:
        report = self.logic.qaReport(self.logic.caseOf(self._parameterNode))
        if report:
            qt.QDesktopServices.openUrl(qt.QUrl.fromLocalFile(str(report)))


#
# MedPrintLogic
#


class MedPrintLogic(ScriptedLoadableModuleLogic):
    """Nodes in, nodes out: converts with MedPrintLib and calls the core. No GUI: usable from the
    Python console and batch scripts. Errors are ``medprint.errors.MedPrintError`` with a message."""

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
    def newSegmentation(volumeNode):
        """A new segmentation on ``volumeNode``'s grid, shown in 3-D."""
        segmentation = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Segmentation")
        segmentation.CreateDefaultDisplayNodes()
        segmentation.SetReferenceImageGeometryParameterFromVolumeNode(volumeNode)
        return segmentation

    def addPresetSegment(self, volumeNode, segmentationNode, preset: str, progress=None):
        """Threshold ``volumeNode`` with ``preset``, remove small islands (the core's ``segment``) and add
        the result as a segment named after the preset. Returns (segment ID, figures)."""
        from medprint.segment import SegmentSettings, segment

        volume = volume_node.volume_from_node(volumeNode)
        mask = segment(volume, SegmentSettings(preset=preset), progress)
        segmentId = segmentation_node.set_segment_from_mask(segmentationNode, mask, volume.ijk_to_lps, preset,
                                                            PRESET_COLORS.get(preset, (0.9, 0.9, 0.9)))
        voxels = int(mask.sum())
        return segmentId, {"voxels": voxels, "mask_volume_cm3": voxels * volume.voxel_volume_mm3 / 1000.0}

    def makeModel(self, volumeNode, outputModel, settings, segmentationNode=None, segmentId: str = "",
                  case=None, progress=None) -> dict:
        """The closed surface of the segment (or, without one, of ``settings.preset`` on the volume) into
        ``outputModel`` (RAS, mm), recorded in ``case`` when given (STL in LPS). Returns its figures."""
        from medprint.pipeline import make_model
        from medprint.surface import mask_to_mesh

        if outputModel is None:
            raise MedPrintError("Select or create an output model.")
        volume = volume_node.volume_from_node(volumeNode)
        start = time.perf_counter()
        if segmentationNode is not None and segmentId:
            mask = segmentation_node.mask_from_segment(segmentationNode, segmentId, volume.ijk_to_lps, volume.shape)
            mesh = mask_to_mesh(mask, volume.ijk_to_lps, settings.smoothing, settings.target_triangles,
                                settings.method, progress)
            figures = case_node.model_figures(volume, mask, mesh)
            if case is not None:
                workflow.record_model_step(case, volume, mesh, settings,
                                           {**figures, "seconds": {"surface": time.perf_counter() - start}})
        elif case is not None:
            result, _stl = workflow.run_model_step(case, volume, settings, progress)
            mesh, figures = result.mesh, result.stats
        else:
            result = make_model(volume, settings, progress)
            mesh, figures = result.mesh, result.stats
        model_node.mesh_to_model_node(mesh, outputModel)
        model_node.show_model(outputModel, PRESET_COLORS.get(settings.preset, (0.9, 0.9, 0.9)))
        return figures

    @staticmethod
    def saveGuidePlan(case, contactPoints, contactCurve, trajectories, cutPlanes, technology: str = "resin",
                      thickness: float = 3.0):
        """The guide plan from markups (contact point list or closed curve, drill lines, cut planes),
        written into the case where the guide step reads it; returns its path."""
        plan = markups_plan.plan_from_markups(contactPoints, contactCurve, trajectories, cutPlanes,
                                              technology=technology, thickness_mm=thickness, case_label=case.label)
        return case_node.save_guide_plan(case, plan)

    @staticmethod
    def exportCase(case, printer: str = DEFAULT_PRINTER, repair: bool = True, progress=None) -> str:
        """The export step with the panel's settings (QA for ``printer``, repair or not); the verdicts."""
        from medprint.export_step import ExportSettings, export_case

        record = export_case(case, ExportSettings(printer=printer, repair=repair), progress)
        return "; ".join(f"{name}: {part['verdict']}" for name, part in record["parts"].items())

    @staticmethod
    def qaReport(case):
        """The export step's QA report (HTML) in the case, or None."""
        files = [f for f in case.results.get("export", {}).get("files", []) if f.endswith("-qa.html")]
        return case.path(files[0]) if files and case.path(files[0]).is_file() else None

    @staticmethod
    def saveExportCopy(case, folder, fmt: str, space: str, progress=None):
        """The parts as the export step checked (and repaired) them, in one ``fmt`` file in ``folder``,
        in ``space`` (LPS or RAS) millimetres; returns its path."""
        from medprint.export import Part, write_parts
        from medprint.export_step import case_parts
        from medprint.mesh import read_stl

        if case.steps.get("export") != "done":
            raise MedPrintError("Check and export the parts first.", hint="press Check and export")
        parts = [Part(name, read_stl(case.path("export", f"{name}.stl")), color)
                 for name, _source, color in case_parts(case)]
        return write_parts(parts, Path(folder) / f"{case.label}.{fmt}", space=space, progress=progress)

    @staticmethod
    def followPrint(case, progress=None) -> str:
        """Follow the job the print step sent until it ends (progress = the printer's); its final state."""
        from medprint.printing.config import connect, get_printer
        from medprint.printing.printer import follow

        sent = case.results.get("print", {}).get("sent")
        if not sent:
            raise MedPrintError("The print was not sent to a printer.",
                                hint="configure one (medprint printers add), then Slice and send again")
        printer = connect(get_printer(sent["printer"]))
        try:
            return follow(printer, progress, poll_s=1.0).state
        finally:
            printer.close()

    @staticmethod
    def runStep(case, step: str, progress=None) -> str:
        """Run a later step's core runner on the case and show the models it wrote; returns its summary."""
        summary = workflow.run_later_step(case, step, progress)
        for name, mesh in case_node.step_models(workflow.open_case(case.folder), step):
            model_node.add_model_node(slicer.mrmlScene, mesh, name=name)
        return summary

    @staticmethod
    def summary(figures: dict) -> str:
        """One line for the status label: size and closedness of the model (figures the core measured)."""
        closed = _("closed") if figures["watertight"] else _("NOT closed")
        return _("{triangles:,} triangles, {volume:.1f} mL, {closed}").format(
            triangles=figures["triangles"], volume=figures["volume_cm3"], closed=closed)


#
# MedPrintTest
#


class MedPrintTest(ScriptedLoadableModuleTest):
    """Slicer self-test: the whole workflow on the CTChest sample data set, in a temporary case folder."""

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

    def test_workflow_on_CTChest(self):
        import SampleData

        self.delayDisplay("Loading CTChest")
        volumeNode = SampleData.downloadSample("CTChest")
        self.assertIsNotNone(volumeNode)
        logic = MedPrintLogic()
        parameters = logic.getParameterNode()
        parameters.caseFolder = Path(slicer.util.tempDirectory()) / "case"
        parameters.caseLabel = "selftest"
        case = logic.caseOf(parameters)

        segmentation = logic.newSegmentation(volumeNode)
        segmentId, figures = logic.addPresetSegment(volumeNode, segmentation, "bone")
        self.assertGreater(figures["mask_volume_cm3"], 50.0)  # a chest's bones: several hundred mL

        outputModel = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLModelNode", "bone model")
        fractions = []
        figures = logic.makeModel(volumeNode, outputModel, case_node.model_settings_from_parameters(
            parameters.parameterNode), segmentation, segmentId, case,
            progress=lambda fraction, message: fractions.append(fraction))
        self.delayDisplay("Model made: " + MedPrintLogic.summary(figures))
        self.assertTrue(fractions and max(fractions) <= 1.0)

        polydata = outputModel.GetPolyData()
        self.assertGreater(polydata.GetNumberOfPolys(), 10000)
        edges = vtk.vtkFeatureEdges()  # closed: VTK's own count of open and non-manifold edges
        edges.SetInputData(polydata)
        edges.BoundaryEdgesOn()
        edges.NonManifoldEdgesOn()
        edges.FeatureEdgesOff()
        edges.ManifoldEdgesOff()
        edges.Update()
        self.assertEqual(edges.GetOutput().GetNumberOfCells(), 0)
        volumeBounds, modelBounds = [0.0] * 6, [0.0] * 6  # the model lies inside the volume (RAS, 1 mm)
        volumeNode.GetRASBounds(volumeBounds)
        outputModel.GetRASBounds(modelBounds)
        for axis in range(3):
            self.assertGreaterEqual(modelBounds[2 * axis], volumeBounds[2 * axis] - 1.0)
            self.assertLessEqual(modelBounds[2 * axis + 1], volumeBounds[2 * axis + 1] + 1.0)

        case = workflow.open_case(case.folder)
        self.assertEqual(case.steps["model"], "done")
        self.assertTrue(case.path(case.results["model"]["file"]).is_file())
        # every later step whose core has landed (a guide needs markups on the bone), with the user's
        # printers and registry out of reach: a self-test must not print or submit anything
        isolated = {"MEDPRINT_CONFIG_DIR": str(case.path("selftest-config")),
                    "MEDPRINT_DATA_DIR": str(case.path("selftest-data"))}
        saved = {name: os.environ.pop(name, None) for name in (*isolated, "MEDPRINT_REGISTRY_URL",
                                                                "MEDPRINT_REGISTRY_SITE", "MEDPRINT_REGISTRY_TOKEN")}
        os.environ.update(isolated)
        try:
            for step in LATER_STEPS:
                if step in workflow.UNAVAILABLE or step == "guide":
                    continue
                self.assertTrue(dependencies.ensure_feature(STEP_FEATURES[step], requester="MedPrint test"))
                self.delayDisplay(f"{step}: " + logic.runStep(case, step))
                self.assertIn(workflow.open_case(case.folder).steps[step], ("done", "skipped"))
        finally:
            for name, value in saved.items():
                os.environ.pop(name, None)
                if value is not None:
                    os.environ[name] = value
        self.delayDisplay("Test passed")

    def test_guide_from_markups_on_the_demo_CT(self):
        """The built-in demo plan placed as markups on the built-in demo CT's bone gives a verified guide."""
        from MedPrintLib.markups_plan import markups_from_plan
        from medprint.guide.plan import load_plan
        from medprint.guide.step import DEMO_PLAN
        from medprint.workflow import DEMO_CT

        files = sorted(str(path) for path in DEMO_CT.glob("*.dcm"))
        volumeNode = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "demo CT")
        storage = slicer.vtkMRMLVolumeArchetypeStorageNode()
        storage.SetFileName(files[0])
        for name in files:
            storage.AddFileName(name)
        storage.SetSingleFile(False)
        self.assertTrue(storage.ReadData(volumeNode))
        logic = MedPrintLogic()
        case = workflow.create_case(Path(slicer.util.tempDirectory()) / "guide-case", "selftest-guide")
        logic.makeModel(volumeNode, slicer.mrmlScene.AddNewNodeByClass("vtkMRMLModelNode", "bone"),
                        case_node.model_settings_from_parameters(logic.getParameterNode().parameterNode), case=case)
        markups = markups_from_plan(load_plan(DEMO_PLAN), slicer.mrmlScene)
        logic.saveGuidePlan(case, markups["contact_points"], None, markups["trajectories"], markups["cuts"])
        self.assertTrue(dependencies.ensure_feature("guide", requester="MedPrint test"))
        modelsBefore = slicer.mrmlScene.GetNumberOfNodesByClass("vtkMRMLModelNode")
        self.delayDisplay("guide: " + logic.runStep(case, "guide"))
        self.assertEqual(workflow.open_case(case.folder).steps["guide"], "done")
        self.assertEqual(slicer.mrmlScene.GetNumberOfNodesByClass("vtkMRMLModelNode"), modelsBefore + 1)
        self.delayDisplay("Test passed")
