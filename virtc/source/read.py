"""Read a source file or standard input: bounded, refusing maps, with one-line errors."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from virtc.errors import VirtcError
from virtc.source import sniff
from virtc.source.reader import decode

MAX_SOURCE = 256 * 1024 * 1024
"""Sources are read whole; a bound keeps memory bounded (/dev/zero, a wrong file).

256 MiB is some 7 million entries, far beyond any real virtusertable.
"""


def too_big(name: object) -> VirtcError:
    return VirtcError(f"{name}: larger than {MAX_SOURCE // 2**20} MiB; not a virtusertable source")


def _read_bounded(stream: BinaryIO, name: object) -> bytes:
    error = too_big(name)
    try:
        st: os.stat_result | None = os.fstat(stream.fileno())
    except (OSError, ValueError):  # an in-memory stream (io.UnsupportedOperation)
        st = None
    if st is not None and stat.S_ISREG(st.st_mode):
        if st.st_size > MAX_SOURCE:
            raise error
        return stream.read()
    parts, size = [], 0  # a pipe or device: read it in pieces, never past the bound
    while chunk := stream.read(1 << 20):
        size += len(chunk)
        if size > MAX_SOURCE:
            raise error
        parts.append(chunk)
    return b"".join(parts)


def read_source(path: str | Path) -> bytes:
    """Read a source file, turning OS errors into one-line user errors."""
    p = Path(path)
    with reading(p), p.open("rb") as f:
        return _read_bounded(f, p)


@contextlib.contextmanager
def reading(p: Path) -> Iterator[None]:
    """OS errors while opening or reading the source ``p`` as one-line user errors."""
    try:
        if p.is_dir():
            raise VirtcError(f"{p}: is a directory, not a virtusertable source")
        yield
    except FileNotFoundError:
        raise VirtcError(f"{p}: no such file") from None
    except PermissionError:
        raise VirtcError(f"{p}: permission denied") from None
    except OSError as exc:
        raise VirtcError(f"{p}: cannot read: {exc.strerror or exc}") from None


def read_data(path: str | Path) -> tuple[bytes, str]:
    """A source's bytes and the name diagnostics give it; ``-`` reads standard input."""
    if str(path) == "-":
        import sys

        try:
            data = _read_bounded(sys.stdin.buffer, "<stdin>")
        except OSError as exc:
            raise VirtcError(f"<stdin>: cannot read: {exc.strerror or exc}") from None
        return data, "<stdin>"
    data = read_source(path)
    if sniff.is_berkeley_db(data[: sniff.HEAD]):
        raise VirtcError(f"{path}: {sniff.MAP_NOT_SOURCE}")
    return data, str(path)


def refuse_binary(head: bytes, name: object) -> None:
    """For lint: one line instead of hundreds of garbage diagnostics (or a fix rewriting
    the file) when the source is a built map or another binary file. (build and makemap
    take any bytes, as makemap does, and refuse only maps.)"""
    if sniff.is_berkeley_db(head):
        raise VirtcError(f"{name}: {sniff.MAP_NOT_SOURCE}")
    if sniff.looks_binary(head):
        raise VirtcError(f"{name}: a binary file, not a virtusertable source")


def read_text(path: str | Path) -> tuple[str, str]:
    """A source's decoded text and the name diagnostics give it; ``-`` reads standard input."""
    data, name = read_data(path)
    return decode(data), name


def is_regular_file(path: str | Path) -> bool:
    """Whether ``path`` names a regular file (not ``-``, a FIFO or a device): one that can be read again."""
    return regular_file_size(path) is not None


def regular_file_size(path: str | Path) -> int | None:
    """The size of the regular file ``path`` names; None for ``-``, a FIFO, a device, or no file."""
    if str(path) == "-":
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None  # reading it reports the problem
    return st.st_size if stat.S_ISREG(st.st_mode) else None
