"""A large source kept out of memory while nobody looks at it.

Linting a million-entry table needs the source text only to show the lines of
what it reports; holding it as read costs as much memory as all the parsed
columns together. A file is read again when its text is needed, and checked to
be the bytes that were parsed (:class:`FileSource`); standard input and other
streams are kept zlib-compressed (:class:`PackedBytes`: level 1, about 5:1 on a
virtusertable, in a background thread since zlib releases the GIL).
"""

from __future__ import annotations

import threading
import zlib
from pathlib import Path

from virtc.compat import zip_strict
from virtc.errors import VirtcError


class LazySource:
    """Bytes that :meth:`unpack` gives back when they are needed."""

    size: int

    def unpack(self) -> bytes:
        raise NotImplementedError

    def wait(self) -> None:
        """Until the bytes the parse read may be dropped."""

    def __len__(self) -> int:
        return self.size


class FileSource(LazySource):
    """A source file read again on demand, and refused if it is no longer what was parsed.

    ``parts``: the end offset and CRC-32 of each consecutive part of the file as it was
    read (two processes read one half each).
    """

    def __init__(self, path: str | Path, parts: list[tuple[int, int]]) -> None:
        self.path, self.size, self._parts = str(path), parts[-1][0], parts

    @classmethod
    def of(cls, path: str | Path, data: bytes) -> FileSource:
        """The file at ``path``, which held ``data``."""
        return cls(path, [(len(data), zlib.crc32(data))])

    def unpack(self) -> bytes:
        try:
            data = Path(self.path).read_bytes()
        except OSError as exc:
            raise VirtcError(f"{self.path}: cannot read it again: {exc.strerror or exc}") from None
        view, starts = memoryview(data), [0] + [end for end, _ in self._parts[:-1]]
        if len(data) != self.size or any(zlib.crc32(view[start:end]) != crc
                                         for start, (end, crc) in zip_strict(starts, self._parts)):
            raise VirtcError(f"{self.path}: changed while virtc was checking it; run virtc again")
        return data


class PackedBytes(LazySource):
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

