"""Progress reporting for long work.

Slow functions take ``progress(fraction, message)``; ``fraction`` runs from 0.0 to 1.0.
"""

from typing import Callable, Optional

Progress = Callable[[float, str], None]


def no_progress(fraction: float, message: str) -> None:
    """A progress callback that ignores its reports."""


def sub_progress(progress: Optional[Progress], start: float, stop: float) -> Progress:
    """Map a sub-task's 0..1 onto ``start..stop`` of the parent's ``progress``."""
    parent = progress or no_progress

    def report(fraction: float, message: str) -> None:
        parent(start + (stop - start) * min(max(fraction, 0.0), 1.0), message)

    return report
