"""Markups nodes <-> ``medprint.guide.plan.Plan`` (the surgical-guide plan, LPS mm).

The mapping is the plan's own (see ``medprint.guide.plan``): a point list gives the contact points,
a closed curve the contact curve, a line (entry on the bone -> end inside it) a drill trajectory of
the line's length, a plane a saw cut. Markups are read in world RAS (parent transforms applied) and
flipped to LPS by ``medprint.coords``; trajectories and cuts are named after their markups nodes.

What a markup cannot show (a trajectory's drill and sleeve, a cut's slot, the contact radius and the
plan's own settings such as its fillet or insertion direction) travels as JSON in the node's
``MedPrint.plan`` attribute (saved with the scene): a plan shown as markups and read back is the same
plan. Markups placed by hand have none, and the plan's defaults apply.
"""

import json
from dataclasses import asdict

import numpy as np

from medprint.coords import flip_points
from medprint.errors import InputError


def _world_points_lps(node) -> list:
    """The node's control points in world coordinates, as LPS tuples (mm)."""
    points = []
    for index in range(node.GetNumberOfControlPoints()):
        ras = [0.0, 0.0, 0.0]
        node.GetNthControlPointPositionWorld(index, ras)
        points.append(ras)
    return [tuple(p) for p in flip_points(np.array(points).reshape(-1, 3))]


#: the node attribute holding the plan settings a markup cannot show (JSON)
SETTINGS_ATTRIBUTE = "MedPrint.plan"
#: plan fields the markups themselves give (geometry and names); the contact region's other fields
#: (its radius) are stored on the contact markup
_SHOWN = {"trajectories", "cuts", "name", "entry_lps", "direction_lps", "depth_mm", "origin_lps",
          "normal_lps", "points_lps", "curve_lps"}


def _settings(node) -> dict:
    """The plan settings stored on ``node`` ({} for a markup placed by hand)."""
    text = node.GetAttribute(SETTINGS_ATTRIBUTE) if node is not None else None
    if not text:
        return {}
    try:
        settings = json.loads(text)
    except json.JSONDecodeError:
        settings = None
    if not isinstance(settings, dict):
        raise InputError(f"The guide settings stored on '{node.GetName()}' are damaged.",
                         hint=f"remove its '{SETTINGS_ATTRIBUTE}' attribute (Data module) to use the defaults")
    return settings


def _store(node, settings: dict) -> None:
    node.SetAttribute(SETTINGS_ATTRIBUTE, json.dumps({k: v for k, v in settings.items() if k not in _SHOWN}))


def plan_from_markups(contact_points=None, contact_curve=None, trajectories=(), cuts=(), **plan_fields):
    """A validated ``Plan`` from markups nodes and the settings stored on them; ``plan_fields`` are
    other ``Plan`` fields the caller sets (``technology``, ``thickness_mm``, ``case_label``, ...).
    Raises ``InputError`` naming the markup that cannot be used."""
    from medprint.guide.plan import FORMAT, VERSION, Plan

    contact_node = contact_points if contact_points is not None else contact_curve
    stored = _settings(contact_node)
    contact = {**stored.pop("contact", {}),
               "points_lps": _world_points_lps(contact_points) if contact_points else [],
               "curve_lps": _world_points_lps(contact_curve) if contact_curve else []}
    planned = []
    for line in trajectories:
        points = _world_points_lps(line)
        if len(points) != 2:
            raise InputError(f"The drill trajectory '{line.GetName()}' needs two points (entry, then end).",
                             hint="place the entry point on the bone first, then a point inside the bone")
        entry, end = np.array(points)
        planned.append({**_settings(line), "name": line.GetName(), "entry_lps": list(entry),
                        "direction_lps": list(end - entry), "depth_mm": float(np.linalg.norm(end - entry))})
    planes = []
    for plane in cuts:
        if not plane.GetIsPlaneValid():
            raise InputError(f"The cut plane '{plane.GetName()}' is not placed yet.", hint="place it in a view")
        center, normal = [0.0] * 3, [0.0] * 3
        plane.GetCenterWorld(center)
        plane.GetNormalWorld(normal)
        planes.append({**_settings(plane), "name": plane.GetName(),
                       "origin_lps": list(flip_points(np.array([center]))[0]),
                       "normal_lps": list(flip_points(np.array([normal]))[0])})
    return Plan.from_dict({"format": FORMAT, "version": VERSION, **stored, "contact": contact,
                           "trajectories": planned, "cuts": planes, **plan_fields})


def markups_from_plan(plan, scene) -> dict:
    """New markups nodes in ``scene`` (RAS) showing ``plan``: ``{"contact_points": node or None,
    "contact_curve": node or None, "trajectories": [line nodes], "cuts": [plane nodes]}``."""
    def add(cls, name, points_lps):
        node = scene.AddNewNodeByClass(cls, name)
        for point in flip_points(np.array(points_lps, dtype=float).reshape(-1, 3)):
            node.AddControlPointWorld(*point)
        return node

    nodes = {"contact_points": None, "contact_curve": None, "trajectories": [], "cuts": []}
    if plan.contact.points_lps:
        nodes["contact_points"] = add("vtkMRMLMarkupsFiducialNode", "Contact", plan.contact.points_lps)
    if plan.contact.curve_lps:
        nodes["contact_curve"] = add("vtkMRMLMarkupsClosedCurveNode", "ContactCurve", plan.contact.curve_lps)
    plan_settings = {**asdict(plan), "contact": {k: v for k, v in asdict(plan.contact).items() if k not in _SHOWN}}
    if nodes["contact_points"] or nodes["contact_curve"]:
        _store(nodes["contact_points"] or nodes["contact_curve"], plan_settings)
    for t in plan.trajectories:
        end = np.array(t.entry_lps) + t.depth_mm * np.array(t.direction_lps)
        nodes["trajectories"].append(add("vtkMRMLMarkupsLineNode", t.name, [t.entry_lps, end]))
        _store(nodes["trajectories"][-1], asdict(t))
    for c in plan.cuts:
        plane = scene.AddNewNodeByClass("vtkMRMLMarkupsPlaneNode", c.name)
        plane.SetCenterWorld(*flip_points(np.array([c.origin_lps]))[0])
        plane.SetNormalWorld(*flip_points(np.array([c.normal_lps]))[0])
        _store(plane, asdict(c))
        nodes["cuts"].append(plane)
    return nodes
