"""The Register step: its case actions (the form's answers saved in the case, their review, the
outbox) and the section's Check and status widgets. ``host`` as in ``export_panel``.

The form's widgets are bound to the parameter node by ``connectGui`` (``register_form`` maps the
fields to the answers). Before the answers are checked or submitted, an untouched form takes the
answers already saved in the case, and unanswered fields take the case's own values (structure, the
print step's technology and material), so the clinician sees what will be recorded.
"""

from . import register_form
from .i18n import tr
from .panel_widgets import show_notes


def save_form_answers(case, node):
    """The Register form of parameter node ``node`` saved in ``case`` (``registry/answers.json``);
    returns the checked answers (``InputError`` names each wrong field, ``PhiError`` each suspected
    identifier; then nothing is saved)."""
    from medprint.registry.answers import ANSWERS_FILE, form_defaults, load_answers, save_answers

    if not register_form.answers_from_parameters(node) and case.path(*ANSWERS_FILE).is_file():
        register_form.parameters_from_answers(load_answers(case).model_dump(mode="json", exclude_defaults=True),
                                              node)
    register_form.prefill(node, form_defaults(case))
    return save_answers(case, register_form.answers_from_parameters(node))


def review_form(case, node) -> list:
    """``(level, text)`` notes on submitting the form's answers: the codes claimed and suggested and the
    CPT rules' findings (nothing is submitted). Text that looks like PHI is refused before the answers
    are saved (``PhiError`` naming the field and characters)."""
    from medprint.registry.step import review_case

    return review_case(case, save_form_answers(case, node))


def outbox_status() -> str:
    """The user's registry outbox in one line: records pending, sent, rejected; where they go."""
    from medprint.registry.config import load_config, outbox_path
    from medprint.registry.outbox import Outbox
    from medprint.registry.submit import outbox_summary

    config = load_config()
    return tr("Outbox: ") + outbox_summary(Outbox(outbox_path()), f"{config.url} (site {config.site})"
                                           if config else None)


class RegisterPanel:
    """Check the form (codes, warnings, PHI), submit it (save the answers, run the register step)."""

    def __init__(self, host) -> None:
        self.host, self.ui = host, host.ui
        self.ui.registerCheckButton.clicked.connect(self.onCheck)

    def runStep(self, case, progress) -> str:
        from medprint.workflow import run_later_step

        save_form_answers(case, self.host.parameters.parameterNode)
        summary = run_later_step(case, "register", progress)
        self.ui.registerOutboxLabel.setText(outbox_status())
        return summary

    def onOpened(self) -> None:
        """Show the case's own values (structure, the print step's technology and material) in the
        unanswered fields when the section opens, once the registry packages are installed."""
        from .case_node import CASE_FOLDER
        from .dependencies import FEATURES, missing_packages
        from .step_status import open_case_status

        node = self.host.parameters.parameterNode
        case, _text = open_case_status(node.GetParameter(CASE_FOLDER))
        if case is not None and not missing_packages(FEATURES["registry"]):
            from medprint.registry.answers import form_defaults

            register_form.prefill(node, form_defaults(case))

    def update(self, case, runnable: bool) -> None:
        self.ui.registerCheckButton.setEnabled(runnable)

    def onCheck(self) -> None:
        from .dependencies import ensure_feature

        if not ensure_feature("registry", requester="MedPrint"):
            return
        notes = self.host.run("register", tr("Checking the form..."), lambda progress: review_form(
            self.host.logic.caseOf(self.host.parameters), self.host.parameters.parameterNode))
        if notes is not None:
            show_notes(self.ui.registerCheckLabel, notes)
            self.ui.registerOutboxLabel.setText(outbox_status())
            errors = sum(level == "error" for level, _text in notes)
            self.host.report("register", tr("Checked: {n} problem(s) to correct before submitting.").format(n=errors)
                             if errors else tr("Checked: ready to submit."))
