"""The surgical-guide plan: what the surgeon planned, as plain dataclasses and versioned JSON.

Every point and direction is in **LPS millimetres** (the files' convention; the Slicer module flips
its RAS markups once, in ``medprint.coords``). How the Slicer markups map onto the plan:

========================  ===================================================================
markup                    plan field
========================  ===================================================================
fiducials                 ``ContactRegion.points_lps`` (with ``radius_mm``) or a
                          ``Trajectory.entry_lps`` each
closed curve              ``ContactRegion.curve_lps`` (the bone surface the curve encloses)
line (start -> end)       ``Trajectory``: ``entry_lps`` = start, ``direction_lps`` = end - start
                          (into the bone), ``depth_mm`` = the line's length
plane                     ``CutPlane``: ``origin_lps`` and ``normal_lps``
========================  ===================================================================

Clearances default to the printing technology (literature values): the saw slot is the blade
+ 0.1 mm for resin / + 0.4 mm for FDM, and the guide stands 0.25 mm (resin) / 0.4 mm (FDM) off the
bone. JSON files carry ``"format": "medprint-guide-plan"`` and ``"version"``; ``load_plan`` refuses
other formats and newer versions.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Optional

from ..errors import InputError

FORMAT = "medprint-guide-plan"
VERSION = 1
#: Characters a label can hold (engraved with the built-in stroke font).
TEXT_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-. "
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")


@dataclass(frozen=True)
class Technology:
    """Clearances and minimum wall of one printing technology, mm."""

    slot_clearance_mm: float    # added to the saw blade's thickness
    bone_clearance_mm: float    # gap between guide and bone
    min_wall_mm: float          # thinnest wall of the guide's structure (plate, sleeves, housings)
    min_detail_mm: float        # finest relief printed crisply (the label's dots and the ridges between)


TECHNOLOGIES = {
    "resin": Technology(slot_clearance_mm=0.1, bone_clearance_mm=0.25, min_wall_mm=1.0, min_detail_mm=0.5),
    "fdm": Technology(slot_clearance_mm=0.4, bone_clearance_mm=0.4, min_wall_mm=1.5, min_detail_mm=0.8),
}


@dataclass
class ContactRegion:
    """The part of the bone surface the guide seats on (LPS mm).

    Either surface points, each taking the bone surface within ``radius_mm`` of it, or a closed
    curve on the surface (``curve_lps``, at least 3 points) taking the surface it encloses.
    """

    points_lps: list = field(default_factory=list)
    radius_mm: float = 8.0
    curve_lps: list = field(default_factory=list)


@dataclass
class Sleeve:
    """The drill sleeve around a trajectory: a tube rising ``height_mm`` from the bone entry point.

    Its bore is ``drill + clearance_mm``. When a metal sleeve is pressed into the printed one
    (``metal_sleeve_diameter_mm``, its outer diameter) the bore is stepped: a seat of that diameter
    ``metal_sleeve_length_mm`` deep from the sleeve's top (default: the sleeve's height less the
    technology's minimum wall), whose floor holds the metal sleeve, and the drill's channel below.
    """

    outer_diameter_mm: float = 7.0
    height_mm: float = 10.0
    clearance_mm: float = 0.1
    metal_sleeve_diameter_mm: Optional[float] = None
    metal_sleeve_length_mm: Optional[float] = None


@dataclass
class Trajectory:
    """A planned drill path: ``entry_lps`` on the bone, ``direction_lps`` pointing into the bone."""

    name: str
    entry_lps: tuple
    direction_lps: tuple
    drill_diameter_mm: float = 2.5
    depth_mm: float = 30.0
    sleeve: Sleeve = field(default_factory=Sleeve)

    @property
    def bore_diameter_mm(self) -> float:
        """The printed channel's diameter (below a metal sleeve's seat, if any): drill + clearance."""
        return self.drill_diameter_mm + self.sleeve.clearance_mm

    @property
    def widest_bore_mm(self) -> float:
        """The widest hole in the sleeve: the metal sleeve's seat, or the channel."""
        return float(self.sleeve.metal_sleeve_diameter_mm or self.bore_diameter_mm)


