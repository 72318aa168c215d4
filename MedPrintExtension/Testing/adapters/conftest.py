"""Fixtures for the adapter tests: a headless MRML scene with the Segmentations module logic, as in
Slicer after start-up (PyPI slicer-core, no Qt)."""

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
