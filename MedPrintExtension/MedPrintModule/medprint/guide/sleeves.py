"""Drill sleeves and channels, in the guide's frame (mm).

A sleeve is a tube about the trajectory from ``height_mm`` above the entry point down to it; the
design stands it on the plate (cuts it below the plate's mid-surface), so only the plate touches the
bone. The channel is the bore along the whole line, through sleeve, plate and into the bone, so the
drill passes unobstructed; a metal sleeve's seat widens it from the sleeve's top down to the seat's
floor (a stepped bore).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .heightmap import Frame
from .plan import Trajectory
from .solids import cylinder

#: How far the channel runs past the sleeve's top and into the bone, mm.
RUN_OUT_MM = 40.0


@dataclass(frozen=True, eq=False)
class SleeveGeometry:
    """A trajectory in frame mm: ``entry``, unit ``axis`` into the bone, radii."""

    name: str
    entry: np.ndarray
    axis: np.ndarray
    outer_radius: float
    bore_radius: float
    height: float
    seat_radius: float = 0.0   # the metal sleeve's seat (0: none)
    seat_depth: float = 0.0    # from the sleeve's top down to the seat's floor

    @classmethod
    def of(cls, trajectory: Trajectory, frame: Frame) -> "SleeveGeometry":
        """The geometry of a validated trajectory (its metal sleeve's length filled in)."""
        s = trajectory.sleeve
        return cls(trajectory.name, frame.to_local([trajectory.entry_lps])[0],
                   frame.vector_to_local(trajectory.direction_lps),
                   s.outer_diameter_mm / 2, trajectory.bore_diameter_mm / 2, s.height_mm,
                   (s.metal_sleeve_diameter_mm or 0.0) / 2, s.metal_sleeve_length_mm or 0.0)

    def tube(self):
        """The sleeve's solid: from ``height`` above the entry down to the entry."""
        return cylinder(self.entry, self.axis, -self.height, 0.0, self.outer_radius)

    def channel(self):
        """The bore: the whole line through guide and sleeve, with the seat's counterbore if any."""
        bore = cylinder(self.entry, self.axis, -self.height - RUN_OUT_MM, RUN_OUT_MM, self.bore_radius)
        if not self.seat_radius:
            return bore
        return bore + cylinder(self.entry, self.axis, -self.height - RUN_OUT_MM, -self.height + self.seat_depth,
                               self.seat_radius)

    def footprint_points(self) -> np.ndarray:
        """Points (n, 2) of the tube's outline projected along z (for the plate's footprint)."""
        angles = np.linspace(0, 2 * np.pi, 32, endpoint=False)
        helper = np.eye(3)[int(np.argmin(np.abs(self.axis)))]
        u = np.cross(helper, self.axis)
        u /= np.linalg.norm(u)
        v = np.cross(self.axis, u)
        ring = self.outer_radius * (np.cos(angles)[:, None] * u + np.sin(angles)[:, None] * v)
        ends = [self.entry - self.height * self.axis, self.entry]
        return np.vstack([end + ring for end in ends])[:, :2]

    def outside_volume(self) -> float:
        """Volume of the tube above the entry point (what must stay outside the bone), mm³."""
        return float(np.pi * self.outer_radius ** 2 * self.height)