@dataclass
class CutPlane:
    """A planned saw cut: the plane (``origin_lps`` on the bone surface, ``normal_lps``) and its slot.

    The slot is ``slot_length_mm`` long along ``slot_direction_lps`` (default: across the guide,
    perpendicular to the insertion direction), its housing rises ``slot_depth_mm`` above the bone
    so the blade is guided that far, and its width is the blade + clearance.
    """

    name: str
    origin_lps: tuple
    normal_lps: tuple
    blade_thickness_mm: float = 1.0
    slot_length_mm: float = 20.0
    slot_depth_mm: float = 8.0
    slot_clearance_mm: Optional[float] = None   # None: the technology's
    slot_direction_lps: Optional[tuple] = None


@dataclass
class Plan:
    """A patient-specific guide plan (LPS mm).

    ``insertion_direction_lps`` is the axis the guide slides along, pointing away from the bone: moving
    the guide along it takes the guide off, against it seats it (None: the mean outward normal of the
    contact region). Undercuts along this axis are blocked out."""

    contact: ContactRegion
    trajectories: list = field(default_factory=list)
    cuts: list = field(default_factory=list)
    insertion_direction_lps: Optional[tuple] = None
    technology: str = "resin"
    thickness_mm: float = 3.0
    bone_clearance_mm: Optional[float] = None   # None: the technology's
    fillet_mm: float = 0.0                      # rounds the guide's outer rim (0: sharp)
    chamfer_mm: float = 0.0                     # or bevels it at 45° (0: sharp; not both)
    case_label: str = ""
    side: str = ""                              # "L", "R" or ""
    plan_version: str = "1"
    engrave_label: bool = True

    @property
    def tech(self) -> Technology:
        return TECHNOLOGIES[self.technology]

    @property
    def clearance_mm(self) -> float:
        """Guide-to-bone clearance, mm."""
        return self.tech.bone_clearance_mm if self.bone_clearance_mm is None else self.bone_clearance_mm

    def slot_width_mm(self, cut: CutPlane) -> float:
        """The printed slot's width: blade + clearance, mm."""
        clearance = self.tech.slot_clearance_mm if cut.slot_clearance_mm is None else cut.slot_clearance_mm
        return cut.blade_thickness_mm + clearance

    @property
    def label_text(self) -> str:
        """The engraved text: case label, side and plan version (upper case), or "" when off."""
        if not self.engrave_label:
            return ""
        parts = [self.case_label.upper(), self.side, f"V{self.plan_version}".upper()]
        return " ".join(p for p in parts if p)

    def to_dict(self) -> dict:
        return {"format": FORMAT, "version": VERSION, "coordinates": "LPS", "units": "mm", **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict) -> "Plan":
        """A validated plan from its JSON form (see ``to_dict``)."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InputError("This file is not a MedPrint guide plan.",
                             hint=f'a plan is a JSON object with "format": "{FORMAT}"')
        version = data.get("version")
        if not isinstance(version, int) or version > VERSION or version < 1:
            raise InputError(f"Guide plan version {version!r} is not supported by this MedPrint.",
                             hint=f"this version reads plan versions 1 to {VERSION}; update MedPrint")
        if data.get("coordinates", "LPS") != "LPS" or data.get("units", "mm") != "mm":
            raise InputError("A guide plan must be in LPS millimetres.",
                             hint='write "coordinates": "LPS" and "units": "mm" (flip RAS points: x, y -> -x, -y)')
        body = {k: v for k, v in data.items() if k not in ("format", "version", "coordinates", "units")}
        try:
            contact = ContactRegion(**_known(ContactRegion, body.pop("contact", {}) or {}, "contact"))
            trajectories = []
            for t in body.pop("trajectories", []) or []:
                t = dict(t)
                sleeve = Sleeve(**_known(Sleeve, t.pop("sleeve", {}) or {}, "sleeve"))
                trajectories.append(Trajectory(sleeve=sleeve, **_known(Trajectory, t, "trajectory")))
            cuts = [CutPlane(**_known(CutPlane, c, "cut")) for c in body.pop("cuts", []) or []]
            plan = cls(contact=contact, trajectories=trajectories, cuts=cuts, **_known(cls, body, "plan"))
        except TypeError as exc:
            raise InputError("The guide plan is missing a required field.", detail=str(exc)) from exc
        return plan.validated()

    def validated(self) -> "Plan":
        """This plan with directions normalised and points as float tuples; raises ``InputError``
        naming the feature and the number when something cannot be built."""
        if self.technology not in TECHNOLOGIES:
            raise InputError(f"'{self.technology}' is not a printing technology MedPrint knows.",
                             hint=f"use one of {', '.join(TECHNOLOGIES)}")
        _positive("guide thickness", self.thickness_mm)
        if self.thickness_mm < self.tech.min_wall_mm:
            raise InputError(f"A guide thickness of {self.thickness_mm:g} mm is below the "
                             f"{self.tech.min_wall_mm:g} mm minimum wall for {self.technology}.",
                             hint="make the guide thicker")
        _non_negative("bone clearance", self.clearance_mm)
        _non_negative("fillet", self.fillet_mm)
        _non_negative("chamfer", self.chamfer_mm)
        if self.fillet_mm > 0 and self.chamfer_mm > 0:
            raise InputError(f"The guide's rim can have a fillet ({self.fillet_mm:g} mm) or a chamfer "
                             f"({self.chamfer_mm:g} mm), not both.", hint="set one of them to 0")
        if self.side not in ("", "L", "R"):
            raise InputError(f"Side '{self.side}' is not L, R or empty.")
        if self.case_label and not _NAME.match(self.case_label):
            raise InputError(f"'{self.case_label}' cannot be a case label on a guide.",
                             hint="use letters, digits, '-', '_' or '.'; never a patient name or ID")
        if not re.fullmatch(r"[A-Za-z0-9.]{1,8}", str(self.plan_version)):
            raise InputError(f"Plan version '{self.plan_version}' must be 1-8 letters, digits or dots.")
        bad = sorted(set(self.label_text) - set(TEXT_CHARACTERS))
        if bad:
            raise InputError(f"The label text cannot hold {''.join(bad)!r}.", hint="use letters, digits, '-' and '.'")
        contact = self._validated_contact()
        names = [t.name for t in self.trajectories] + [c.name for c in self.cuts]
        for name in names:
            if not isinstance(name, str) or not _NAME.match(name):
                raise InputError(f"'{name}' cannot name a trajectory or cut.",
                                 hint="use 1-32 letters, digits, '-', '_' or '.'")
        if len(set(names)) != len(names):
            raise InputError("Two trajectories or cuts share a name.", hint="give each feature its own name")
        insertion = None if self.insertion_direction_lps is None else \
            _unit("insertion direction", self.insertion_direction_lps)
        return replace(self, contact=contact, insertion_direction_lps=insertion,
                       trajectories=[self._validated_trajectory(t) for t in self.trajectories],
                       cuts=[self._validated_cut(c) for c in self.cuts], plan_version=str(self.plan_version))

    def _validated_contact(self) -> ContactRegion:
        c = self.contact
        points = [_point("contact point", p) for p in c.points_lps]
        curve = [_point("contact curve point", p) for p in c.curve_lps]
        if not points and not curve:
            raise InputError("The plan has no contact region.",
                             hint="place points on the bone where the guide should seat, or draw a closed curve")
        if curve and len(curve) < 3:
            raise InputError(f"The contact curve has {len(curve)} points; a closed curve needs at least 3.")
        if points:
            _positive("contact radius", c.radius_mm)
        return ContactRegion(points_lps=points, radius_mm=float(c.radius_mm), curve_lps=curve)

    def _validated_trajectory(self, t: Trajectory) -> Trajectory:
        what = f"trajectory '{t.name}'"
        _positive(f"{what}: drill diameter", t.drill_diameter_mm)
        _positive(f"{what}: depth", t.depth_mm)
        s = t.sleeve
        _positive(f"{what}: sleeve height", s.height_mm)
        _non_negative(f"{what}: sleeve clearance", s.clearance_mm)
        metal_length = s.metal_sleeve_length_mm
        if s.metal_sleeve_diameter_mm is None:
            if metal_length is not None:
                raise InputError(f"The metal sleeve of {what} has a length but no diameter.",
                                 hint="give metal_sleeve_diameter_mm (its outer diameter) too, or drop the length")
        else:
            _positive(f"{what}: metal sleeve diameter", s.metal_sleeve_diameter_mm)
            if s.metal_sleeve_diameter_mm <= t.bore_diameter_mm:
                raise InputError(f"The metal sleeve of {what} ({s.metal_sleeve_diameter_mm:g} mm) is not wider "
                                 f"than its drill channel ({t.bore_diameter_mm:g} mm = drill + clearance), so "
                                 f"there is no step to seat it on.")
            shoulder = self.tech.min_wall_mm
            if metal_length is None:
                metal_length = s.height_mm - shoulder
            _positive(f"{what}: metal sleeve length", metal_length)
            if metal_length > s.height_mm - shoulder + 1e-9:
                raise InputError(f"The metal sleeve of {what} is {metal_length:g} mm long; its printed sleeve is "
                                 f"{s.height_mm:g} mm tall, which leaves {s.height_mm - metal_length:.2f} mm under "
                                 f"the seat (at least {shoulder:g} mm is needed for {self.technology}).",
                                 hint=f"make the sleeve at least {metal_length + shoulder:g} mm tall")
            metal_length = float(metal_length)
        wall = (s.outer_diameter_mm - t.widest_bore_mm) / 2
        if wall < self.tech.min_wall_mm:
            raise InputError(f"The sleeve wall of {what} is {wall:.2f} mm, below the {self.tech.min_wall_mm:g} mm "
                             f"minimum for {self.technology}.",
                             hint=f"make its outer diameter at least {t.widest_bore_mm + 2 * self.tech.min_wall_mm:g} mm")
        return replace(t, entry_lps=_point(f"{what}: entry", t.entry_lps),
                       direction_lps=_unit(f"{what}: direction", t.direction_lps),
                       sleeve=replace(s, outer_diameter_mm=float(s.outer_diameter_mm),
                                      metal_sleeve_length_mm=metal_length))

    def _validated_cut(self, c: CutPlane) -> CutPlane:
        what = f"cut '{c.name}'"
        _positive(f"{what}: blade thickness", c.blade_thickness_mm)
        _positive(f"{what}: slot length", c.slot_length_mm)
        _positive(f"{what}: slot depth", c.slot_depth_mm)
        if c.slot_clearance_mm is not None:
            _non_negative(f"{what}: slot clearance", c.slot_clearance_mm)
        normal = _unit(f"{what}: normal", c.normal_lps)
        direction = None
        if c.slot_direction_lps is not None:
            d = _unit(f"{what}: slot direction", c.slot_direction_lps)
            along = sum(a * b for a, b in zip(d, normal))
            d = tuple(a - along * b for a, b in zip(d, normal))
            direction = _unit(f"{what}: slot direction (it lies along the plane's normal)", d)
        return replace(c, origin_lps=_point(f"{what}: origin", c.origin_lps), normal_lps=normal,
                       slot_direction_lps=direction)


def load_plan(path: str | Path) -> Plan:
    """Read and validate a plan from JSON (LPS mm)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"The guide plan '{path.name}' does not exist.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"The guide plan '{path.name}' is not valid JSON.", detail=str(exc)) from exc
    return Plan.from_dict(data)


