"""The designed guide passes the export QA's wall check (medprint.qa: local wall thickness by inward
rays, measured independently of the guide's own verifier) for a printer of its plan's technology,
and the verifier's wall check reads walls with that same measure."""

import dataclasses

import numpy as np
import pytest
from cylinder_case import cylinder_bone, top_plan_dict

from medprint.build_volume import PRINTERS, printer_profile
from medprint.guide.design import design_guide
from medprint.guide.plan import Plan, load_plan
from medprint.guide.step import DEMO_PLAN
from medprint.guide.verify import verify_guide
from medprint.mesh import read_stl, write_stl
from medprint.pipeline import make_model
from medprint.qa import QASettings, check_mesh
from medprint.volume import load_volume


def _thin(mesh, profile):
    settings = QASettings(printer=profile)
    report = check_mesh(mesh, settings)
    return report, [r for r in report.thin_regions if r["area_mm2"] >= settings.thin_area_mm2]


@pytest.mark.parametrize("technology, printer", [("resin", "form-3"), ("fdm", "prusa-mk4")])
def test_cylinder_guide_has_no_thin_walls(technology, printer):
    profile = PRINTERS[printer]
    assert profile.technology.lower() == technology
    guide = design_guide(Plan.from_dict(top_plan_dict(technology=technology)), cylinder_bone())
    report, thin = _thin(guide.mesh, profile)
    assert report.watertight and report.wall_limit_mm == profile.min_wall_mm
    assert thin == [], f"thin regions below {profile.min_wall_mm} mm: {thin}"
    # the measure does see walls: the thinnest reading is a real wall near the limit, not 'none found'
    assert 0.2 < report.min_wall_mm < QASettings().max_wall_mm


@pytest.fixture(scope="module")
def demo(ct_dir):
    bone = make_model(load_volume(ct_dir / "abdomen-pancreas-ctcb001")).mesh
    plan = load_plan(DEMO_PLAN)
    return plan, bone, design_guide(plan, bone)


def test_demo_guide_passes_the_export_qa_of_its_printer(demo, tmp_path):
    plan, _, guide = demo
    assert plan.technology == "resin"
    printed = read_stl(write_stl(guide.mesh, tmp_path / "guide.stl", space="LPS"))  # as the export step reads it
    report, thin = _thin(printed, PRINTERS["form-3"])
    assert report.watertight and report.shells == 1 and report.wall_limit_mm == 0.5
    assert thin == [], f"thin regions below 0.5 mm: {thin}"
    assert 0.0 < report.min_wall_mm < 0.5   # it reads real walls (sharp cut corners read below the limit, on < 4 mm²)
    assert report.verdict != "not printable" and not any("walls thinner" in r for r in report.reasons), report.reasons


def test_verifier_walls_are_the_qa_walls(demo):
    """At the technology's minimum (1.0 mm) and at a stricter 1.5 mm, the verifier's least walls
    fail exactly where the QA (same limit) finds a thin place of its area, with the same figure
    (a guide without its label: the label's relief is held to the finer detail limit)."""
    plan, bone, _ = demo
    plan = dataclasses.replace(plan, engrave_label=False)
    guide = design_guide(plan, bone)
    for limit in (plan.tech.min_wall_mm, 1.5):
        strict = dataclasses.replace(plan, technology="fdm") if limit == 1.5 else plan
        assert strict.tech.min_wall_mm == limit
        walls = [c for c in verify_guide(guide, strict, bone).checks if c.name.startswith("least wall thickness")]
        assert {c.feature for c in walls} == {"plate", "sleeve 'lamina-R'", "sleeve 'lamina-L'", "slot 'spinous'"}
        _, thin = _thin(guide.mesh, printer_profile("form-3", min_wall_mm=limit))
        failed = [c for c in walls if not c.passed]
        assert bool(failed) == bool(thin), (limit, [c.message() for c in failed], thin)
        if thin:   # the thinnest place is named with QA's number and place
            worst = min(failed, key=lambda c: c.value)
            qa_worst = min(thin, key=lambda r: r["value"])
            assert worst.value == pytest.approx(qa_worst["value"], abs=1e-6)
            where = "(" + ", ".join(f"{x:.1f}" for x in qa_worst["center_mm"]) + ")"
            assert where in worst.message() and "FAILED" in worst.message()
        else:
            assert all(c.value >= limit for c in walls)
    assert len(failed) >= 1 and failed[0].feature == "plate"   # at 1.5 mm the resin plate's edges are too thin


