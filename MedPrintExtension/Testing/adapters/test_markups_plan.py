"""T1: MedPrintLib.markups_plan against Slicer's real markups classes (PyPI slicer-core).

The reference for "LPS" is Slicer's own markups file: vtkMRMLMarkupsJsonStorageNode writes control
points in LPS, so the plan's points must equal what Slicer puts in the file.
"""

import json

import numpy as np
import pytest
import slicer

from MedPrintLib import numpy_to_matrix
from MedPrintLib.markups_plan import markups_from_plan, plan_from_markups
from medprint.errors import InputError
from medprint.guide.plan import ContactRegion, CutPlane, Plan, Trajectory


@pytest.fixture
def scene():
    scene = slicer.vtkMRMLScene()
    slicer.vtkSlicerApplicationLogic().SetMRMLScene(scene)  # selection node: markups look up units there
    return scene


@pytest.fixture
def plan() -> Plan:
    return Plan(
        contact=ContactRegion(points_lps=[(10.0, -20.5, 30.25), (14.0, -18.0, 31.0), (12.5, -25.0, 28.0)],
                              curve_lps=[(0.0, 0.0, 40.0), (10.0, 0.0, 40.0), (10.0, 10.0, 41.0), (0.0, 10.0, 40.5)]),
        trajectories=[Trajectory(name="S1", entry_lps=(11.0, -21.0, 30.0), direction_lps=(0.0, 0.6, -0.8),
                                 depth_mm=35.0),
                      Trajectory(name="S2", entry_lps=(-5.0, 3.0, 12.0), direction_lps=(1.0, 0.0, 0.0),
                                 depth_mm=22.5)],
        cuts=[CutPlane(name="osteotomy", origin_lps=(5.0, 6.0, 7.0), normal_lps=(0.0, 0.0, 1.0))],
        technology="fdm", thickness_mm=4.0, case_label="knee-07",
    ).validated()


def _plan_of(nodes, **fields) -> Plan:
    return plan_from_markups(nodes["contact_points"], nodes["contact_curve"], nodes["trajectories"],
                             nodes["cuts"], **fields)


def test_round_trip_keeps_every_point_and_direction(scene, plan):
    nodes = markups_from_plan(plan, scene)
    back = _plan_of(nodes, technology="fdm", thickness_mm=4.0, case_label="knee-07")
    assert np.allclose(back.contact.points_lps, plan.contact.points_lps, atol=1e-9)
    assert np.allclose(back.contact.curve_lps, plan.contact.curve_lps, atol=1e-9)
    for ours, theirs in zip(back.trajectories, plan.trajectories):
        assert ours.name == theirs.name
        assert np.allclose(ours.entry_lps, theirs.entry_lps, atol=1e-9)
        assert np.allclose(ours.direction_lps, theirs.direction_lps, atol=1e-9)
        assert ours.depth_mm == pytest.approx(theirs.depth_mm, abs=1e-9)
    assert np.allclose(back.cuts[0].origin_lps, plan.cuts[0].origin_lps, atol=1e-9)
    assert np.allclose(back.cuts[0].normal_lps, plan.cuts[0].normal_lps, atol=1e-9)
    assert back.technology == "fdm" and back.thickness_mm == 4.0


def test_points_are_where_slicer_writes_them_in_its_lps_markups_file(scene, tmp_path):
    """A point placed in RAS, under a parent transform, is in the plan at the LPS position Slicer's own
    markups writer puts in the file (world coordinates)."""
    transform = scene.AddNewNodeByClass("vtkMRMLLinearTransformNode")
    shift = np.eye(4)
    shift[:3, 3] = [3.0, -4.0, 5.0]
    transform.SetMatrixTransformToParent(numpy_to_matrix(shift))
    points = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "Contact")
    for ras in ([10.0, 20.0, 30.0], [-7.5, 0.25, 12.0]):
        points.AddControlPoint(ras)
    points.SetAndObserveTransformNodeID(transform.GetID())
    plan = plan_from_markups(contact_points=points)
    assert np.allclose(plan.contact.points_lps, [(-13.0, -16.0, 35.0), (4.5, 3.75, 17.0)], atol=1e-12)

    points.HardenTransform()  # Slicer's writer stores node coordinates: make them the world ones
    storage = slicer.vtkMRMLMarkupsJsonStorageNode()
    storage.SetFileName(str(tmp_path / "contact.mrk.json"))
    assert storage.WriteData(points)
    markup = json.loads((tmp_path / "contact.mrk.json").read_text())["markups"][0]
    assert markup["coordinateSystem"] == "LPS"
    in_file = [p["position"] for p in markup["controlPoints"]]
    assert np.allclose(plan.contact.points_lps, in_file, atol=1e-9)


