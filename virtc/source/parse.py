"""Parse a virtusertable source into the model: the entry points.

Bytes become makemap's records (:mod:`virtc.source.reader`), records become entries,
comments and rejections (:mod:`virtc.source.recognise`: the grammar's fast path and the
Lark fallback). A large source takes :mod:`virtc.source.large` (two halves at once,
read a block at a time); every path gives the same table (property-tested).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from virtc.model import Item
from virtc.source import large
from virtc.source.read import read_data, regular_file_size
from virtc.source.recognise import parse_part
from virtc.speed.gcpause import paused_gc
from virtc.table import Table


def parse_text(text: str, path: str = "<string>") -> Table:
    """Parse Latin-1 decoded source text."""
    with paused_gc():
        return parse_part(text, 0, len(text)).table(path, text)


def parse_source(text: str) -> Iterator[Item]:
    """Every item of ``text`` in file order."""
    return iter(parse_text(text).items)


def parse_bytes(data: bytes, path: str = "<bytes>", *, jobs: int | None = None,
                from_file: bool = False) -> Table:
    """Parse a source's bytes (Latin-1: every byte one character); the table keeps the
    bytes and decodes them only if a source line is asked for. ``jobs`` is ``-j``;
    ``from_file``: ``path`` is the regular file ``data`` was read from (a large source
    is then read again if needed instead of being kept)."""
    if large.is_large(len(data)):
        return large.parse_large_bytes(data, path, jobs=jobs, from_file=from_file)
    with paused_gc():
        return parse_part(data, 0, len(data)).table(path, data)


def parse_file(path: str | Path, *, jobs: int | None = None) -> Table:
    """Read and parse a source file; ``-`` reads standard input. ``jobs``: see parse_bytes.

    A large regular file is parsed as it is read, a block at a time, so that its
    bytes are never all in memory (in two halves at once when ``jobs`` allows).
    """
    size = regular_file_size(path)
    if size is not None and size >= large.PACK_SIZE:
        return large.parse_large_file(Path(path), jobs)
    data, name = read_data(path)
    return parse_bytes(data, name, jobs=jobs, from_file=size is not None)
