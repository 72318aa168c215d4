"""The Export step: its case actions (QA and export with the panel's settings, the QA report, an extra
copy in a chosen format and space) and the section's widgets beyond its run button.

The actions are plain functions over the case (``MedPrintLogic`` exposes them); the panel only reads
the parameter node and its widgets. ``host`` is the module widget: its ``ui``, ``logic``, ``parameters``,
``run(step, label, function)`` (progress dialog, errors shown) and ``report(step, message)``.
"""

from pathlib import Path

from medprint.errors import MedPrintError

from .i18n import tr

#: the exportPrinter choice "the case's printer": one of its guide plan's technology (resin: Form 3,
#: FDM: Prusa MK4), else the default printer (``medprint.export_step.case_printer``)
CASE_PRINTER = "for the guide plan's technology"


def export_case(case, printer: str = CASE_PRINTER, repair: bool = True, progress=None) -> str:
    """The export step with the panel's settings (QA for ``printer``, a printer profile name or
    :data:`CASE_PRINTER`; repair or not); the verdicts."""
    from medprint.export_step import ExportSettings, export_case as run_export

    chosen = None if printer == CASE_PRINTER else printer
    record = run_export(case, ExportSettings(printer=chosen, repair=repair), progress)
    return "; ".join(f"{name}: {part['verdict']}" for name, part in record["parts"].items())


def qa_report(case):
    """The export step's QA report (HTML) in the case, or None."""
    files = [f for f in case.results.get("export", {}).get("files", []) if f.endswith("-qa.html")]
    return case.path(files[0]) if files and case.path(files[0]).is_file() else None


def save_export_copy(case, folder, fmt: str, space: str, progress=None) -> Path:
    """The parts as the export step checked (and repaired) them, in one ``fmt`` file in ``folder``,
    in ``space`` (LPS or RAS) millimetres; returns its path."""
    from medprint.export import Part, write_parts
    from medprint.export_step import case_parts
    from medprint.mesh import read_stl

    if case.steps.get("export") != "done":
        raise MedPrintError("Check and export the parts first.", hint="press Check and export")
    parts = [Part(name, read_stl(case.path("export", f"{name}.stl")), color)
             for name, _source, color in case_parts(case)]
    return write_parts(parts, Path(folder) / f"{case.label}.{fmt}", space=space, progress=progress)


class ExportPanel:
    """Check and export with the chosen printer and repair; open the QA report; save a copy."""

    def __init__(self, host) -> None:
        self.host, self.ui = host, host.ui
        self.ui.exportSaveButton.clicked.connect(self.onSave)
        self.ui.exportReportButton.clicked.connect(self.onReport)

    def runStep(self, case, progress) -> str:
        parameters = self.host.parameters
        return export_case(case, parameters.exportPrinter, parameters.exportRepair, progress)

    def update(self, case) -> None:
        exported = bool(case and case.steps.get("export") == "done")
        self.ui.exportReportButton.setEnabled(bool(exported and qa_report(case)))
        self.ui.exportSaveButton.setEnabled(exported and str(self.host.parameters.exportFolder) not in ("", "."))

    def onSave(self) -> None:
        parameters = self.host.parameters
        saved = self.host.run("export", tr("Saving..."), lambda progress: save_export_copy(
            self.host.logic.caseOf(parameters), parameters.exportFolder, parameters.exportFormat,
            parameters.exportSpace, progress))
        if saved:
            self.host.report("export", tr("Saved {file} ({space}).").format(file=saved, space=parameters.exportSpace))

    def onReport(self) -> None:
        import qt

        report = qa_report(self.host.logic.caseOf(self.host.parameters))
        if report:
            qt.QDesktopServices.openUrl(qt.QUrl.fromLocalFile(str(report)))
