"""The designed guide passes the export QA's wall check (medprint.qa: local wall thickness by inward
rays, measured independently of the guide's own verifier) for a printer of its plan's technology."""

import pytest
from cylinder_case import cylinder_bone, top_plan_dict

from medprint.build_volume import PRINTERS
from medprint.guide.design import design_guide
from medprint.guide.plan import Plan
from medprint.qa import QASettings, check_mesh


@pytest.mark.parametrize("technology, printer", [("resin", "form-3"), ("fdm", "prusa-mk4")])
def test_cylinder_guide_has_no_thin_walls(technology, printer):
    profile = PRINTERS[printer]
    assert profile.technology.lower() == technology
    guide = design_guide(Plan.from_dict(top_plan_dict(technology=technology)), cylinder_bone())
    settings = QASettings(printer=profile)
    report = check_mesh(guide.mesh, settings)
    thin = [r for r in report.thin_regions if r["area_mm2"] >= settings.thin_area_mm2]
    assert report.watertight and report.wall_limit_mm == profile.min_wall_mm
    assert thin == [], f"thin regions below {profile.min_wall_mm} mm: {thin}"
    # the measure does see walls: the thinnest reading is a real wall near the limit, not 'none found'
    assert 0.2 < report.min_wall_mm < settings.max_wall_mm
