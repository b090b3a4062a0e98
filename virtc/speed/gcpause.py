"""Pause Python's cyclic garbage collector around work that allocates a lot.

Parsing and linting a large table create millions of objects that form no
cycles (entries, strings, tuples); each one counts towards the collector's
thresholds, so it keeps walking every live object again, for nothing. Reference counting still frees them.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc(*, keep: bool = False) -> Iterator[None]:
    """Disable the collector in this block, re-enabling it after only if it was enabled.

    ``keep``: what the block made lives until the program ends (a command's results), so
    it is frozen (:func:`gc.freeze`) before the collector comes back, whose first
    collection would otherwise walk all of it once (300k diagnostics: a tenth of a second).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if keep:
                gc.freeze()
            gc.enable()
