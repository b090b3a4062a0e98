"""What sendmail's virtuser map holds: folded key -> value, from a source or a ``.db``.

``LookupTable.from_table(table)`` stores a parsed source as ``makemap hash`` would:
keys ASCII-folded, the first of several equal keys wins, rejected lines are absent.
``LookupTable.from_db(path)`` reads a built map as sendmail reads it (needs the
``berkeleydb`` package; a trailing NUL on keys or values, as ``makemap -N`` or postmap
write them, is dropped). ``load_lookup_table(path)`` picks one by the file's content.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from virtc.errors import VirtcError
from virtc.model import MAXNAME, Entry, fold
from virtc.source import sniff
from virtc.speed.keyindex import FirstValues
from virtc.table import Table


def _domain(key: str) -> str | None:
    _, at, dom = key.rpartition("@")
    return dom if at and dom else None


@dataclass
class LookupTable:
    """The map sendmail queries: stored (folded) key -> value.

    ``entries`` gives, for a table built from a source, the entry that owns each stored
    key (the first one, as makemap keeps it): use it to point at source lines.
    """

    values: Mapping[str, str]
    entries: Mapping[str, Entry] = field(default_factory=dict)
    path: str = ""
    skipped: tuple[int, ...] = ()
    """Lines of the source makemap rejects (not in the map: ``virtc query`` says so)."""

    @classmethod
    def from_table(cls, table: Table) -> LookupTable:
        """The first entry of each stored key, found through the table's key index (no dict)."""
        return cls(FirstValues(table.key_index, table.values),
                   FirstValues(table.key_index, table.entries), table.path,
                   tuple(r.line for r in table.rejected))

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]] | Mapping[str, str], path: str = "") -> LookupTable:
        """Stored keys (already folded, as in a map) and values; the first of equal keys wins."""
        items = pairs.items() if isinstance(pairs, Mapping) else pairs
        values: dict[str, str] = {}
        for key, value in items:
            values.setdefault(key, value)
        return cls(values, {}, path)

    @classmethod
    def from_db(cls, path: Path) -> LookupTable:
        from virtc.writers.bdb import read_map

        def decode(b: bytes) -> str:
            return b[:-1].decode("latin-1") if b.endswith(b"\0") else b.decode("latin-1")

        # A value stops at its first NUL for sendmail (map_rewrite).
        pairs = [(decode(k), decode(v).split("\0", 1)[0]) for k, v in read_map(path)]
        return cls.from_pairs(pairs, str(path))

    def get(self, key: str) -> str | None:
        """sendmail's lookup: ASCII-fold ``key``, cut it to MAXNAME bytes, query the map."""
        return self.values.get(fold(key)[:MAXNAME])

    @property
    def domains(self) -> list[str]:
        """The distinct domains of the keys (after the last '@'), folded, in table order.

        The default local domains: a table usually lists exactly the domains it serves.
        """
        seen: dict[str, None] = {}
        for key in self.values:
            dom = _domain(key)
            if dom is not None:
                seen.setdefault(fold(dom), None)
        return list(seen)

    def __len__(self) -> int:
        return len(self.values)


def is_berkeley_db(path: Path) -> bool:
    """True if ``path`` starts like a Berkeley DB hash or btree file."""
    return sniff.is_berkeley_db(sniff.read_head(path))


def load_lookup_table(path: Path) -> LookupTable:
    """A source or a built ``.db`` (recognised by its content, not its name)."""
    from virtc.source.parse import parse_file

    if not path.exists():
        raise VirtcError(f"{path}: no such file")
    if path.is_dir():
        raise VirtcError(f"{path}: is a directory")
    if is_berkeley_db(path):
        return LookupTable.from_db(path)
    if sniff.looks_binary(sniff.read_head(path)):
        raise VirtcError(f"{path}: binary file that is not a Berkeley DB map "
                         "(give a virtusertable source or a built .db)")
    return LookupTable.from_table(parse_file(path))
