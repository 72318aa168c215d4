"""The workflow's "guide" step: design and verify the case's guide from ``<case>/guide/plan.json``.

A case made from the built-in demo CT gets the built-in demo plan (two laminar drill sleeves and a
spinous-process cutting slot on one lumbar vertebra) copied there; any other case without a plan
skips the step. Writes ``<case>/guide/<label>-guide.stl`` (LPS mm) and ``guide/report.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import MedPrintError
from ..mesh import read_stl, write_stl
from ..progress import Progress, sub_progress
from ..workflow import Case, is_demo_case, save_case
from .design import design_guide
from .plan import load_plan, save_plan
from .verify import verify_guide

DEMO_PLAN = Path(__file__).resolve().parents[1] / "data" / "demo_guide_plan.json"
PLAN_FILE = ("guide", "plan.json")


def run_guide_step(case: Case, progress: Progress) -> str:
    """Runner of the "guide" step (see :data:`medprint.workflow.STEP_RUNNERS`)."""
    plan_path = case.path(*PLAN_FILE)
    if not plan_path.exists():
        if not is_demo_case(case):
            case.steps["guide"] = "skipped"
            save_case(case)
            return f"no guide plan: put one at {'/'.join(PLAN_FILE)} to design a guide"
        save_plan(load_plan(DEMO_PLAN), plan_path)
    plan = load_plan(plan_path)
    bone = read_stl(case.path(case.results["model"]["file"]))
    guide = design_guide(plan, bone, progress=sub_progress(progress, 0.0, 0.6))
    report = verify_guide(guide, plan, bone, progress=sub_progress(progress, 0.6, 0.95))
    if not report.passed:
        raise MedPrintError("The guide failed its verification: " + "; ".join(report.failures()),
                            hint="change the plan (see the named feature) and run the step again")
    stl = write_stl(guide.mesh, case.path("guide", f"{case.label}-guide.stl"), space="LPS")
    record = {"file": str(stl.relative_to(case.folder)), "plan": "/".join(PLAN_FILE),
              "coordinates": "LPS", "units": "mm", **guide.stats, "verification": report.to_dict()}
    case.path("guide", "report.json").write_text(json.dumps(record, indent=2) + "\n")
    case.results["guide"] = record
    case.steps["guide"] = "done"
    save_case(case)
    progress(1.0, "guide written")
    features = f"{len(plan.trajectories)} sleeve(s), {len(plan.cuts)} slot(s)"
    warnings = "".join(f"; warning: {w}" for w in guide.stats["warnings"])
    return f"{features}, {len(report.checks)} checks passed, {stl.name}{warnings}"
