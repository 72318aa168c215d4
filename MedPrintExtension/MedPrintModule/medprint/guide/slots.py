"""Saw slots and their housings, in the guide's frame (mm).

A slot lies in its cut plane: ``width`` (blade + clearance) across the plane, ``length`` along the
slot direction, open towards the bone along the saw direction (the in-plane direction pointing into
the bone). Its housing is a block ``thickness`` thicker on every side that rises ``slot_depth_mm``
above the cut's origin, so the blade is guided over that depth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .heightmap import Frame
from .plan import CutPlane, Plan
from .solids import box

#: How far the slot runs past the housing's top and into the bone, mm.
RUN_OUT_MM = 40.0


@dataclass(frozen=True, eq=False)
class SlotGeometry:
    """A cut in frame mm: ``origin``; unit ``normal``, ``length_axis`` and ``saw_axis`` (into the bone)."""

    name: str
    origin: np.ndarray
    normal: np.ndarray
    length_axis: np.ndarray
    saw_axis: np.ndarray
    width: float
    length: float
    depth: float
    wall: float

    @classmethod
    def of(cls, cut: CutPlane, plan: Plan, frame: Frame) -> "SlotGeometry":
        normal = frame.vector_to_local(cut.normal_lps)
        if cut.slot_direction_lps is not None:
            length_axis = frame.vector_to_local(cut.slot_direction_lps)
            saw = np.cross(normal, length_axis)
            saw = saw if saw[2] <= 0 else -saw
        else:
            down = np.array([0.0, 0.0, -1.0])
            saw = down - (down @ normal) * normal
            if np.linalg.norm(saw) < 0.1:
                raise InputError(f"Cut '{cut.name}' lies across the insertion direction, so the saw "
                                 f"direction is not defined (angle to it "
                                 f"{np.degrees(np.arcsin(min(1.0, np.linalg.norm(saw)))):.1f}°).",
                                 hint="give the cut a slot direction, or tilt the plane")
            saw /= np.linalg.norm(saw)
            length_axis = np.cross(saw, normal)
        return cls(cut.name, frame.to_local([cut.origin_lps])[0], normal, length_axis, saw,
                   plan.slot_width_mm(cut), cut.slot_length_mm, cut.slot_depth_mm, plan.thickness_mm)

    def _axes(self):
        """(length_axis, normal, ±saw_axis), right-handed (a centred box does not mind the sign)."""
        return self.length_axis, self.normal, np.cross(self.length_axis, self.normal)

    def _block(self, length: float, width: float, start: float, stop: float):
        """A box along (length_axis, normal, saw_axis) spanning ``start..stop`` along the saw axis."""
        centre = self.origin + 0.5 * (start + stop) * self.saw_axis
        return box(centre, self._axes(), (length, width, stop - start))

    def housing(self):
        return self._block(self.length + 2 * self.wall, self.width + 2 * self.wall, -self.depth, 0.0)

    def slot(self):
        return self._block(self.length, self.width, -self.depth - RUN_OUT_MM, RUN_OUT_MM)

    def footprint_points(self) -> np.ndarray:
        """Corners (8, 2) of the housing projected along z."""
        corners = []
        for s in (-self.depth, 0.0):
            for a in (-0.5, 0.5):
                for b in (-0.5, 0.5):
                    corners.append(self.origin + s * self.saw_axis + a * (self.length + 2 * self.wall) * self.length_axis
                                   + b * (self.width + 2 * self.wall) * self.normal)
        return np.array(corners)[:, :2]
