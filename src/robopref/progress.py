"""Progress reporting for long work: library code calls a callback; the CLI draws the bar."""

from __future__ import annotations

from collections.abc import Callable

ProgressCallback = Callable[[int, int], None]
"""Called as `callback(done, total)` after each unit of work (episode, clip, epoch...)."""


def no_progress(done: int, total: int) -> None:
    """A callback that ignores progress."""
    del done, total
