"""MedPrint: CT/MR volume -> print-ready surface model, inside 3D Slicer.

This file is the thin Slicer layer: the GUI collects inputs into a parameter node, the logic converts
nodes with ``MedPrintLib`` and calls the ``medprint`` core, which does all the work and knows nothing
about Slicer. Packages that Slicer does not ship are installed on first use, with consent
(``MedPrintLib.dependencies``), never imported here at module level.
"""

import logging
import traceback
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
from slicer import vtkMRMLModelNode, vtkMRMLScalarVolumeNode

from MedPrintLib import dependencies, model_node, volume_node
from medprint.errors import MedPrintError
from medprint.segment import PRESETS

#: model colours per preset (RGB 0..1)
PRESET_COLORS = {
    "bone": (0.89, 0.85, 0.79),
    "cortical-bone": (0.95, 0.93, 0.88),
    "soft-tissue": (0.85, 0.55, 0.50),
    "contrast-vessels": (0.80, 0.20, 0.20),
}


#
# MedPrint
#


class MedPrint(ScriptedLoadableModule):
    """Module description shown in Slicer's module panel."""

    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = _("MedPrint")
        self.parent.categories = [translate("qSlicerAbstractCoreModule", "Printing")]
        self.parent.dependencies = []
        self.parent.contributors = ["MedPrint developers"]
        self.parent.helpText = _("""
Turns a CT into a model ready for 3D printing: choose the volume, a tissue preset (Hounsfield range)
and the smoothing, then press Apply. The model is closed (watertight) and in millimetres.
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
    """
    inputVolume - the CT to model.
    preset - tissue preset (a key of medprint.segment.PRESETS): its Hounsfield range.
    smoothing - surface smoothing, 0 (none) to 1 (strong).
    outputModel - the model node the surface is written into (created on Apply when empty).
    """

    inputVolume: vtkMRMLScalarVolumeNode
    preset: Annotated[str, Choice(list(PRESETS))] = "bone"
    smoothing: Annotated[float, Minimum(0.0), Maximum(1.0)] = 0.5
    outputModel: vtkMRMLModelNode


#
# MedPrintWidget
#


class _Cancelled(Exception):
    """Raised from the progress callback when the user presses Cancel."""


class MedPrintWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    """The module panel: widgets bound to the parameter node, and the Apply button."""

    def __init__(self, parent=None) -> None:
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self.logic = None
        self._parameterNode = None
        self._parameterNodeGuiTag = None

    def setup(self) -> None:
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/MedPrint.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        # the .ui connects the top widget's mrmlSceneChanged signal to each selector's setMRMLScene
        uiWidget.setMRMLScene(slicer.mrmlScene)

        self.logic = MedPrintLogic()

        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)
        self.ui.applyButton.connect("clicked(bool)", self.onApplyButton)

        self.initializeParameterNode()

    def cleanup(self) -> None:
        self.removeObservers()

    def enter(self) -> None:
        self.initializeParameterNode()

    def exit(self) -> None:
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self._parameterNodeGuiTag = None
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._updateGui)

    def onSceneStartClose(self, caller, event) -> None:
        self.setParameterNode(None)

    def onSceneEndClose(self, caller, event) -> None:
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

    def _updateGui(self, caller=None, event=None) -> None:
        parameters = self._parameterNode
        preset = PRESETS.get(parameters.preset) if parameters else None
        self.ui.presetDescriptionLabel.text = preset.description if preset else ""
        if parameters and parameters.inputVolume:
            self.ui.applyButton.toolTip = _("Make the surface model")
            self.ui.applyButton.enabled = True
        else:
            self.ui.applyButton.toolTip = _("Select the input volume")
            self.ui.applyButton.enabled = False

    def onApplyButton(self) -> None:
        """Make the model, showing progress; problems are shown with the core's own message."""
        parameters = self._parameterNode
        if not dependencies.ensure_feature("model", requester="MedPrint"):
            self.ui.statusLabel.text = _("Cancelled: required Python packages are not installed.")
            return
        if not parameters.outputModel:
            parameters.outputModel = slicer.mrmlScene.AddNewNodeByClass(
                "vtkMRMLModelNode", slicer.mrmlScene.GenerateUniqueName(f"{parameters.preset} model"))

        dialog = slicer.util.createProgressDialog(
            parent=slicer.util.mainWindow(), windowTitle=_("MedPrint"), labelText=_("Making the model..."),
            maximum=100)

        def progress(fraction: float, message: str) -> None:
            if dialog.wasCanceled:
                raise _Cancelled()
            dialog.value = int(round(100 * min(max(fraction, 0.0), 1.0)))
            dialog.labelText = message
            slicer.app.processEvents()

        self.ui.statusLabel.text = ""
        try:
            result = self.logic.process(parameters.inputVolume, parameters.outputModel,
                                        preset=parameters.preset, smoothing=parameters.smoothing,
                                        progress=progress)
        except _Cancelled:
            self.ui.statusLabel.text = _("Cancelled.")
        except MedPrintError as error:
            self.ui.statusLabel.text = _("Failed: ") + error.message
            details = {"detailedText": error.detail} if error.detail else {}
            slicer.util.errorDisplay(str(error), windowTitle=_("MedPrint"), **details)
        except Exception:  # an unexpected error: say so, keep the traceback for the details box
            logging.exception("MedPrint: making the model failed")
            self.ui.statusLabel.text = _("Failed (unexpected error, see the Python console).")
            slicer.util.errorDisplay(_("Making the model failed because of an unexpected error."),
                                     windowTitle=_("MedPrint"), detailedText=traceback.format_exc())
        else:
            self.ui.statusLabel.text = self.logic.summary(result)
        finally:
            dialog.close()


#
# MedPrintLogic
#


class MedPrintLogic(ScriptedLoadableModuleLogic):
    """Node in, node out: converts with MedPrintLib and calls ``medprint.pipeline.make_model``.

    Usable without the widget (Python console, batch scripts)."""

    def __init__(self) -> None:
        ScriptedLoadableModuleLogic.__init__(self)

    def getParameterNode(self):
        return MedPrintParameterNode(super().getParameterNode())

    def process(self, inputVolume, outputModel, preset: str = "bone", smoothing: float = 0.5,
                progress=None):
        """Threshold ``inputVolume`` with ``preset``, build the closed surface and write it into
        ``outputModel`` (RAS, mm). Returns the core's ``ModelResult`` (``.mesh`` LPS, ``.mask``, ``.stats``).
        Raises ``medprint.errors.MedPrintError`` with a message for the user when it cannot."""
        from medprint.pipeline import ModelSettings, make_model

        if outputModel is None:
            raise MedPrintError("Select or create an output model.")
        volume = volume_node.volume_from_node(inputVolume)
        result = make_model(volume, ModelSettings(preset=preset, smoothing=smoothing), progress=progress)
        model_node.mesh_to_model_node(result.mesh, outputModel)
        model_node.show_model(outputModel, PRESET_COLORS.get(preset, (0.9, 0.9, 0.9)))
        return result

    @staticmethod
    def summary(result) -> str:
        """One line for the status label: size and closedness of the model (figures the core measured)."""
        stats = result.stats
        closed = _("closed") if stats["watertight"] else _("NOT closed")
        return _("{triangles:,} triangles, {volume:.1f} mL, {closed}").format(
            triangles=stats["triangles"], volume=stats["volume_cm3"], closed=closed)


#
# MedPrintTest
#


class MedPrintTest(ScriptedLoadableModuleTest):
    """Slicer self-test: a bone model from the CTChest sample data set."""

    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        self.setUp()
        self.test_parameter_defaults()
        self.setUp()
        self.test_bone_model_from_CTChest()

    def test_parameter_defaults(self):
        parameters = MedPrintLogic().getParameterNode()
        self.assertEqual(parameters.preset, "bone")
        self.assertAlmostEqual(parameters.smoothing, 0.5)
        self.assertEqual(set(PRESETS), set(PRESET_COLORS))

    def test_bone_model_from_CTChest(self):
        import SampleData

        self.delayDisplay("Loading CTChest")
        inputVolume = SampleData.downloadSample("CTChest")
        self.assertIsNotNone(inputVolume)
        self.assertTrue(dependencies.ensure_feature("model", requester="MedPrint test"))

        outputModel = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLModelNode", "bone model")
        fractions = []
        result = MedPrintLogic().process(inputVolume, outputModel, preset="bone", smoothing=0.5,
                                         progress=lambda fraction, message: fractions.append(fraction))
        self.delayDisplay("Model made: " + MedPrintLogic.summary(result))

        polydata = outputModel.GetPolyData()
        self.assertGreater(polydata.GetNumberOfPolys(), 10000)
        self.assertTrue(fractions)
        self.assertLessEqual(max(fractions), 1.0)

        # closed: no boundary edges and no non-manifold edges (VTK's count, independent of the core)
        edges = vtk.vtkFeatureEdges()
        edges.SetInputData(polydata)
        edges.BoundaryEdgesOn()
        edges.NonManifoldEdgesOn()
        edges.FeatureEdgesOff()
        edges.ManifoldEdgesOff()
        edges.Update()
        self.assertEqual(edges.GetOutput().GetNumberOfCells(), 0)
        self.assertTrue(model_node.mesh_from_model_node(outputModel).is_watertight())

        # the model lies inside the volume (RAS bounds, 1 mm tolerance)
        volumeBounds, modelBounds = [0.0] * 6, [0.0] * 6
        inputVolume.GetRASBounds(volumeBounds)
        outputModel.GetRASBounds(modelBounds)
        for axis in range(3):
            self.assertGreaterEqual(modelBounds[2 * axis], volumeBounds[2 * axis] - 1.0)
            self.assertLessEqual(modelBounds[2 * axis + 1], volumeBounds[2 * axis + 1] + 1.0)
        self.delayDisplay("Test passed")
