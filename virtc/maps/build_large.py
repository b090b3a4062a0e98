"""``virtc build`` of a large table: the map written by a helper process while this one checks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Union

from virtc.maps.check import BuildResult, blocking, diagnose, unsafe_directory_warnings
from virtc.maps.makemap import new_map_owner
from virtc.maps.records import BuildOptions, map_records
from virtc.speed import memory, parallel
from virtc.speed.keyindex import KeyIndexParts
from virtc.table import Table
from virtc.writers import bdb
from virtc.writers.atomic import replace_atomically


class _Blocked(Exception):
    """The check found what blocks the build: the temporary map is abandoned."""


def build_while_checking(table: Table, target: Path, opts: BuildOptions) -> BuildResult:
    """A large table: a helper process builds the key index, then writes the temporary
    map, while this one runs the checks.

    Two processes, not three (a writer beside the lint's own two): the lint's
    helper would hold its share of the table's working memory beside the writer's
    cache, for no less time; it starts once the writer is done. The map is renamed
    into place only if nothing blocks; otherwise the helper is stopped and the
    temporary file removed, so the target is never touched, as in the one-process
    build. (Not with ``-r``, whose record count needs the check.)
    """
    result = BuildResult(target, warnings=unsafe_directory_warnings(target))

    def write(tmp: Path, mode: int) -> Iterator[KeyIndexParts | int]:
        yield table.key_index.parts(duplicates=False)  # (the map can be written sooner)
        table.drop_key_index()  # the writer needs only the (folded) columns
        memory.give_back()
        yield bdb.write_new_map(tmp, map_records(table, opts), opts.dbtype, mode,
                                cache=bdb.partial_cache_bytes(table.source_size))

    def write_while_checking(tmp: Path, mode: int) -> int:
        _ = table.stored_keys  # folded once, before the fork: shared, not one copy each
        with parallel.Helper[Union[KeyIndexParts, int]](lambda: write(tmp, mode), results=2) as writer:
            asked = False

            def key_index() -> KeyIndexParts:
                nonlocal asked
                asked = True
                parts = writer.result()
                assert isinstance(parts, KeyIndexParts)
                return parts

            # Once the map is written, a second process shares the rules that are left.
            result.diagnostics = diagnose(table, opts, key_index, writer.ready)
            if blocking(result.diagnostics):
                raise _Blocked
            table.drop_indexes()
            if not asked:
                writer.result()  # the key index, if the lint had one already
            count = writer.result()
            assert isinstance(count, int)
            return count

    try:
        result.records = replace_atomically(target, write_while_checking,
                                            lambda tmp: bdb.count_records(tmp, opts.dbtype),
                                            new_map_owner(opts.sendmail_cf))
    except _Blocked:
        result.warnings = []  # (nothing written: as the one-process build, no word on the directory)
        return result
    result.written = True
    return result


def beside_the_check(table: Table, opts: BuildOptions) -> bool:
    """Whether the table is large enough, and ``-j`` allows, to write beside the check."""
    return parallel.use_helper(len(table.entries), opts.jobs)


def give_back(table: Table) -> None:
    """After a large table's check: return the memory it freed before the map's cache grows."""
    if len(table.entries) >= parallel.MIN_ENTRIES:
        memory.give_back()
