"""Each workflow step's status line and whether it can run, from the case folder (no Qt)."""

from medprint import workflow

from .i18n import tr

#: the steps after the model, run by the core's registered runners (medprint.workflow.STEP_RUNNERS)
LATER_STEPS = ("guide", "export", "print", "register")


def step_status(case, step: str, message: str = "") -> tuple:
    """(title suffix, status text, runnable) of ``step`` for ``case`` (None: no case yet). ``message``
    is the last action's outcome, shown instead of the recorded state. A later step runs once the
    model is made, unless its core has not landed (``workflow.UNAVAILABLE``)."""
    reason = workflow.UNAVAILABLE.get(step) if step in LATER_STEPS else None
    if reason:
        return tr(" (not available yet)"), tr("Not available yet: {reason}.").format(reason=reason), False
    state = case.steps.get(step, "pending") if case else "pending"
    text = message or {"done": tr("Done."), "skipped": tr("Skipped.")}.get(state, tr("To do."))
    runnable = step in LATER_STEPS and bool(case and case.steps.get("model") == "done")
    return "", text, runnable


def open_case_status(folder: str) -> tuple:
    """(case, status text): the case in ``folder`` if it already holds one (never creates it), or None
    and what to do."""
    from pathlib import Path

    from medprint.errors import MedPrintError

    if folder in ("", ".") or not (Path(folder) / "case.json").is_file():
        return None, tr("Choose a folder and a label: the case is created there on the first step.")
    try:
        case = workflow.open_case(folder)
    except MedPrintError as error:
        return None, error.message
    return case, tr("Case '{label}' in {folder}").format(label=case.label, folder=case.folder)
