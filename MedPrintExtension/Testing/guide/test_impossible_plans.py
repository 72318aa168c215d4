"""Plans that cannot be built are refused with a message naming the feature and the number."""

import re

import numpy as np
import pytest
from cylinder_case import RADIUS, top_plan_dict

from medprint.errors import InputError, MedPrintError
from medprint.guide.design import GuideDesignError, design_guide
from medprint.guide.plan import Plan


def _design(cylinder, **changes):
    return design_guide(Plan.from_dict(top_plan_dict(**changes)), cylinder)


def test_sleeve_inside_the_bone(cylinder):
    deep = {"name": "buried", "entry_lps": [-14.0, 0.0, 0.0], "direction_lps": [0.0, 0.0, -1.0],
            "sleeve": {"outer_diameter_mm": 7.0, "height_mm": 8.0}}
    with pytest.raises(GuideDesignError) as err:
        _design(cylinder, trajectories=[deep])
    message = str(err.value)
    assert "'buried'" in message and "inside the bone" in message
    share = int(re.search(r"only (\d+)%", message).group(1))
    assert share < 50   # the tube ends 7 mm under the surface: none of it stands clear


def test_slot_through_the_whole_guide(cylinder):
    # 40 mm long across a plate about 19 mm wide: the slot parts the guide in two
    cut = {"name": "too-long", "origin_lps": [0.0, 0.0, RADIUS], "normal_lps": [1.0, 0.0, 0.0],
           "slot_length_mm": 40.0, "slot_depth_mm": 6.0}
    with pytest.raises(GuideDesignError) as err:
        _design(cylinder, trajectories=[], cuts=[cut])
    assert "'too-long' (40 mm long) cuts through the whole guide plate, into 2 pieces" in str(err.value)


def test_contact_region_with_an_undercut_in_every_direction(cylinder):
    ring = [[0.0, RADIUS * np.sin(a), RADIUS * np.cos(a)] for a in np.linspace(0, 2 * np.pi, 12, endpoint=False)]
    with pytest.raises(InputError) as err:
        _design(cylinder, contact={"points_lps": ring, "radius_mm": 6.0}, trajectories=[], cuts=[])
    assert "undercut in every direction" in str(err.value)
    length = float(re.search(r"mean normal length ([0-9.]+)", str(err.value)).group(1))
    assert length < 0.05   # a full ring: the normals cancel


def test_insertion_direction_that_leaves_the_region_undercut(cylinder):
    # seating from below (-z) a region on the top: none of it can be reached
    with pytest.raises(InputError) as err:
        _design(cylinder, insertion_direction_lps=[0.0, 0.0, -1.0], trajectories=[], cuts=[])
    assert re.search(r"Only \d+% of the contact region can be reached", str(err.value))


def test_contact_region_off_the_bone(cylinder):
    with pytest.raises(InputError, match="does not touch the bone"):
        _design(cylinder, contact={"points_lps": [[0.0, 0.0, 60.0]], "radius_mm": 5.0})


def test_sleeve_off_the_plate_is_named(cylinder):
    far = {"name": "far-away", "entry_lps": [40.0, 0.0, RADIUS], "direction_lps": [0.0, 0.0, -1.0]}
    with pytest.raises(GuideDesignError) as err:
        _design(cylinder, contact={"points_lps": [[-20.0, 0.0, RADIUS]], "radius_mm": 8.0},
                trajectories=[far], cuts=[])
    assert "far-away not joined" in str(err.value)


def test_errors_are_medprint_errors_with_hints(cylinder):
    with pytest.raises(MedPrintError) as err:
        _design(cylinder, trajectories=[{"name": "buried", "entry_lps": [0.0, 0.0, 0.0],
                                         "direction_lps": [0.0, 0.0, -1.0]}], cuts=[])
    assert err.value.hint
