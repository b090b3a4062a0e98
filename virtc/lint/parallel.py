"""Run two groups of rules at once on a large table: one group in a forked helper process.

Rules are CPU-bound Python and the machine usually has a second core. After
``fork()`` the helper shares the table and the warmed shared index copy-on-write:
they are a few large strings and arrays, whose pages are never written, so they
are not copied. Only the helper's diagnostics come back, pickled through a pipe.
Without ``fork`` (or for a small table) both groups run here, one after the other.
"""

from __future__ import annotations

import os
import pickle
import signal
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from virtc import progress
from virtc.diagnostics import Diagnostic

MIN_ENTRIES = 50_000
"""Below this a table lints in well under a second: a helper would not pay for itself."""

Run = Callable[[], list[Diagnostic]]


@dataclass(frozen=True)
class _Failed:
    """What the helper sends back instead of diagnostics when a rule raised."""

    why: str


class HelperFailed(RuntimeError):
    """A rule raised in the helper process (a bug: the message has its traceback)."""


def run_both(here: Run, helper: Run, *, parallel: bool) -> list[Diagnostic]:
    """``here() + helper()``, the second one in a forked process when ``parallel``."""
    if not parallel or not hasattr(os, "fork"):
        return here() + helper()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the helper: never returns
        os.close(read_end)
        _serve(helper, write_end)
    os.close(write_end)
    try:
        mine = here()
        with os.fdopen(read_end, "rb") as pipe:
            payload = pipe.read()
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    _, status = os.waitpid(pid, 0)
    theirs = pickle.loads(payload) if payload else _Failed(f"the helper exited with status {status}")
    if isinstance(theirs, _Failed):
        raise HelperFailed(f"lint helper process failed: {theirs.why}")
    result: list[Diagnostic] = mine + theirs
    return result


def _serve(helper: Run, write_end: int) -> None:
    status = 0
    try:
        progress.detach()  # the parent owns the terminal
        payload = pickle.dumps(helper(), protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:  # reported to the parent, which raises it
        payload = pickle.dumps(_Failed(traceback.format_exc()))
        status = 1
    try:
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(payload)
    finally:
        os._exit(status)  # no atexit handlers, no flushing the parent's buffers
