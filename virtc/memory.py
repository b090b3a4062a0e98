"""Keep the C allocator from holding on to memory a large run has freed.

Parsing a large source allocates and frees many blocks of a few hundred KiB
between long-lived ones. glibc serves such blocks from its heap once its
adaptive mmap threshold has risen, and the freed holes between live blocks
then stay resident: 30 MB at 1M entries. A fixed threshold keeps every block
of 128 KiB or more in its own mapping, returned to the system when freed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

_M_MMAP_THRESHOLD = -3  # glibc <malloc.h>
THRESHOLD = 128 * 1024


@functools.cache
def tune_for_large_inputs() -> bool:
    """Fix glibc's mmap threshold (once); False where there is no glibc ``mallopt``."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, THRESHOLD))
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to tune
        return False
