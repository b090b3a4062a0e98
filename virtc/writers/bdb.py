"""Berkeley DB maps (hash/btree), read and written with the ``berkeleydb`` package.

Imported lazily: lint and query from source never need libdb.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from virtc.errors import VirtcError

MAP_TYPES = ("hash", "btree")
EXTENSION = ".db"
H_NELEM = 4096
"""makemap's ``set_h_nelem``: gives the same ``db_dump -p`` header as makemap."""
CACHE_BYTES = 64 * 1024 * 1024
"""The least cache: makemap's 1 MiB default makes a large map several times slower."""
MAX_CACHE_BYTES = 512 * 1024 * 1024
MIN_PARTIAL_CACHE_BYTES = 32 * 1024 * 1024
"""Holds the whole map of a source of some 500k entries."""


def cache_bytes(source_bytes: int) -> int:
    """A cache that holds the whole map built from a source of ``source_bytes``.

    A hash map takes about 1.8 bytes per source byte; when it fits, random inserts
    never go to disk before the final sync. Pages never touched cost no memory.
    """
    return min(max(2 * source_bytes, CACHE_BYTES), MAX_CACHE_BYTES)


def partial_cache_bytes(source_bytes: int) -> int:
    """A cache for about two thirds of the map (Berkeley DB adds a quarter to it), for a
    map written beside the lint, whose memory it shares the machine with.

    Random inserts then miss it a quarter of the time: a little slower, for a third
    less cache. Never more than :func:`cache_bytes`.
    """
    return min(max(source_bytes, MIN_PARTIAL_CACHE_BYTES), cache_bytes(source_bytes))


def map_path(name: str | Path) -> Path:
    """makemap's rule: append ``.db`` unless the name already ends in it."""
    s = str(name)
    return Path(s if s.endswith(EXTENSION) else s + EXTENSION)


def libdb() -> ModuleType:
    try:
        from berkeleydb import db
    except ImportError as exc:
        raise VirtcError(
            "reading or writing .db maps needs the 'berkeleydb' package "
            f"(pip install 'virtc[db]', after apt-get install libdb-dev): {exc}"
        ) from None
    return db  # type: ignore[no-any-return]


def _dbtype(db: ModuleType, kind: str) -> Any:
    if kind not in MAP_TYPES:
        raise VirtcError(f"unsupported map type {kind!r} (use {' or '.join(MAP_TYPES)})")
    return db.DB_HASH if kind == "hash" else db.DB_BTREE


class DuplicateKeyError(Exception):
    """``write_new_map(unique=True)`` met a key it had already put."""


def write_new_map(path: Path, records: Iterable[tuple[bytes, bytes]], kind: str, mode: int,
                  *, unique: bool = False, cache: int = CACHE_BYTES) -> int:
    """Create ``path`` (which must not exist) holding ``records``; return how many were put.

    Later records replace earlier ones with the same key (callers reject duplicates first
    unless replacing is wanted). With ``unique``, a repeated key raises
    :class:`DuplicateKeyError` instead (makemap's DB_NOOVERWRITE: no set of keys in memory).
    """
    db = libdb()
    d = db.DB()
    try:
        if kind == "hash":
            d.set_h_nelem(H_NELEM)
        d.set_cachesize(0, cache, 1)
        d.open(str(path), dbtype=_dbtype(db, kind), flags=db.DB_CREATE | db.DB_EXCL, mode=mode)
        put = d.put
        count = 0
        if unique:
            no_overwrite = db.DB_NOOVERWRITE
            try:
                for key, value in records:
                    put(key, value, flags=no_overwrite)
                    count += 1
            except db.DBKeyExistError:
                raise DuplicateKeyError(key) from None
        else:
            # d[key] = value is put() without parsing keyword arguments, and starmap runs the
            # loop in C. zip stops before taking a
            # number for the record that is not there, so the counter ends at the count.
            counter = itertools.count()
            collections.deque(zip(itertools.starmap(d.__setitem__, records), counter), maxlen=0)
            count = next(counter)
        d.sync()
        d.close()  # flushes too: a full disk can surface here
    except db.DBError as exc:
        with contextlib.suppress(db.DBError):
            d.close()  # a close error must not hide the first one (nor become a traceback)
        raise VirtcError(f"{path}: cannot write map: {_dberror(exc)}") from None
    except BaseException:
        with contextlib.suppress(db.DBError):
            d.close()
        raise
    return count


def count_records(path: Path, kind: str) -> int:
    """Number of records in a map, read back from disk."""
    db = libdb()
    d = db.DB()
    try:
        d.open(str(path), dbtype=_dbtype(db, kind), flags=db.DB_RDONLY)
        return int(d.stat()["ndata"])
    except db.DBError as exc:
        raise VirtcError(f"{path}: cannot read map back: {_dberror(exc)}") from None
    finally:
        d.close()


def read_map(path: Path) -> Iterator[tuple[bytes, bytes]]:
    """Every record of an existing map, in the map's own order (as ``makemap -u``)."""
    db = libdb()
    if not path.exists():
        raise VirtcError(f"{path}: no such file")
    d = db.DB()
    try:
        d.open(str(path), dbtype=db.DB_UNKNOWN, flags=db.DB_RDONLY)
        cursor = d.cursor()
        rec = cursor.first()
        while rec is not None:
            yield rec
            rec = cursor.next()
        cursor.close()
    except db.DBError as exc:
        raise VirtcError(f"{path}: not a readable Berkeley DB map: {_dberror(exc)}") from None
    finally:
        d.close()


def _dberror(exc: Exception) -> str:
    args: tuple[object, ...] = exc.args
    if len(args) == 2 and isinstance(args[1], str):
        return args[1]
    return str(exc)
