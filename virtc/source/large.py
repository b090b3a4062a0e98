"""Large sources: parsed in two halves at once, read from the file a block at a time
(``pread`` and a CRC-32 to notice a change), and not kept in memory as read."""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from pathlib import Path

from virtc.errors import VirtcError
from virtc.source import blocks, sniff
from virtc.source.blocks import line_blocks
from virtc.source.read import MAX_SOURCE, reading, too_big
from virtc.source.recognise import parse_into, parse_part
from virtc.speed import memory, parallel
from virtc.speed.gcpause import paused_gc
from virtc.speed.packed import FileSource, LazySource, PackedBytes
from virtc.table import Table, TableBuilder


def _file_pieces(fd: int, start: int, end: int, path: str, crc: list[int]) -> Iterator[bytes]:
    """The same pieces of bytes ``start``..``end`` of the file open as ``fd``, read a
    block at a time (never the whole file); ``crc[0]`` accumulates their CRC-32.

    ``os.pread``, not ``read``: a helper process shares the descriptor's offset.
    """
    pos, held = start, list[bytes]()  # the start of a line longer than a block, in parts
    while pos < end:
        chunk = os.pread(fd, min(blocks.BLOCK, end - pos), pos)
        if not chunk:
            raise VirtcError(f"{path}: changed while virtc was reading it; run virtc again")
        pos += len(chunk)
        crc[0] = zlib.crc32(chunk, crc[0])
        cut = chunk.rfind(b"\n")
        if cut < 0:
            held.append(chunk)
            continue
        yield b"".join((*held, chunk[:cut])) if held else chunk[:cut]
        held = [chunk[cut + 1:]]
    yield b"".join(held)


SPLIT_SIZE = 4 << 20
"""Sources this large are parsed in two halves at once when a helper process is allowed."""


PACK_SIZE = 4 << 20
"""Sources this large (some 100k entries) are not kept in memory as read (:mod:`virtc.speed.packed`)."""


def parse_halves(data: bytes) -> TableBuilder:
    """Parse ``data`` in two halves, split after a newline, the second one in a helper
    process (the joined halves are the one parse: property-tested)."""
    mid = data.find(b"\n", len(data) // 2) + 1
    if not mid:
        return parse_part(data, 0, len(data))
    with parallel.Helper(lambda: parse_part(data, mid, len(data), True)) as job:
        table = parse_part(data, 0, mid)
        part = job.result()
    table.append(part)
    return table


def parse_large_file(p: Path, jobs: int | None) -> Table:
    memory.tune_for_large_inputs()
    with reading(p), p.open("rb") as f:
        fd = f.fileno()
        before = os.fstat(fd)
        size = before.st_size
        if size > MAX_SOURCE:
            raise too_big(p)
        if sniff.is_berkeley_db(os.pread(fd, sniff.HEAD, 0)):
            raise VirtcError(f"{p}: {sniff.MAP_NOT_SOURCE}")
        mid = _line_end(fd, size // 2, size) if size >= SPLIT_SIZE and parallel.split_allowed(jobs) else size
        with paused_gc():
            if mid < size:
                with parallel.Helper(lambda: _parse_file_part(fd, mid, size, str(p), True)) as job:
                    table, crc = _parse_file_part(fd, 0, mid, str(p))
                    part, part_crc = job.result()
                table.append(part)
                parts = [(mid, crc), (size, part_crc)]
            else:
                table, crc = _parse_file_part(fd, 0, size, str(p))
                parts = [(size, crc)]
        after = os.fstat(fd)
    if (after.st_size, after.st_mtime_ns) != (size, before.st_mtime_ns):
        raise VirtcError(f"{p}: changed while virtc was reading it; run virtc again")
    return table.table(str(p), FileSource(p, parts))


def _parse_file_part(fd: int, start: int, end: int, path: str,
                     continuation: bool = False) -> tuple[TableBuilder, int]:
    """:func:`parse_part` of bytes ``start``..``end`` of a file, and their CRC-32."""
    table, crc = TableBuilder(continuation), [0]
    parse_into(table, line_blocks(_file_pieces(fd, start, end, path, crc), "parsing", end - start), True)
    return table, crc[0]


def _line_end(fd: int, pos: int, size: int) -> int:
    """The offset just past the first newline at or after ``pos`` (``size`` if there is none)."""
    while pos < size:
        chunk = os.pread(fd, 1 << 16, pos)
        if not chunk:
            break
        cut = chunk.find(b"\n")
        if cut >= 0:
            return pos + cut + 1
        pos += len(chunk)
    return size


def is_large(size: int) -> bool:
    """Whether a source of ``size`` bytes takes this module's paths."""
    return size >= PACK_SIZE or size >= SPLIT_SIZE


def parse_large_bytes(data: bytes, path: str, *, jobs: int | None, from_file: bool) -> Table:
    """:func:`virtc.source.parse.parse_bytes` of a large source: in two halves at once when
    ``jobs`` allows, the bytes kept compressed or, ``from_file``, read again if needed."""
    source: bytes | LazySource = data
    if len(data) >= PACK_SIZE:
        memory.tune_for_large_inputs()
        source = FileSource.of(path, data) if from_file else PackedBytes(data)
    with paused_gc():
        if len(data) >= SPLIT_SIZE and parallel.split_allowed(jobs):
            table = parse_halves(data)
        else:
            table = parse_part(data, 0, len(data))
    if isinstance(source, LazySource):
        source.wait()  # (compressing stdin is done long before the parse: it is several times faster)
    return table.table(path, source)
