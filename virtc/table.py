"""A parsed source: its entries as columns, its other lines, and the indexes cached on it.

:class:`Table` is the only owner of its cached indexes (the key index, the stored keys):
others adopt, drop or ask for them through its methods.
"""

from __future__ import annotations

import heapq
import re
from array import array
from collections.abc import Iterable, Iterator, Sequence
from functools import cached_property
from itertools import repeat
from operator import add, attrgetter
from typing import overload

from virtc.model import ASCII_UPPER, Comment, Entry, Item, Rejected, fold
from virtc.speed.column import Column, ColumnBuilder
from virtc.speed.keyindex import KeyIndex, KeyIndexParts
from virtc.speed.packed import LazySource


class Entries(Sequence[Entry]):
    """A table's entries, each built from the table's columns when asked for.

    ``Entry`` objects for every entry would cost five times the columns' memory.
    """

    __slots__ = ("_table",)

    def __init__(self, table: Table) -> None:
        self._table = table

    def __len__(self) -> int:
        return len(self._table.keys)

    @overload
    def __getitem__(self, i: int) -> Entry: ...

    @overload
    def __getitem__(self, i: slice) -> list[Entry]: ...

    def __getitem__(self, i: int | slice) -> Entry | list[Entry]:
        t = self._table
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        key = t.keys[i]  # raises IndexError
        return Entry(key, t.values[i], t.lines[i], t.key_columns.get(i, 1), t.value_columns[i], t.seqs[i])

    def __iter__(self) -> Iterator[Entry]:
        t = self._table
        cols = map(t.key_columns.get, range(len(self)), repeat(1))
        return map(Entry, t.keys, t.values, t.lines, cols, t.value_columns, t.seqs)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Entries(n={len(self)})"


class TableBuilder:
    """Collects a table's entries into columns, and its comments and rejections as objects."""

    def __init__(self, continuation: bool = False) -> None:
        """``continuation``: a part to :meth:`append` to the table of the lines before it."""
        self.keys = ColumnBuilder(continuation)
        self.values = ColumnBuilder(continuation)
        self.lines = array("I")
        self.value_columns = array("I")
        self.seqs = array("I")
        self.key_columns: dict[int, int] = {}
        self.others: list[Comment | Rejected] = []
        # The fast path's comments, as one text column and their line numbers: a Comment
        # made per line as it is parsed would sit among the freed lines of its block and
        # keep most of the parse's memory from being returned.
        self._comments = ColumnBuilder(continuation)
        self._comment_lines = array("I")
        self.last_line: tuple[int, str] | None = None
        """The number and text of the line after the last newline, if the parser saw it."""
        self.seq_shift = 0
        """makemap's record count minus the line count so far (over-long lines add records)."""
        self._pending: list[Entry] = []

    def add(self, item: Item) -> None:
        if type(item) is Entry:
            self._pending.append(item)
        else:
            self.others.append(item)  # type: ignore[arg-type]

    def add_entries(self, keys: str, key_lengths: list[int], values: str, value_lengths: list[int],
                    lines: Iterable[int], value_columns: Iterable[int], seqs: Iterable[int]) -> None:
        """Entries whose key starts in column 1, as parallel columns (the parser's fast path);
        ``keys`` and ``values`` are joined by newlines."""
        self._flush()
        self.keys.extend_joined(keys, key_lengths)
        self.values.extend_joined(values, value_lengths)
        self.lines.extend(lines)
        self.value_columns.extend(value_columns)
        self.seqs.extend(seqs)

    def add_comments(self, texts: str, lengths: list[int], lines: list[int]) -> None:
        """Comments (in file order, after every item added so far) given joined by newlines."""
        self._comments.extend_joined(texts, lengths)
        self._comment_lines.extend(lines)

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        if not pending:
            return
        first = len(self.lines)
        self.key_columns.update((first + j, e.column) for j, e in enumerate(pending) if e.column != 1)
        self.keys.extend([e.key_text for e in pending])
        self.values.extend([e.value_text for e in pending])
        self.lines.extend(e.line for e in pending)
        self.value_columns.extend(e.value_column for e in pending)
        self.seqs.extend(e.seq for e in pending)

    def append(self, part: TableBuilder) -> None:
        """Add the table of the lines after these, parsed on its own (by a helper process).

        ``part`` numbered its lines from 1 and counted one record a line before them:
        its line numbers move by the lines here, its record numbers by the records.
        """
        self._flush()
        part._flush()
        assert self.last_line is not None and self.last_line[1] == "", "not cut after a newline"
        lines = self.last_line[0] - 1
        records, first = lines + self.seq_shift, len(self.lines)
        self.keys.append(part.keys)
        self.values.append(part.values)
        self.lines.extend(map(add, part.lines, repeat(lines)))
        self.value_columns.extend(part.value_columns)
        self.seqs.extend(map(add, part.seqs, repeat(records)))
        self.key_columns.update((first + i, col) for i, col in part.key_columns.items())
        self._comments.append(part._comments)
        self._comment_lines.extend(map(add, part._comment_lines, repeat(lines)))
        self.others.extend(o._replace(line=o.line + lines, seq=o.seq + records) if type(o) is Rejected
                           else o._replace(line=o.line + lines) for o in part.others)
        assert part.last_line is not None
        self.last_line = part.last_line[0] + lines, part.last_line[1]
        self.seq_shift += part.seq_shift

    def table(self, path: str, source: str | bytes | LazySource) -> Table:
        self._flush()
        if self.seqs == self.lines:  # the usual case: one record a line
            self.seqs = self.lines
        return Table.from_columns(path, source, self)