def save_plan(plan: Plan, path: str | Path) -> Path:
    """Write ``plan`` (validated first) as JSON; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(plan.validated().to_dict(), indent=2) + "\n")
    return path


def _known(cls, data: dict, what: str) -> dict:
    if not isinstance(data, dict):
        raise InputError(f"The plan's {what} must be a JSON object.")
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise InputError(f"The plan's {what} has unknown field(s): {', '.join(unknown)}.",
                         hint=f"known fields: {', '.join(sorted(names))}")
    return data


def _number(what: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"The {what} must be a number, not {value!r}.")
    return float(value)


def _positive(what: str, value) -> None:
    if _number(what, value) <= 0:
        raise InputError(f"The {what} must be greater than 0 mm (it is {value:g} mm).")


def _non_negative(what: str, value) -> None:
    if _number(what, value) < 0:
        raise InputError(f"The {what} must not be negative (it is {value:g} mm).")


def _point(what: str, value) -> tuple:
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        raise InputError(f"The {what} must be three coordinates [x, y, z] in LPS mm, not {value!r}.")
    return tuple(_number(what, v) for v in value)


def _unit(what: str, value) -> tuple:
    x, y, z = _point(what, value)
    length = math.sqrt(x * x + y * y + z * z)
    if length < 1e-9:
        raise InputError(f"The {what} has no length.", hint="give a direction that is not [0, 0, 0]")
    return (x / length, y / length, z / length)
