"""What building a source now would change in the installed map (``virtc diff``).

The "new" side is what makemap stores for the source with the same switches:
rejected lines are left out, and of duplicate keys the first wins (the last with
``-r``). The "old" side is every record of the installed map (of keys stored
twice with ``makemap -d``, the first, which is the one sendmail finds).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from virtc.maps.records import BuildOptions, map_records
from virtc.source.rejections import find_duplicates
from virtc.table import Table


@dataclass(frozen=True)
class Change:
    key: bytes
    old: bytes | None
    """None: the key is added."""
    new: bytes | None
    """None: the key is removed."""

    @property
    def kind(self) -> str:
        return "added" if self.old is None else "removed" if self.new is None else "changed"


@dataclass
class MapDiff:
    source: str
    map: Path
    map_exists: bool
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    rejected: int = 0
    """Source lines makemap rejects (a ``virtc build`` would refuse to write)."""
    nul_mismatch: bool = False
    """The map's keys end in a NUL and the source's would not (or the other way round): -N."""

    def count(self, kind: str) -> int:
        return sum(c.kind == kind for c in self.changes)


def source_records(table: Table, opts: BuildOptions) -> dict[bytes, bytes]:
    """The records makemap stores for ``table``: first duplicate wins unless ``opts.replace``."""
    stored: dict[bytes, bytes] = {}
    for key, value in map_records(table, opts):
        if opts.replace or key not in stored:
            stored[key] = value
    return stored


def installed_records(map_file: Path) -> dict[bytes, bytes] | None:
    """The installed map's records, or None when there is no map yet."""
    from virtc.writers.bdb import read_map

    if not map_file.exists():
        return None
    installed: dict[bytes, bytes] = {}
    for key, value in read_map(map_file):
        installed.setdefault(key, value)
    return installed


def diff_maps(old: dict[bytes, bytes], new: dict[bytes, bytes]) -> tuple[list[Change], int]:
    """Changes sorted by key, and how many keys are unchanged."""
    changes = []
    unchanged = 0
    for key in sorted(old.keys() | new.keys()):
        before, after = old.get(key), new.get(key)
        if before == after:
            unchanged += 1
        else:
            changes.append(Change(key, before, after))
    return changes, unchanged


def diff_source(table: Table, map_file: Path, opts: BuildOptions) -> MapDiff:
    installed = installed_records(map_file)
    changes, unchanged = diff_maps(installed or {}, source_records(table, opts))
    rejected = len(table.rejected)
    if not opts.replace:
        rejected += sum(1 for _ in find_duplicates(table, foldcase=opts.foldcase))
    nul_keys = bool(installed) and all(k.endswith(b"\0") for k in installed or {})
    mismatch = bool(installed) and bool(changes) and nul_keys != opts.null
    return MapDiff(table.path, map_file, installed is not None, changes, unchanged, rejected, mismatch)


def show(data: bytes) -> str:
    """Bytes for a terminal: UTF-8 where valid, escapes for control bytes (a CR, a NUL, a tab)."""
    text = data.decode("utf-8", errors="backslashreplace")
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


def render_text(d: MapDiff) -> str:
    lines = []
    for c in d.changes:
        if c.old is None:
            assert c.new is not None
            lines.append(f"+ {show(c.key)}\t{show(c.new)}")
        elif c.new is None:
            lines.append(f"- {show(c.key)}\t{show(c.old)}")
        else:
            lines.append(f"~ {show(c.key)}\t{show(c.old)} -> {show(c.new)}")
    what = f"{d.map}" if d.map_exists else f"{d.map} (does not exist yet)"
    if d.changes:
        n = len(d.changes)
        lines.append(f"{what}: {n} key{'' if n == 1 else 's'} would change: {d.count('added')} added, "
                     f"{d.count('removed')} removed, {d.count('changed')} changed "
                     f"({d.unchanged} unchanged)")
    else:
        keys = f"{d.unchanged} key{'' if d.unchanged == 1 else 's'}"
        lines.append(f"{what}: up to date with {d.source} ({keys})")
    return "\n".join(lines) + "\n"


def to_json(d: MapDiff) -> dict[str, Any]:
    def entry(c: Change) -> dict[str, Any]:
        item: dict[str, Any] = {"key": show(c.key)}
        if c.old is not None:
            item["old" if c.new is not None else "value"] = show(c.old)
        if c.new is not None:
            item["new" if c.old is not None else "value"] = show(c.new)
        return item

    return {
        "source": d.source,
        "map": str(d.map),
        "map_exists": d.map_exists,
        "would_change": bool(d.changes),
        "added": [entry(c) for c in d.changes if c.kind == "added"],
        "removed": [entry(c) for c in d.changes if c.kind == "removed"],
        "changed": [entry(c) for c in d.changes if c.kind == "changed"],
        "unchanged": d.unchanged,
        "rejected_lines": d.rejected,
    }
