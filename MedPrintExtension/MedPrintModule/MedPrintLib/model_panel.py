"""The Segment and Model steps: their node actions (a preset segment from the core's threshold and
island removal, the closed surface of a segment into a model node, recorded in the case) and the
sections' two buttons. ``host`` as in ``export_panel``; the Segment Editor itself is embedded by the
module widget. Scenes are RAS; the core works in LPS millimetres (``volume_node``, ``segmentation_node``
and ``model_node`` convert)."""

import time

from medprint import workflow
from medprint.errors import MedPrintError

from . import case_node, dicom_source, model_node, segmentation_node, volume_node
from .i18n import tr

#: model and segment colours per preset (RGB 0..1)
PRESET_COLORS = {
    "bone": (0.89, 0.85, 0.79),
    "cortical-bone": (0.95, 0.93, 0.88),
    "soft-tissue": (0.85, 0.55, 0.50),
    "contrast-vessels": (0.80, 0.20, 0.20),
}


def new_segmentation(volumeNode):
    """A new segmentation on ``volumeNode``'s grid, shown in 3-D."""
    import slicer

    segmentation = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Segmentation")
    segmentation.CreateDefaultDisplayNodes()
    segmentation.SetReferenceImageGeometryParameterFromVolumeNode(volumeNode)
    return segmentation


def add_preset_segment(volumeNode, segmentationNode, preset: str, progress=None):
    """Threshold ``volumeNode`` with ``preset``, remove small islands (the core's ``segment``) and add
    the result as a segment named after the preset. Returns (segment ID, figures)."""
    from medprint.segment import SegmentSettings, segment

    volume = volume_node.volume_from_node(volumeNode)
    mask = segment(volume, SegmentSettings(preset=preset), progress)
    segmentId = segmentation_node.set_segment_from_mask(segmentationNode, mask, volume.ijk_to_lps, preset,
                                                        PRESET_COLORS.get(preset, (0.9, 0.9, 0.9)))
    voxels = int(mask.sum())
    return segmentId, {"voxels": voxels, "mask_volume_cm3": voxels * volume.voxel_volume_mm3 / 1000.0}


def make_model(volumeNode, outputModel, settings, segmentationNode=None, segmentId: str = "", case=None,
               progress=None) -> dict:
    """The closed surface of the segment (or, without one, of ``settings.preset`` on the volume) into
    ``outputModel`` (RAS, mm), recorded in ``case`` when given (STL in LPS). Returns its figures."""
    from medprint.pipeline import make_model as make_preset_model
    from medprint.surface import mask_to_mesh

    if outputModel is None:
        raise MedPrintError("Select or create an output model.")
    source, note = dicom_source.source_of_node(volumeNode)  # what the case records of its series
    volume = volume_node.volume_from_node(volumeNode, source, (note,) if note else ())
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
        result = make_preset_model(volume, settings, progress)
        mesh, figures = result.mesh, result.stats
    model_node.mesh_to_model_node(mesh, outputModel)
    model_node.show_model(outputModel, PRESET_COLORS.get(settings.preset, (0.9, 0.9, 0.9)))
    return figures


def model_summary(figures: dict) -> str:
    """One line for the status label: size and closedness of the model (figures the core measured)."""
    closed = tr("closed") if figures["watertight"] else tr("NOT closed")
    return tr("{triangles:,} triangles, {volume:.1f} mL, {closed}").format(
        triangles=figures["triangles"], volume=figures["volume_cm3"], closed=closed)


class ModelPanel:
    """Add segment from preset (Segment section) and Make model (Model section)."""

    def __init__(self, host) -> None:
        self.host, self.ui = host, host.ui
        self.ui.presetButton.clicked.connect(self.onPreset)
        self.ui.makeModelButton.clicked.connect(self.onMakeModel)

    def update(self, case) -> None:
        hasVolume = self.host.parameters.inputVolume is not None
        self.ui.presetButton.setEnabled(hasVolume)
        self.ui.makeModelButton.setEnabled(hasVolume)

    def onPreset(self) -> None:
        parameters = self.host.parameters
        if not parameters.segmentation:
            parameters.segmentation = new_segmentation(parameters.inputVolume)
        added = self.host.run("segment", tr("Segmenting..."), lambda progress: add_preset_segment(
            parameters.inputVolume, parameters.segmentation, parameters.preset, progress))
        if added:
            segmentId, figures = added
            parameters.segmentId = segmentId
            self.ui.segmentEditorWidget.setCurrentSegmentID(segmentId)
            self.host.report("segment", tr("Segment '{preset}' added: {volume:.1f} mL. Refine it with the tools "
                                           "below, then press Next.").format(preset=parameters.preset,
                                                                            volume=figures["mask_volume_cm3"]))

    def onMakeModel(self) -> None:
        import slicer

        parameters = self.host.parameters
        if not parameters.outputModel:
            parameters.outputModel = slicer.mrmlScene.AddNewNodeByClass(
                "vtkMRMLModelNode", slicer.mrmlScene.GenerateUniqueName(f"{parameters.preset} model"))
        segmentId = self.ui.segmentEditorWidget.currentSegmentID() if parameters.segmentation else ""
        parameters.segmentId = segmentId or ""

        def make(progress):  # without a case folder the model is made but not saved
            case = self.host.logic.caseOf(parameters) if str(parameters.caseFolder) not in ("", ".") else None
            return make_model(parameters.inputVolume, parameters.outputModel,
                              case_node.model_settings_from_parameters(parameters.parameterNode),
                              parameters.segmentation, parameters.segmentId, case, progress)

        figures = self.host.run("model", tr("Making the model..."), make)
        if figures:
            self.host.report("model", model_summary(figures))
