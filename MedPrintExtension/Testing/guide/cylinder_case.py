"""A cylinder "bone" (radius 15 mm along LPS x, 96 mm long, 512 facets) and a guide plan on its top."""

import manifold3d
import numpy as np

from medprint.mesh import Mesh

RADIUS = 15.0
LENGTH = 96.0


def cylinder_bone() -> Mesh:
    """Closed cylinder about the x axis, centred on the origin (LPS mm)."""
    solid = manifold3d.Manifold.cylinder(LENGTH, RADIUS, RADIUS, 512, True)
    solid = solid.transform(np.array([[0, 0, 1, 0], [0, 1, 0, 0], [-1, 0, 0, 0]], float))  # z axis -> x axis
    mesh = solid.to_mesh64()
    return Mesh(np.asarray(mesh.vert_properties)[:, :3], np.asarray(mesh.tri_verts, dtype=np.int64), "LPS")


def top_plan_dict(**changes) -> dict:
    """A plan on the cylinder's top (+z): contact round (0, 0, R), two sleeves (one tilted 10°),
    one cut across the cylinder's axis (plane x = 6)."""
    tilt = np.radians(10.0)
    plan = {
        "format": "medprint-guide-plan", "version": 1, "coordinates": "LPS", "units": "mm",
        "contact": {"points_lps": [[-16.0, 0.0, RADIUS], [0.0, 0.0, RADIUS], [16.0, 0.0, RADIUS]], "radius_mm": 10.0},
        "trajectories": [
            {"name": "straight", "entry_lps": [-14.0, 0.0, RADIUS], "direction_lps": [0.0, 0.0, -1.0],
             "drill_diameter_mm": 2.5, "depth_mm": 20.0,
             "sleeve": {"outer_diameter_mm": 7.0, "height_mm": 10.0, "clearance_mm": 0.1}},
            {"name": "tilted", "entry_lps": [-4.0, RADIUS * np.sin(tilt), RADIUS * np.cos(tilt)],
             "direction_lps": [0.0, -np.sin(tilt), -np.cos(tilt)], "drill_diameter_mm": 3.2, "depth_mm": 20.0,
             "sleeve": {"outer_diameter_mm": 8.0, "height_mm": 8.0, "clearance_mm": 0.1}},
        ],
        "cuts": [{"name": "osteotomy", "origin_lps": [14.0, 0.0, RADIUS], "normal_lps": [1.0, 0.0, 0.0],
                  "blade_thickness_mm": 1.0, "slot_length_mm": 10.0, "slot_depth_mm": 8.0}],
        "technology": "resin", "thickness_mm": 3.0, "case_label": "cyl", "side": "L", "plan_version": "2",
    }
    plan.update(changes)
    return plan
