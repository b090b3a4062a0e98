"""Recognise files that are not virtusertable sources, from their first bytes.

The usual mistake is handing a built map to a command that wants the text
(``virtc lint virtusertable.db``): makemap would read its pages as hundreds of
garbage lines; virtc says what the file is instead.
"""

from __future__ import annotations

from pathlib import Path

HEAD = 8192
"""How many leading bytes the checks look at."""
_BDB_MAGIC_OFFSET = 12
_BDB_MAGICS = {0x00061561, 0x00053162}  # hash, btree (either byte order is checked)


def is_berkeley_db(head: bytes) -> bool:
    """True if ``head`` (a file's first bytes) starts like a Berkeley DB hash or btree file."""
    raw = head[_BDB_MAGIC_OFFSET:_BDB_MAGIC_OFFSET + 4]
    if len(raw) < 4:
        return False
    return int.from_bytes(raw, "little") in _BDB_MAGICS or int.from_bytes(raw, "big") in _BDB_MAGICS


def looks_binary(head: bytes) -> bool:
    """Many control bytes and a NUL: an executable or image, not a table with a stray NUL."""
    controls = sum(1 for b in head if b < 0x20 and b not in (9, 10, 13))
    return b"\0" in head and controls * 10 > len(head)


def read_head(path: Path) -> bytes:
    """The first :data:`HEAD` bytes of ``path`` (empty if it cannot be read: callers report that)."""
    try:
        with path.open("rb") as f:
            return f.read(HEAD)
    except OSError:
        return b""


MAP_NOT_SOURCE = ("a built Berkeley DB map, not a virtusertable source: give the text file it "
                  "was built from (`virtc dump` prints a map)")
