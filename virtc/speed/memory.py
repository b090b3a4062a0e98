"""Keep the C allocator from holding on to memory a large run has freed.

Parsing a large source allocates and frees many blocks of a few hundred KiB
between long-lived ones. glibc serves such blocks from its heap once its
adaptive mmap threshold has risen, and the freed holes between live blocks
then stay resident. A fixed threshold keeps every block
of 128 KiB or more in its own mapping, returned to the system when freed, and
:func:`give_back` returns the free pages between a large run's phases.
"""

from __future__ import annotations

import contextlib
import functools
import gc
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ctypes

_M_MMAP_THRESHOLD = -3  # glibc <malloc.h>
THRESHOLD = 128 * 1024


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        import ctypes  # (not at start-up: only large inputs get here)
        import ctypes.util

        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except (ImportError, OSError):  # no ctypes, no C library to load: nothing to tune
        return None


@functools.cache
def tune_for_large_inputs() -> bool:
    """Fix glibc's mmap threshold (once); False where there is no glibc ``mallopt``."""
    try:
        return bool(_libc().mallopt(_M_MMAP_THRESHOLD, THRESHOLD))  # type: ignore[union-attr]
    except AttributeError:  # not glibc (musl, macOS): nothing to tune
        return False


def give_back() -> None:
    """Return free memory to the system between phases of a large run: what one phase
    freed would otherwise stay resident through the next.

    First Python's own: its free lists keep up to a hundred objects of some types
    (floats, tuples) for reuse, wherever they were, and one of them keeps a whole
    arena of freed objects from being returned; a full collection empties them
    (building a large key index leaves several). Then the C
    heap's free pages (glibc ``malloc_trim``).
    """
    gc.collect()
    with contextlib.suppress(AttributeError):  # not glibc: nothing to do
        _libc().malloc_trim(0)  # type: ignore[union-attr]
