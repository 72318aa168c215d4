"""The panels' texts through Slicer's translation function (``slicer.i18n.tr``); outside the Slicer
application (PyPI slicer-core, which has no ``slicer.i18n``) the text itself."""

try:
    from slicer.i18n import tr
except ImportError:
    def tr(text: str) -> str:
        return text
