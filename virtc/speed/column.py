"""A column of short texts (keys or values) kept as one string, not a million objects.

A 1M-entry table held as a list of ``str`` costs some 80 bytes an entry per column;
as one string ``"\\nTEXT0\\nTEXT1\\n...\\n"`` plus a 4-byte offset per text it costs
the text itself, and a regex scans the whole column at C speed. Texts never hold a
newline (records are lines), which is what makes the newline a safe separator.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate, chain, compress, islice, repeat
from operator import add, ne, sub
from typing import Literal, overload

SCAN_BLOCK = 1 << 20
"""Characters split at a time when iterating: never a list of every text of a large column."""

_END = re.Match.end
_START = re.Match.start
_COUNT_BELOW = 1000
"""Counting newlines costs about 1 ns a character, bisecting the offsets about 1 us a match:
with more than one match per this many characters, :meth:`Column.matching` counts."""


class Column(Sequence[str]):
    """Texts ``0..n-1`` as slices of one string, ``text[starts[i]:starts[i + 1] - 1]``."""

    __slots__ = ("starts", "text")

    def __init__(self, text: str, starts: array[int]) -> None:
        self.text = text
        """``"\\n" + "\\n".join(texts) + "\\n"``."""
        self.starts = starts
        """Offset of each text in ``text``, plus one past the end (``len(texts) + 1`` items)."""

    @classmethod
    def of(cls, texts: Iterable[str]) -> Column:
        """The column of ``texts`` (none of which may contain a newline)."""
        return ColumnBuilder().extend(texts).column()

    def __len__(self) -> int:
        return len(self.starts) - 1

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: int | slice) -> str | list[str]:
        starts = self.starts
        if type(i) is int and i >= 0:  # the hot path: rules pick texts by index
            return self.text[starts[i]:starts[i + 1] - 1]  # starts[len] raises IndexError
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if -len(self) <= i < 0:
            return self[i + len(self)]
        raise IndexError("column index out of range")

    def __iter__(self) -> Iterator[str]:
        """The texts in order, split a block at a time (in C)."""
        text, n = self.text, len(self)
        if not n:
            return iter(())
        return chain.from_iterable(_blocks(text))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Column):
            return self.text == other.text
        if isinstance(other, Sequence) and not isinstance(other, str):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Column({list(self)[:5]!r}{'...' if len(self) > 5 else ''}, n={len(self)})"

    def split_blocks(self) -> Iterator[tuple[int, list[str]]]:
        """The texts a block of about ``SCAN_BLOCK`` characters at a time (split in C), each
        list with the index of its first text: for a test of nearly every text, cheaper than
        finding the few that pass (:meth:`matching`) when few do not."""
        base = 0
        for texts in _blocks(self.text) if len(self) else ():
            yield base, texts
            base += len(texts)

    def encoded(self) -> Iterator[bytes]:
        """The texts as Latin-1 bytes, in order: a block is encoded at once, then split (in C)."""
        if not len(self):
            return iter(())
        return chain.from_iterable(_blocks(self.text, encode=True))

    def take(self, indices: Sequence[int]) -> list[str]:
        """``[self[i] for i in indices]``, in C (no Python frame per text)."""
        starts, text = self.starts, self.text
        begins = map(starts.__getitem__, indices)
        ends = map(sub, map(starts.__getitem__, map(add, indices, repeat(1))), repeat(1))
        return list(map(text.__getitem__, map(slice, begins, ends)))

    def contains(self, part: str) -> bool:
        """Whether any text contains ``part`` (one search of the whole column, in C)."""
        assert "\n" not in part
        return part in self.text

    def count(self, part: str) -> int:
        """How often ``part`` occurs in all the texts together."""
        assert "\n" not in part
        return self.text.count(part)

    def any_endswith(self, suffix: str) -> bool:
        """Whether any text ends with ``suffix`` (non-empty)."""
        assert suffix and "\n" not in suffix
        return suffix + "\n" in self.text

    def isascii(self) -> bool:
        """Whether every text is ASCII."""
        return self.text.isascii()

    def with_text(self, text: str) -> Column:
        """A column of ``text`` with the same offsets (``text`` from a length-keeping map, e.g. fold)."""
        return Column(text, self.starts)

    def findall(self, pattern: re.Pattern[str]) -> Iterator[list[str]]:
        """``pattern.findall`` over the column's ``text``, a list per block of about
        ``SCAN_BLOCK`` characters, so that a million matches are never held at once.

        A block runs from the newline before its first text to the one after its last (the
        next block starts on that one): a pattern may start with ``\n`` ("text starts
        with") and must end inside the text or with ``(?=\n)``, as for :meth:`matching`."""
        text = self.text
        pos = 0
        while pos < len(text) - 1:
            cut = text.find("\n", pos + 1 + SCAN_BLOCK) + 1 or len(text)  # (not the newline at pos)
            yield pattern.findall(text, pos, cut)
            pos = cut - 1

    def starting_with(self, char: str) -> list[int]:
        """Indices (ascending) of the texts whose first character is ``char``: one search of
        a string of every text's first character (a million matches cost no count each)."""
        assert len(char) == 1 and char != "\n"
        firsts = "".join(map(self.text.__getitem__, islice(self.starts, len(self))))
        return list(map(_START, re.finditer(re.escape(char), firsts)))

    def matching(self, *patterns: re.Pattern[str]) -> array[int]:
        """Indices (ascending, once each) of the texts any of ``patterns`` finds something in.

        Patterns should start with a literal or a character class (``\\n`` for "text
        starts with", which re finds fast; ``(?m)^`` is tried at every position and is
        slow) and end inside the text or with ``(?=\\n)`` for "text ends with". An array:
        8 bytes a match, where a list costs 40 (a pattern may match most of a million texts).
        """
        if not len(self):
            return array("l")
        starts, text = self.starts, self.text

        def indices(pattern: re.Pattern[str]) -> Iterator[int]:
            # The match's last character lies in its text (or on the newline just after it),
            # which is the one after the newlines before it. Mapped in C (no Python frame per
            # match: a pattern may match most of a million texts).
            ends = array("l", map(sub, map(_END, pattern.finditer(text)), repeat(1)))
            if len(ends) * _COUNT_BELOW > len(text):  # many: count the newlines between matches
                newlines = accumulate(map(text.count, repeat("\n"), chain((0,), ends), ends))
                return map(sub, newlines, repeat(1))
            return map(sub, map(bisect_right, repeat(starts), ends), repeat(1))  # few: bisect

        if len(patterns) == 1:  # matches come in text order: only neighbours can repeat
            hits = array("l", indices(patterns[0]))
            return array("l", compress(hits, map(ne, hits, chain((-1,), hits))))
        found: set[int] = set()
        for pattern in patterns:
            found.update(indices(pattern))
        return array("l", sorted(found))


@overload
def _blocks(text: str) -> Iterator[list[str]]: ...


@overload
def _blocks(text: str, encode: Literal[True]) -> Iterator[list[bytes]]: ...


def _blocks(text: str, encode: bool = False) -> Iterator[list[str]] | Iterator[list[bytes]]:
    """The texts of a non-empty column's ``text``, about ``SCAN_BLOCK`` characters at a time
    (as Latin-1 bytes if ``encode``)."""
    pos, end = 1, len(text) - 1  # inside the leading and trailing newline
    while True:
        cut = text.find("\n", pos + SCAN_BLOCK, end)
        block = text[pos:cut if cut >= 0 else end]
        yield block.encode("latin-1").split(b"\n") if encode else block.split("\n")
        if cut < 0:
            return
        pos = cut + 1


class ColumnBuilder:
    """Collects texts a batch at a time; :meth:`column` joins them once."""

    def __init__(self, continuation: bool = False) -> None:
        # A continuation (a part to :meth:`append` to another column) has no leading newline.
        self._text = "" if continuation else "\n"
        self.starts = array("I", [len(self._text)])

    def extend(self, texts: Iterable[str]) -> ColumnBuilder:
        batch = texts if isinstance(texts, list) else list(texts)
        return self.extend_joined("\n".join(batch), list(map(len, batch)))

    def extend_joined(self, joined: str, lengths: list[int]) -> ColumnBuilder:
        """Add ``len(lengths)`` texts given already joined by newlines, and their lengths."""
        if lengths:
            # Appended in place (CPython resizes a str nobody else holds): a column of
            # parts joined at the end would need twice its size at that moment.
            text, self._text = self._text, ""
            text += joined
            text += "\n"
            self._text = text
            # each text plus its newline, computed in C
            ends = accumulate(map(add, lengths, repeat(1)), initial=self.starts[-1])
            self.starts.extend(islice(ends, 1, None))
        return self

    def append(self, other: ColumnBuilder) -> None:
        """Add the texts of ``other``, a continuation, after these (a part parsed elsewhere)."""
        assert other.starts[0] == 0, "not a continuation"
        shift = len(self._text)
        text, self._text = self._text, ""
        text += other._text  # in place: no copy of either column
        self._text = text
        self.starts.extend(map(add, islice(other.starts, 1, None), repeat(shift)))

    def column(self) -> Column:
        return Column(self._text, self.starts)
