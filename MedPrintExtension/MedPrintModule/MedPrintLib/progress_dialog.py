"""Long work behind a cancellable progress dialog, with errors shown the Slicer way (inside Slicer only).

The work is ``function(progress)`` with the core's ``progress(fraction, message)`` callback; Cancel
raises out of the callback at the next report. A ``MedPrintError`` shows its message (and detail) in a
message box; any other error says so and keeps the traceback for the details box and the log. The log
gets the step's name and the exception, never patient data (the core's messages carry none).
"""

import logging
import traceback

from medprint.errors import MedPrintError

from .i18n import tr


class Cancelled(Exception):
    """Raised from the progress callback when the user presses Cancel."""


def run_with_progress(step: str, labelText: str, function, cancelled: str = ""):
    """(result or None, status text or "") of ``function(progress)``: the text says why there is no
    result (``cancelled``, default "Cancelled.", or the failure)."""
    import slicer

    dialog = slicer.util.createProgressDialog(parent=slicer.util.mainWindow(), windowTitle=tr("MedPrint"),
                                              labelText=labelText, maximum=100)

    def progress(fraction: float, message: str) -> None:
        if dialog.wasCanceled:
            raise Cancelled()
        dialog.setValue(int(round(100 * min(max(fraction, 0.0), 1.0))))
        dialog.setLabelText(message)
        slicer.app.processEvents()

    try:
        return function(progress), ""
    except Cancelled:
        return None, cancelled or tr("Cancelled.")
    except MedPrintError as error:
        details = {"detailedText": error.detail} if error.detail else {}
        slicer.util.errorDisplay(str(error), windowTitle=tr("MedPrint"), **details)
        return None, tr("Failed: ") + error.message
    except Exception:  # an unexpected error: say so, keep the traceback for the details box
        logging.exception("MedPrint: the %s step failed", step)
        slicer.util.errorDisplay(tr("The {step} step failed because of an unexpected error.").format(step=step),
                                 windowTitle=tr("MedPrint"), detailedText=traceback.format_exc())
        return None, tr("Failed (unexpected error, see the Python console).")
    finally:
        dialog.close()