def test_label_is_engraved_on_the_slot_housing(demo):
    """The demo plate is steep all over: 'DEMO V1' goes on the spinous slot housing's side, its pits
    DEPTH_MM deep in that face, its ridges held to resin's finest detail (0.5 mm)."""
    from medprint.guide.label import DEPTH_MM
    from medprint.qa import face_geometry, face_walls
    from medprint.rays import RayCaster

    plan, bone, guide = demo
    assert guide.stats["label"] == "DEMO V1" and guide.stats["label_place"] == "slot 'spinous' housing"
    assert guide.stats["warnings"] == []
    cut = plan.cuts[0]
    normal = np.asarray(cut.normal_lps)
    centre = np.asarray(guide.stats["label_centre_lps"])
    # the label's face: a side of the housing, slot width / 2 + thickness off the cut plane
    offset = (centre - np.asarray(cut.origin_lps)) @ normal
    assert abs(abs(offset) - (plan.slot_width_mm(cut) / 2 + plan.thickness_mm)) < 1e-6
    side = np.sign(offset) * normal
    # rays into that face on a grid over the text: some meet the face, some a pit floor DEPTH_MM in
    along = np.cross(side, np.asarray(plan.insertion_direction_lps or guide.insertion_lps))
    along /= np.linalg.norm(along)
    up = np.cross(along, side)
    grid = [centre + a * along + b * up + 0.5 * side for a in np.linspace(-9, 9, 181) for b in np.linspace(-1.6, 1.6, 33)]
    face, distance = RayCaster(guide.mesh).first_hits(np.array(grid), np.tile(-side, (len(grid), 1)), 0.0, 2.0)
    assert (face >= 0).all()
    depth = distance - 0.5
    surface, pit = np.abs(depth) < 0.01, np.abs(depth - DEPTH_MM) < 0.01
    assert surface.sum() > 1000 and pit.sum() > 500 and (surface | pit).mean() > 0.95
    # the pits are where the text is: none outside its half-width of 27 dots x 0.6 mm / 2 + a dot
    pit_along = (np.array(grid)[pit] - centre) @ along
    assert np.abs(pit_along).max() <= 27 * 0.6 / 2 + 0.01
    # and the label's ridges (the QA's walls there) are the verifier's figure, above 0.5 mm
    check = next(c for c in verify_guide(guide, plan, bone).checks if c.feature == "label")
    walls = face_walls(guide.mesh, RayCaster(guide.mesh), 10.0, face_geometry(guide.mesh))
    assert check.passed and check.limit == 0.5 and 0.5 <= check.value == pytest.approx(0.99 * 0.6, abs=0.01)


def test_fdm_demo_guide_has_no_wall_thinner_than_fdm_allows(demo, tmp_path):
    """The demo plan printed in FDM (1.5 mm walls, 0.4 mm clearance) on the real CT: the QA's wall
    measure at 1.5 mm finds no thin place of its area (the rim's tabs where the plate climbs the
    spinous process are cut off), the guide keeps its FDM clearance from the bone (VTK signed
    distance) and the verifier passes."""
    from measure import surface_samples
    from vtkmodules.vtkFiltersCore import vtkImplicitPolyDataDistance

    _, bone, _ = demo
    plan = dataclasses.replace(load_plan(DEMO_PLAN), technology="fdm")
    assert plan.tech.min_wall_mm == 1.5 and plan.clearance_mm == 0.4 and plan.contact.radius_mm == 8.0
    guide = design_guide(plan, bone)
    assert 0.0 < guide.stats["rim_trimmed_mm2"] < 0.1 * guide.stats["contact_area_mm2"]   # tabs cut, not the plate
    printed = read_stl(write_stl(guide.mesh, tmp_path / "guide.stl", space="LPS"))
    report, thin = _thin(printed, printer_profile("prusa-mk4", min_wall_mm=1.5))
    assert report.watertight and report.shells == 1 and report.wall_limit_mm == 1.5
    assert thin == [], f"thin regions below 1.5 mm: {thin}"
    assert 0.0 < report.min_wall_mm < 1.5   # it reads real walls (sharp cut corners, on < 4 mm²)
    distance = vtkImplicitPolyDataDistance()
    distance.SetInput(bone.to_polydata())
    signed = np.array([distance.EvaluateFunction(*p) for p in surface_samples(guide.mesh, 20_000)])
    assert plan.clearance_mm - 0.05 <= signed.min() <= plan.clearance_mm + 0.15
    report = verify_guide(guide, plan, bone)
    assert report.passed, report.failures()
