"""A large source kept compressed while it is not looked at.

Linting a million-entry table needs the source text only to show the lines of
what it reports; holding it as read costs as much memory as all the parsed
columns together. zlib (level 1, about 5:1 on a virtusertable) releases the GIL,
so the compression runs on the second core while the parser works.
"""

from __future__ import annotations

import threading
import zlib


class PackedBytes:
    """``data``, compressed in a background thread; :meth:`unpack` gives it back."""

    def __init__(self, data: bytes) -> None:
        self.size = len(data)
        self._packed: bytes | None = None
        self._thread = threading.Thread(target=self._pack, args=(data,), name="virtc-pack", daemon=True)
        self._thread.start()

    def _pack(self, data: bytes) -> None:
        self._packed = zlib.compress(data, 1)

    def wait(self) -> None:
        """Until the compressed copy exists (then the caller may drop ``data``)."""
        self._thread.join()

    def unpack(self) -> bytes:
        self.wait()
        assert self._packed is not None
        return zlib.decompress(self._packed)

    def __len__(self) -> int:
        return self.size
