"""Split source bytes into records exactly as makemap's input loop does.

makemap reads its input with ``fgets`` into a 1024-byte buffer: a record holds at
most 1023 bytes, so a line may have at most 1022 bytes before its ``\\n``. A longer
line is rejected ("line too long") *and its remainder is read as the next record*;
a line with a NUL byte is rejected the same way (``strchr`` stops at the NUL and
finds no newline). Only the last line of a file may lack its ``\\n``; there a NUL
silently truncates the line. This module reproduces that, keeping the physical
line and column of every record for diagnostics.

Bytes are decoded as Latin-1: one character per byte, so the round trip back to
the stored key and value is exact for any input (UTF-8, 8-bit, BOMs, binary).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from enum import Enum
from typing import NamedTuple

BUFSIZE = 1024
"""makemap's input buffer (``BUFSIZE`` in makemap.c)."""
CHUNK = BUFSIZE - 1
"""Bytes one ``fgets`` call returns at most."""
MAX_LINE = BUFSIZE - 2
"""Longest line makemap accepts, without its newline."""


class Problem(Enum):
    """Why makemap rejects (or silently alters) a record before parsing it."""

    TOO_LONG = "too-long"
    NUL = "nul"
    NUL_TRUNCATED = "nul-truncated"  # accepted by makemap, cut at the NUL


class Record(NamedTuple):
    """One makemap record: what one ``fgets`` returned, without the newline."""

    text: str
    line: int
    """Physical line number (1-based)."""
    column: int
    """Column of ``text[0]`` in that line (1-based; >1 for the rest of an over-long line)."""
    seq: int
    """makemap's own line counter, which drifts by one per extra 1023-byte chunk."""
    problem: Problem | None = None
    line_length: int = 0
    """Length of the whole physical line (set only for records with a problem)."""


def decode(data: bytes) -> str:
    """Bytes to text, one character per byte (never fails)."""
    return data.decode("latin-1")


def encode(text: str) -> bytes:
    """The inverse of :func:`decode`."""
    return text.encode("latin-1")


def records(text: str) -> Iterator[Record]:
    """Yield makemap's records for a whole source (as returned by :func:`decode`)."""
    lines = text.split("\n")
    last = lines.pop()  # "" when the file ends with a newline
    seq = 0
    for record in line_records(lines, 1, 0):
        seq = record.seq
        yield record
    if last:
        yield from chunks(last, len(lines) + 1, seq)


def line_records(lines: Iterable[str], first: int, seq: int) -> Iterator[Record]:
    """makemap's records for whole lines (each ended by a newline), the first numbered
    ``first``, after record number ``seq``: one record a line unless it is too long or
    holds a NUL (then :func:`chunks`)."""
    for number, line in enumerate(lines, first):
        if len(line) <= MAX_LINE and "\0" not in line:
            seq += 1
            yield Record(line, number, 1, seq)
        else:
            for record in chunks(line + "\n", number, seq):
                seq = record.seq
                yield record


def chunks(physical: str, number: int, seq: int) -> Iterator[Record]:
    """Records of one physical line (with its newline, unless it ends the file)."""
    length = len(physical.rstrip("\n"))
    pos = 0
    while pos < len(physical):
        chunk = physical[pos : pos + CHUNK]
        seq += 1
        column = pos + 1
        pos += len(chunk)
        if chunk.endswith("\n"):
            content = chunk[:-1]
            if "\0" in content:
                yield Record(content, number, column, seq, Problem.NUL, length)
            else:
                yield Record(content, number, column, seq)
        elif len(chunk) == CHUNK:
            # A full buffer without a newline: makemap is not at EOF yet.
            yield Record(chunk, number, column, seq, Problem.TOO_LONG, length)
        elif "\0" in chunk:
            # The last line of the file, without a newline: a C string ends at the NUL.
            content = chunk.split("\0", 1)[0]
            yield Record(content, number, column, seq, Problem.NUL_TRUNCATED, length)
        else:
            yield Record(chunk, number, column, seq)
