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
#: The slot's long part below the housing starts this far inside the housing's bottom (mm): no
#: face of it lies in the housing's bottom face (coplanar faces make the booleans unstable).
SEAM_MM = -0.01


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

    def slot(self, extend: tuple[float, float] = (0.0, 0.0)):
        """The cut: the planned length through the housing (which guides the blade) and on into
        the bone; below the housing, through the plate, lengthened by ``extend`` (mm, at the end
        towards -length_axis, +length_axis) where the planned end would leave a skin of wall."""
        if not any(extend):
            return self._block(self.length, self.width, -self.depth - RUN_OUT_MM, RUN_OUT_MM)
        minus, plus = extend
        below = self._block(self.length + minus + plus, self.width, SEAM_MM, RUN_OUT_MM)
        return self._block(self.length, self.width, -self.depth - RUN_OUT_MM, RUN_OUT_MM) + \
            below.translate(tuple(0.5 * (plus - minus) * self.length_axis))

    def end_skins(self, solid_mesh, min_wall: float) -> tuple[float, float]:
        """How far to lengthen the slot's ends below the housing (see :meth:`slot`) so that the
        material of ``solid_mesh`` (the uncut guide, frame mm, a :class:`~medprint.mesh.Mesh`) past
        each end is nowhere thinner than ``min_wall`` (a skin is cut away instead): rays from the
        ends' faces along the slot read the material left past them."""
        from ..rays import RayCaster

        caster = RayCaster(solid_mesh)
        across = np.linspace(-0.5, 0.5, 7) * self.width
        down = np.arange(0.2, RUN_OUT_MM, 0.2)
        extend = []
        for sign in (-1.0, 1.0):
            direction = sign * self.length_axis
            end = self.origin + 0.5 * self.length * direction
            starts = np.array([end + a * self.normal + d * self.saw_axis for a in across for d in down])
            face, left = caster.first_hits(starts, np.tile(direction, (len(starts), 1)), 0.0, 2 * min_wall + 1.0)
            # a start inside the material: its ray leaves through a face looking along it
            normals = _normals(solid_mesh, face)
            inside = (face >= 0) & (normals @ direction > 0)
            extend.append(_least_clearing(left[inside], min_wall))
        return extend[0], extend[1]

    def footprint_points(self) -> np.ndarray:
        """Corners (8, 2) of the housing projected along z."""
        corners = []
        for s in (-self.depth, 0.0):
            for a in (-0.5, 0.5):
                for b in (-0.5, 0.5):
                    corners.append(self.origin + s * self.saw_axis + a * (self.length + 2 * self.wall) * self.length_axis
                                   + b * (self.width + 2 * self.wall) * self.normal)
        return np.array(corners)[:, :2]


def _normals(mesh, faces: np.ndarray) -> np.ndarray:
    """Unit normals (n, 3) of ``faces`` (indices; -1 gives a zero row)."""
    tri = mesh.vertices[mesh.faces[np.maximum(faces, 0)]]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    length = np.linalg.norm(normal, axis=1, keepdims=True)
    return np.where((faces >= 0)[:, None] & (length > 0), normal / np.maximum(length, 1e-300), 0.0)


def _least_clearing(skins: np.ndarray, min_wall: float) -> float:
    """The least lengthening e >= 0 (mm) after which each of the material runs ``skins`` (mm, from
    the planned end) is cut away (run <= e) or still a wall thick (run - e >= min_wall)."""
    for e in np.concatenate([[0.0], np.sort(skins) + 0.05]):
        left = skins - e
        if np.all((left <= 0) | (left >= min_wall)):
            return float(e)
    return float(skins.max() + 0.05)

