"""A source in blocks of lines: never a list of every line of a large source."""

from __future__ import annotations

from collections.abc import Iterator
from typing import AnyStr

from virtc import progress

BLOCK = 1 << 20
"""Characters split into lines at a time: never a list of every line of a large source."""


def pieces(text: AnyStr, start: int = 0, end: int | None = None) -> Iterator[AnyStr]:
    """``text[start:end]`` in consecutive pieces of about ``BLOCK`` characters, cut at
    newlines: each piece without the newline that ends it, the last one whatever follows
    the last cut (empty when the text ends with a newline)."""
    end = len(text) if end is None else end
    newline: AnyStr = "\n" if isinstance(text, str) else b"\n"
    pos = start
    while (cut := text.find(newline, pos + BLOCK, end)) >= 0:
        yield text[pos:cut]
        pos = cut + 1
    yield text[pos:end]


def line_blocks(pieces: Iterator[AnyStr], what: str,
                 total: int) -> Iterator[tuple[AnyStr, list[AnyStr], bool]]:
    """Each piece, its lines, and whether it holds a NUL byte.

    Reports its progress through the ``total`` characters as the phase ``what``.
    """
    bar = progress.current()
    bar.phase(what, total)
    done = 0
    for piece in pieces:
        if isinstance(piece, str):
            yield piece, piece.split("\n"), "\0" in piece
        else:
            yield piece, piece.split(b"\n"), b"\0" in piece
        step = min(len(piece) + 1, total - done)  # (no newline after the last piece)
        bar.advance(step)
        done += step
