"""Progress reporting for long work.

Slow functions take ``progress(fraction, message)``; ``fraction`` runs from 0.0 to 1.0.
"""

import time
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


class StageClock:
    """Times the stages of a slow function: ``lap(name, fraction)`` records the seconds since the
    previous lap (or since creation) in ``seconds[name]`` and reports ``fraction`` to ``progress``."""

    def __init__(self, progress: Optional[Progress] = None):
        self.seconds: dict[str, float] = {}
        self._progress = progress or no_progress
        self._last = time.perf_counter()

    def lap(self, name: str, fraction: float) -> None:
        now = time.perf_counter()
        self.seconds[name] = round(now - self._last, 4)
        self._last = now
        self._progress(fraction, name)
