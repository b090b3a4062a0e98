"""Work the rules share, computed once per run and kept in ``ctx.cache``.

Parsing every key and value is the expensive part of linting a large table, so
it is done here once; rules then walk these lists (one pass, small per-domain
state). Not a rule module: the registry skips names starting with ``_``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from virtc.lint.rule import LintContext
from virtc.model import Entry, Key, KeyKind, Table, Value, fold


@dataclass
class Domain:
    """The entries of one (folded) domain that makemap stores."""

    name: str
    entries: list[int] = field(default_factory=list)
    """Indices into ``table.entries``, file order, later duplicates excluded."""
    by_kind: dict[KeyKind, dict[str, int]] = field(default_factory=dict)
    """kind -> folded user part -> entry index (first occurrence)."""

    def find(self, kind: KeyKind, user: str = "") -> int | None:
        return self.by_kind.get(kind, {}).get(user)

    @property
    def catch_all(self) -> int | None:
        return self.find(KeyKind.CATCH_ALL)


class TableIndex:
    """Parsed keys and values of a table's entries, and its entries by domain."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.entries: list[Entry] = table.entries

    @cached_property
    def keys(self) -> list[Key]:
        return [Key.parse(e.key_text) for e in self.entries]

    @cached_property
    def values(self) -> list[Value]:
        return [Value.parse(e.value_text) for e in self.entries]

    @cached_property
    def stored_keys(self) -> list[str]:
        return [fold(e.key_text) for e in self.entries]

    @cached_property
    def first_of(self) -> dict[str, int]:
        """Folded key -> index of the entry makemap keeps (the first)."""
        first: dict[str, int] = {}
        for i, k in enumerate(self.stored_keys):
            first.setdefault(k, i)
        return first

    def is_kept(self, i: int) -> bool:
        """False for a later duplicate, which makemap does not store."""
        return self.first_of[self.stored_keys[i]] == i

    @cached_property
    def domains(self) -> dict[str, Domain]:
        """Folded domain -> its stored entries (keys sendmail can match only)."""
        out: dict[str, Domain] = {}
        first_of = self.first_of
        for i, (key, stored) in enumerate(zip(self.keys, self.stored_keys, strict=True)):
            if key.kind is KeyKind.UNMATCHABLE or first_of[stored] != i:
                continue
            name = fold(key.domain)
            dom = out.get(name)
            if dom is None:
                dom = out[name] = Domain(name)
            dom.entries.append(i)
            dom.by_kind.setdefault(key.kind, {}).setdefault(fold(key.user), i)
        return out


def index(table: Table, ctx: LintContext) -> TableIndex:
    """The shared index of ``table`` (built on first use)."""
    ix = ctx.cache.get("index")
    if not isinstance(ix, TableIndex) or ix.table is not table:
        ix = TableIndex(table)
        ctx.cache["index"] = ix
    return ix


def key_span(e: Entry) -> tuple[int, int, int, int]:
    """(line, column, end_line, end_column) of an entry's key."""
    return e.line, e.column, e.line, e.column + len(e.key_text)


def value_span(e: Entry) -> tuple[int, int, int, int]:
    """(line, column, end_line, end_column) of an entry's value, trailing whitespace excluded."""
    return e.line, e.value_column, e.line, e.value_column + len(e.value_text.rstrip(" \t\r\x0b\x0c"))


def shown(text: str) -> str:
    """A value for a message: trailing whitespace dropped, control characters escaped."""
    text = text.rstrip(" \t\r\x0b\x0c")
    return text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
