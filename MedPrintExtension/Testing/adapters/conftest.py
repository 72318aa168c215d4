"""Fixtures for the adapter tests: a headless MRML scene with the Segmentations module logic, as in
Slicer after start-up (PyPI slicer-core, no Qt)."""

import importlib
import sys
import types

import pytest
import slicer


def _dedupe_converter_rules() -> None:
    """The converter-rule factory is process-global and each logic's SetMRMLScene adds its 4 rules again."""
    factory = slicer.vtkSegmentationConverterFactory.GetInstance()
    seen = set()
    for rule in list(factory.GetConverterRules()):
        if rule.GetName() in seen:
            factory.UnregisterConverterRule(rule)
        seen.add(rule.GetName())


@pytest.fixture
def segmentations_logic():
    """A scene with Slicer's Segmentations logic (it registers the labelmap <-> closed-surface rules)."""
    scene = slicer.vtkMRMLScene()
    logic = slicer.vtkSlicerSegmentationsModuleLogic()
    logic.SetMRMLScene(scene)
    _dedupe_converter_rules()
    return logic


@pytest.fixture
def oblique_ijk_to_lps():
    """Orthogonal but oblique axes (rotations about three axes), anisotropic spacing, an offset origin."""
    import numpy as np

    def rot(axis, degrees):
        a = np.radians(degrees)
        c, s = np.cos(a), np.sin(a)
        m = np.eye(3)
        i, j = [k for k in range(3) if k != axis]
        m[i, i], m[i, j], m[j, i], m[j, j] = c, -s, s, c
        return m
    matrix = np.eye(4)
    matrix[:3, :3] = rot(0, 17.0) @ rot(1, -23.0) @ rot(2, 31.0) @ np.diag([0.7, 0.9, 2.5])
    matrix[:3, 3] = [-120.5, 88.25, -310.0]
    return matrix


def _stand_ins() -> dict:
    class _Base:
        def __init__(self, *args, **kwargs):
            pass

    scripted = types.ModuleType("slicer.ScriptedLoadableModule")
    scripted.ScriptedLoadableModule = scripted.ScriptedLoadableModuleWidget = _Base
    scripted.ScriptedLoadableModuleTest = _Base
    scripted.ScriptedLoadableModuleLogic = _Base
    wrapper = types.ModuleType("slicer.parameterNodeWrapper")
    wrapper.parameterNodeWrapper = lambda cls: cls
    wrapper.Choice = wrapper.Minimum = wrapper.Maximum = lambda *args: None
    i18n = types.ModuleType("slicer.i18n")
    i18n.tr = lambda text: text
    i18n.translate = lambda context, text: text
    return {"qt": types.ModuleType("qt"), "slicer.ScriptedLoadableModule": scripted,
            "slicer.parameterNodeWrapper": wrapper, "slicer.i18n": i18n}


@pytest.fixture
def module(monkeypatch, segmentations_logic):
    """MedPrint.py imported with slicer.mrmlScene = a scene that has the Segmentations logic. slicer-core
    lacks the Qt-side modules MedPrint.py imports at its top (``qt``, ``slicer.ScriptedLoadableModule``,
    ``slicer.parameterNodeWrapper``, ``slicer.i18n``): minimal stand-ins go into ``sys.modules`` for the
    test only, so the module file loads; the logic under test uses none of them."""
    for name, stand_in in _stand_ins().items():
        monkeypatch.setitem(sys.modules, name, stand_in)
    monkeypatch.setattr(slicer, "mrmlScene", segmentations_logic.GetMRMLScene(), raising=False)
    monkeypatch.delitem(sys.modules, "MedPrint", raising=False)
    return importlib.import_module("MedPrint")