def test_line_gives_entry_direction_and_depth(scene):
    line = scene.AddNewNodeByClass("vtkMRMLMarkupsLineNode", "pedicle-L4")
    line.AddControlPoint([1.0, 2.0, 3.0])   # RAS entry
    line.AddControlPoint([1.0, 2.0, -27.0])  # 30 mm inferior
    contact = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode")
    contact.AddControlPoint([0.0, 0.0, 0.0])
    plan = plan_from_markups(contact_points=contact, trajectories=[line])
    trajectory = plan.trajectories[0]
    assert trajectory.name == "pedicle-L4"
    assert np.allclose(trajectory.entry_lps, (-1.0, -2.0, 3.0))
    assert np.allclose(trajectory.direction_lps, (0.0, 0.0, -1.0))
    assert trajectory.depth_mm == pytest.approx(30.0)
    assert trajectory.depth_mm == pytest.approx(line.GetLineLengthWorld())


def test_unusable_markups_are_named(scene):
    contact = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode")
    contact.AddControlPoint([0.0, 0.0, 0.0])
    half_line = scene.AddNewNodeByClass("vtkMRMLMarkupsLineNode", "S1")
    half_line.AddControlPoint([1.0, 1.0, 1.0])
    with pytest.raises(InputError, match="'S1' needs two points"):
        plan_from_markups(contact_points=contact, trajectories=[half_line])
    unplaced = scene.AddNewNodeByClass("vtkMRMLMarkupsPlaneNode", "cut-1")
    with pytest.raises(InputError, match="'cut-1' is not placed"):
        plan_from_markups(contact_points=contact, cuts=[unplaced])
    spaced = scene.AddNewNodeByClass("vtkMRMLMarkupsLineNode", "Drill 1")
    spaced.AddControlPoint([0.0, 0.0, 0.0])
    spaced.AddControlPoint([0.0, 0.0, -10.0])
    with pytest.raises(InputError, match="'Drill 1' cannot name"):
        plan_from_markups(contact_points=contact, trajectories=[spaced])
    with pytest.raises(InputError, match="no contact region"):
        plan_from_markups()


def test_the_demo_plan_shown_as_markups_reads_back_as_the_same_plan(scene):
    """What markups cannot show (sleeves, slot sizes, contact radius, fillet, ...) travels on the nodes
    (saved with the scene), so the whole plan survives plan -> markups -> plan; hand-placed markups
    without it get the plan's defaults; a damaged attribute is refused naming the markup."""
    from dataclasses import replace

    from MedPrintLib.markups_plan import SETTINGS_ATTRIBUTE
    from medprint.guide.plan import load_plan
    from medprint.guide.step import DEMO_PLAN

    demo = replace(load_plan(DEMO_PLAN), cuts=[replace(c, slot_depth_mm=11.5, slot_length_mm=13.0)
                                                for c in load_plan(DEMO_PLAN).cuts], fillet_mm=0.5).validated()
    nodes = markups_from_plan(demo, scene)
    back = plan_from_markups(nodes["contact_points"], nodes["contact_curve"], nodes["trajectories"], nodes["cuts"])
    def split(data):
        """(numbers, everything else) of a plan's JSON form: geometry compared within round-off."""
        numbers = []

        def walk(value):
            if isinstance(value, dict):
                return {k: walk(v) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return [walk(v) for v in value]
            if isinstance(value, float):
                numbers.append(value)
                return "number"
            return value
        return numbers, walk(data)

    (expected_numbers, expected), (got_numbers, got) = split(demo.to_dict()), split(back.to_dict())
    assert got == expected  # every field and name, in the same structure
    assert np.allclose(got_numbers, expected_numbers, atol=1e-9)  # RAS <-> LPS round-off only
    assert (back.cuts[0].slot_depth_mm, back.cuts[0].slot_length_mm, back.fillet_mm) == (11.5, 13.0, 0.5)
    assert back.trajectories[0].sleeve == demo.trajectories[0].sleeve
    assert back.contact.radius_mm == demo.contact.radius_mm
    for ours, theirs in zip(back.trajectories + back.cuts, demo.trajectories + demo.cuts):
        assert ours.name == theirs.name
    for node in [nodes["contact_points"], *nodes["trajectories"], *nodes["cuts"]]:
        node.RemoveAttribute(SETTINGS_ATTRIBUTE)
    plain = plan_from_markups(nodes["contact_points"], None, nodes["trajectories"], nodes["cuts"])
    assert (plain.cuts[0].slot_depth_mm, plain.fillet_mm) == (CutPlane.slot_depth_mm, Plan.fillet_mm)
    nodes["cuts"][0].SetAttribute(SETTINGS_ATTRIBUTE, "{not json")
    with pytest.raises(InputError, match="stored on 'spinous' are damaged"):
        plan_from_markups(nodes["contact_points"], None, nodes["trajectories"], nodes["cuts"])
    nodes["cuts"][0].SetAttribute(SETTINGS_ATTRIBUTE, json.dumps({"slot_colour": "red"}))
    with pytest.raises(InputError):
        plan_from_markups(nodes["contact_points"], None, nodes["trajectories"], nodes["cuts"])
