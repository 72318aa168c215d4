"""Exceptions of the project's own types.

Each carries a message a radiologist understands (``str(err)``), an optional ``hint`` saying what
to do about it, and an optional technical ``detail``.
"""


class MedPrintError(Exception):
    """Base class: something MedPrint could not do, said in plain words."""

    def __init__(self, message: str, *, hint: str = "", detail: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.detail = detail

    def __str__(self) -> str:
        text = self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class InputError(MedPrintError):
    """The input (file, folder, series, parameter) cannot be used as given."""


class SeriesError(InputError):
    """A DICOM series is incomplete or inconsistent (missing slices, mixed sizes, ...)."""


class EmptyResultError(MedPrintError):
    """A step produced nothing (for example, no voxel inside the threshold range)."""