class Table:
    """A parsed source: its entries as columns, its comments and rejections, where it came from.

    ``Table(path, items, text)`` builds one from model objects; the parser builds the
    columns directly (:class:`TableBuilder`).
    """

    path: str
    keys: Column
    """Every entry's key as written."""
    values: Column
    """Every entry's value as written (and stored)."""
    lines: array[int]
    value_columns: array[int]
    seqs: array[int]
    key_columns: dict[int, int]
    """Entries whose key does not start in column 1 (the rest of an over-long line)."""
    _others: list[Comment | Rejected]
    """Rejected records and the comments the per-line parser made, in file order (the fast
    path's comments stay a column until asked for: a table may have one a line)."""

    def __init__(self, path: str, items: Iterable[Item], text: str) -> None:
        b = TableBuilder()
        for item in items:
            b.add(item)
        b._flush()
        self._init(path, text, b)

    @classmethod
    def from_columns(cls, path: str, source: str | bytes | LazySource, b: TableBuilder) -> Table:
        """A table of the columns in ``b``; ``source`` is its text, or its bytes (decoded if asked for)."""
        table = cls.__new__(cls)
        table._init(path, source, b)
        return table

    def _init(self, path: str, source: str | bytes | LazySource, b: TableBuilder) -> None:
        self.path = path
        self._source = source
        self._shown: tuple[int, str] = (0, "")
        if b.last_line is not None:
            self.last_line = b.last_line  # known to the parser: no need to unpack the source
        self.keys, self.values = b.keys.column(), b.values.column()
        self.lines, self.value_columns, self.seqs = b.lines, b.value_columns, b.seqs
        self.key_columns, self._others = b.key_columns, b.others
        self._comment_texts, self._comment_lines = b._comments.column(), b._comment_lines
        self.entries = Entries(self)

    @property
    def text(self) -> str:
        """The whole source (Latin-1 decoded), for fixes."""
        source = self._raw()
        if isinstance(source, bytes):
            self._source = source = source.decode("latin-1")
        return source

    def _raw(self) -> str | bytes:
        """The source as it is held: a large one is read again only now, and kept as bytes
        (rendering the lines of a report decodes those lines, not a second copy of all)."""
        source = self._source
        if isinstance(source, LazySource):
            self._source = source = source.unpack()
        return source

    @property
    def source_size(self) -> int:
        """The source's length in bytes (one character a byte)."""
        return len(self._source)

    @cached_property
    def items(self) -> list[Item]:
        """Entries, comments and rejections in file order (builds every entry: for small tables)."""
        return list(heapq.merge(self.entries, self.others, key=_position))

    @cached_property
    def others(self) -> list[Comment | Rejected]:
        """Comments and rejected records, in file order (every comment made an object)."""
        if not self._comment_lines:
            return self._others
        comments = map(Comment, self._comment_texts, self._comment_lines)
        return list(heapq.merge(self._others, comments, key=_LINE))

    @cached_property
    def rejected(self) -> list[Rejected]:
        return [i for i in self._others if type(i) is Rejected]

    @cached_property
    def comments(self) -> list[Comment]:
        return [i for i in self.others if type(i) is Comment]

    def comments_with(self, part: str) -> list[Comment]:
        """The comments whose text holds ``part`` (no newline), in file order: found by one
        search of the comment column, not a Comment made for each (#18: a table with a
        comment above every entry)."""
        texts = self._comment_texts
        found = [Comment(texts[i], self._comment_lines[i])
                 for i in texts.matching(re.compile(re.escape(part)))] if part in texts.text else []
        made = [i for i in self._others if type(i) is Comment and part in i.text]
        return list(heapq.merge(made, found, key=_LINE)) if made else found

    @cached_property
    def stored_keys(self) -> Column:
        """Every entry's key as makemap stores it by default (ASCII letters folded), in C."""
        keys = self.keys
        if not any(map(keys.text.__contains__, ASCII_UPPER)):
            return keys  # the usual table: nothing to fold, no copy
        return keys.with_text(fold(keys.text))

    @cached_property
    def key_index(self) -> KeyIndex:
        """The stored keys' index: each key's first entry, and the repeated keys."""
        return KeyIndex(self.stored_keys)

    @property
    def has_key_index(self) -> bool:
        """Whether the key index is built (or adopted) already."""
        return "key_index" in self.__dict__

    def adopt_key_index(self, parts: KeyIndexParts) -> None:
        """Use the key index a helper process built from these keys (see KeyIndex.parts)."""
        self.__dict__["key_index"] = KeyIndex(self.stored_keys, parts)

    def drop_indexes(self) -> None:
        """Free the folded keys and the key index (rebuilt if asked for again)."""
        for name in ("stored_keys", "key_index"):
            self.__dict__.pop(name, None)

    def drop_key_index(self) -> None:
        """Free the key index, keeping the folded keys a map is written from (a copy of the
        whole column when keys have upper-case letters: folding it again costs its time
        and, in a forked writer, its memory a second time)."""
        self.__dict__.pop("key_index", None)

    def source_line(self, line: int) -> str:
        """The physical line ``line`` (1-based) without its newline."""
        if line == self._shown[0]:
            return self._shown[1]  # the same line again: one 10 MB line can hold 10,000 records
        starts = self._line_starts
        raw = self._raw()
        part = raw[starts[line - 1]:starts[line] - 1] if 0 < line < len(starts) else ""
        text = part.decode("latin-1") if isinstance(part, bytes) else part
        self._shown = (line, text)
        return text

    def source_lines(self, lines: list[int]) -> list[str]:
        """:meth:`source_line` of each of ``lines``: each different line sliced once, and all
        decoded at once."""
        starts = self._line_starts
        raw = self._raw()
        n = len(starts)
        unique = dict.fromkeys(lines)
        parts = [raw[starts[line - 1]:starts[line] - 1] if 0 < line < n else raw[:0] for line in unique]
        if isinstance(raw, bytes):  # (a line holds no newline: one decode, split back)
            texts = b"\n".join(parts).decode("latin-1").split("\n")  # type: ignore[arg-type]
        else:
            texts = parts  # type: ignore[assignment]
        at = dict(zip(unique, texts))
        return list(map(at.__getitem__, lines))

    @cached_property
    def last_line(self) -> tuple[int, str]:
        """The number and text of the line after the last newline ('' if the source ends with one)."""
        text = self.text
        start = text.rfind("\n") + 1
        return text.count("\n", 0, start) + 1, text[start:]

    @cached_property
    def _line_starts(self) -> array[int]:
        """Offset of each physical line, plus one past the end (as if the source ended in a newline)."""
        raw = self._raw()
        starts = array("I", [0])
        if isinstance(raw, bytes):
            starts.extend(map(_END, re.finditer(b"\n", raw)))
            ends_in_newline = raw.endswith(b"\n")
        else:
            starts.extend(map(_END, re.finditer("\n", raw)))
            ends_in_newline = raw.endswith("\n")
        if not ends_in_newline:
            starts.append(len(raw) + 1)
        return starts

    def __repr__(self) -> str:
        others = len(self._others) + len(self._comment_lines)
        return f"Table({self.path!r}, {len(self.keys)} entries, {others} other lines)"


_END = re.Match.end


_LINE = attrgetter("line")


def _position(item: Item) -> tuple[int, int]:
    return item.line, getattr(item, "column", 1)
