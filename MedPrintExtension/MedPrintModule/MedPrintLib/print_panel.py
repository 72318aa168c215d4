"""The Print step: its case actions (slice and send to the chosen printer, follow the job) and the
section's printer choice. ``host`` as in ``export_panel``.

The printer choice lists the configured printers (``medprint.printing.config.printer_choices``: name,
kind, profile; never addresses or keys) after "the first printer that answers" and "slice only"; the
chosen name is kept in the parameter node (``printPrinter``, "" for the first that answers) and given to
the core's ``run_print_step``.
"""

from medprint.errors import MedPrintError

from .i18n import tr
from .panel_widgets import combo_value, fill_combo

#: the printPrinter value of "the first configured printer that answers"
FIRST_THAT_ANSWERS = ""
#: the printPrinter value of "slice only" (no printer name can hold a colon)
SLICE_ONLY = ":slice-only"


def printer_items(choices: list) -> list:
    """The printer combo's ``(text, printer name)`` items for ``printer_choices()``."""
    return [(tr("First printer that answers"), FIRST_THAT_ANSWERS),
            (tr("Slice only (send to no printer)"), SLICE_ONLY)] + [
        (f"{c['name']} ({c['kind']}, {c['profile']})" if c.get("profile") else f"{c['name']} ({c['kind']})",
         c["name"]) for c in choices]


def print_case(case, printer: str = FIRST_THAT_ANSWERS, progress=None) -> str:
    """The print step for ``printer`` (a configured printer's name; "" the first that answers;
    :data:`SLICE_ONLY` slices for the smallest built-in printer that fits and sends nothing)."""
    from medprint.printing.step import run_print_step

    progress = progress or (lambda fraction, message: None)
    if printer == SLICE_ONLY:
        return run_print_step(case, progress, send_job=False)
    return run_print_step(case, progress, printer=printer or None)


def follow_print(case, progress=None) -> str:
    """Follow the job the print step sent until it ends (progress = the printer's); its final state."""
    from medprint.printing.config import connect, get_printer
    from medprint.printing.job import start_within_s
    from medprint.printing.printer import follow

    sent = case.results.get("print", {}).get("sent")
    if not sent:
        raise MedPrintError("The print was not sent to a printer.",
                            hint="configure one (medprint printers add), then Slice and send again")
    printer = connect(get_printer(sent["printer"]))
    try:  # a printer that slices the 3MF itself starts only when its slicing is done
        return follow(printer, progress, poll_s=1.0, started_within_s=start_within_s(sent["remote_name"])).state
    finally:
        printer.close()


class PrintPanel:
    """The printer choice, Slice and send with it, and Follow the print."""

    def __init__(self, host) -> None:
        self.host, self.ui = host, host.ui
        self.ui.printPrinterComboBox.currentIndexChanged.connect(self.onPrinterChosen)
        self.ui.printFollowButton.clicked.connect(self.onFollow)

    def refreshPrinters(self) -> None:
        """List the configured printers again (on entering the module and opening the section); a
        printer no longer configured falls back to the first that answers."""
        from medprint.printing.config import printer_choices

        combo = self.ui.printPrinterComboBox
        fill_combo(combo, printer_items(printer_choices()), self.host.parameters.printPrinter)
        self.onPrinterChosen()

    def onPrinterChosen(self, index=None) -> None:
        if self.host.parameters is not None and self.host.parameters.printPrinter != combo_value(
                self.ui.printPrinterComboBox):
            self.host.parameters.printPrinter = combo_value(self.ui.printPrinterComboBox)

    def runStep(self, case, progress) -> str:
        return print_case(case, self.host.parameters.printPrinter, progress)

    def update(self, case) -> None:
        self.ui.printFollowButton.setEnabled(bool(case and case.results.get("print", {}).get("sent")))

    def onFollow(self) -> None:
        state = self.host.run("print", tr("Following the print..."),
                              lambda progress: follow_print(self.host.logic.caseOf(self.host.parameters), progress),
                              cancelled=tr("Stopped following; the printer keeps printing."))
        if state:
            self.host.report("print", tr("The print ended: {state}.").format(state=state))
