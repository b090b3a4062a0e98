"""Progress of long runs: library code reports phases and steps, the CLI decides who sees them.

The reporter is a no-op unless a command installs a visible one with :func:`displayed`
(only on a terminal, never for machine-readable output or under pre-commit), and
even then the bar appears only once a run has taken more than a second. Library
code calls :func:`current` once per phase and advances it per block of work, so
the cost is nil when nothing is shown.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable, Iterator
from typing import IO, TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

T = TypeVar("T")

DELAY = 1.0
"""Seconds before a bar appears: short runs print nothing extra."""


class Reporter:
    """Reports nothing (the default: library use, tests, pipes)."""

    visible = False

    def phase(self, description: str, total: int) -> None:
        """Start a phase of ``total`` units of work."""

    def advance(self, n: int = 1) -> None:
        """``n`` more units of the current phase are done."""


_NULL = Reporter()
_current: Reporter = _NULL


def current() -> Reporter:
    return _current


def detach() -> None:
    """Report nothing from here on (in a forked helper: the parent draws the bar)."""
    global _current
    _current = _NULL


def counted(items: Iterable[T], every: int = 1 << 16) -> Iterable[T]:
    """``items``, advancing the current phase by ``every`` each ``every`` items."""
    reporter = _current
    if not reporter.visible:
        return items
    return _counted(items, reporter, every)


def _counted(items: Iterable[T], reporter: Reporter, every: int) -> Iterator[T]:
    n = 0
    for item in items:
        yield item
        n += 1
        if n == every:
            reporter.advance(n)
            n = 0
    reporter.advance(n)


class _RichReporter(Reporter):
    """A transient rich progress bar on stderr, started after :data:`DELAY` seconds."""

    visible = True

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.bar: Progress | None = None
        self.task: TaskID | None = None
        self.description, self.total, self.completed = "", 0, 0

    def phase(self, description: str, total: int) -> None:
        self.description, self.total, self.completed = description, total, 0
        self._show()

    def advance(self, n: int = 1) -> None:
        self.completed += n
        self._show()

    def _show(self) -> None:
        if self.bar is None:
            if time.monotonic() - self.started < DELAY:
                return
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self.bar = Progress(TextColumn("{task.description:<12}"), BarColumn(),
                                TaskProgressColumn(), TimeElapsedColumn(),
                                console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.description, total=self.total)
        assert self.task is not None
        self.bar.update(self.task, description=self.description, total=self.total,
                        completed=self.completed)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def wanted(stream: IO[str], machine_readable: bool = False) -> bool:
    """Whether a bar may be drawn on ``stream``: a terminal, for a human, not under pre-commit."""
    if machine_readable or os.environ.get("PRE_COMMIT"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


@contextlib.contextmanager
def displayed(enabled: bool) -> Iterator[None]:
    """Within this block, long phases draw a progress bar on stderr (if ``enabled``)."""
    global _current
    if not enabled:
        yield
        return
    reporter = _RichReporter()
    previous, _current = _current, reporter
    try:
        yield
    finally:
        _current = previous
        reporter.close()
