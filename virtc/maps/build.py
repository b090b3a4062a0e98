"""``virtc build``: compile a source into the map sendmail reads, never from a broken source."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from virtc import progress
from virtc.diagnostics import Diagnostic, Severity
from virtc.errors import VirtcError
from virtc.model import Table
from virtc.source.parse import parse_bytes, parse_file, parse_text
from virtc.source.read import is_regular_file, read_data
from virtc.source.reader import decode, encode
from virtc.source.recognise import NotPlain, plain_entries
from virtc.source.rejections import makemap_rejections
from virtc.speed import memory, parallel
from virtc.speed.keyindex import KeyIndexParts
from virtc.writers import bdb
from virtc.writers.atomic import replace_atomically, unsafe_directories


@dataclass(frozen=True)
class BuildOptions:
    """makemap's switches that change what is stored, plus lint."""

    dbtype: str = "hash"
    foldcase: bool = True
    """makemap's default; ``-f`` turns it off."""
    null: bool = False
    """``-N``: store a trailing NUL with every key and value."""
    replace: bool = False
    """``-r``: a later duplicate key replaces the earlier one instead of being an error."""
    lint: bool = True
    jobs: int | None = None
    """``-j``: processes for a large table (see :func:`virtc.speed.parallel.use_helper`)."""


@dataclass
class BuildResult:
    output: Path
    diagnostics: list[Diagnostic] = field(default_factory=list)
    records: int = 0
    written: bool = False
    warnings: list[str] = field(default_factory=list)
    """One-line notes about the output (e.g. an unsafe directory), not about the source."""


def map_records(table: Table, opts: BuildOptions) -> Iterator[tuple[bytes, bytes]]:
    """The (key, value) byte pairs makemap would put, in source order."""
    nul = b"\0" if opts.null else b""
    if opts.foldcase and not nul:  # the default, in C, from the keys the checks folded already
        yield from zip(table.stored_keys.encoded(), table.values.encoded(), strict=True)
        return
    keys = table.stored_keys if opts.foldcase else table.keys
    for key, value in zip(keys, table.values, strict=True):
        yield encode(key) + nul, encode(value) + nul


def blocking(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics that stop a build: makemap's own rejections and lint errors."""
    return [d for d in diagnostics if d.severity >= Severity.ERROR]


def check(table: Table, opts: BuildOptions,
          key_index: Callable[[], KeyIndexParts] | None = None) -> list[Diagnostic]:
    """What a build reports before writing: makemap's rejections, plus lint unless disabled
    (``key_index``: see :func:`virtc.lint.lint_table`)."""
    linted: list[Diagnostic] = []
    if opts.lint:  # first: on a large table it builds the key index the rejections use, in parallel
        from virtc.lint import lint_table

        linted = lint_table(table, jobs=opts.jobs, key_index=key_index)
    diags = list(makemap_rejections(table, foldcase=opts.foldcase, replace=opts.replace))
    if opts.lint:
        # A line lint already reports as an error (e.g. a duplicate as VT103) is not repeated.
        flagged = {(d.line, d.column) for d in linted if d.severity >= Severity.ERROR}
        diags = [d for d in diags if (d.line, d.column) not in flagged] + linted
    return sorted(diags, key=Diagnostic.sort_key)


def _special(source: str | Path) -> bool:
    try:
        mode = os.stat(source).st_mode
    except OSError:
        return False  # reading it reports the problem
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def build(source: str | Path, output: str | Path | None = None,
          opts: BuildOptions = BuildOptions()) -> BuildResult:
    """Parse, check and (if nothing blocks) atomically write the map.

    The output defaults to ``SOURCE.db``; like makemap, ``.db`` is appended to an
    output name that does not already end in it.
    """
    if output is None and str(source) == "-":
        raise VirtcError("-: a source read from standard input needs -o OUTPUT")
    if output is None and _special(source):  # /dev/stdin, a FIFO: never write /dev/stdin.db
        raise VirtcError(f"{source}: not a regular file; name the map with -o OUTPUT")
    target = bdb.map_path(output if output is not None else source)
    if str(source) != "-" and _same_file(Path(source), target):
        # 'virtc build table.db' would replace the source text with the map built from it.
        raise VirtcError(f"{target}: is the source itself; name another output with -o")
    if not opts.lint and not opts.replace:
        data, path = read_data(source)
        streamed = _build_streaming(data, path, target, opts)
        if streamed is not None:
            return streamed
        table = parse_bytes(data, path, jobs=opts.jobs, from_file=is_regular_file(source))
        del data
    else:
        table = parse_file(source, jobs=opts.jobs)  # a large file: parsed as it is read
    if opts.lint and not opts.replace and parallel.use_helper(len(table.entries), opts.jobs):
        return _build_while_checking(table, target, opts)
    result = BuildResult(target, check(table, opts))
    table.drop_indexes()  # what lint needed: the map needs only the columns
    if len(table.entries) >= parallel.MIN_ENTRIES:
        memory.give_back()
    if blocking(result.diagnostics):
        return result
    # Duplicates were rejected above unless -r, where the last value replaces the first.
    if opts.replace:
        expected = len({key for key, _ in map_records(table, opts)})
    else:
        expected = len(table.entries)

    # -j 1 asks for the least memory: makemap-sized maps get the smallest cache that is still fast.
    cache = bdb.CACHE_BYTES if opts.jobs == 1 else bdb.cache_bytes(table.source_size)

    def write(tmp: Path, mode: int) -> int:
        progress.current().phase("writing map", len(table.entries))
        bdb.write_new_map(tmp, progress.counted(map_records(table, opts)), opts.dbtype, mode, cache=cache)
        return expected

    result.warnings = _unsafe_directory_warnings(target)
    replace_atomically(target, write, lambda tmp: bdb.count_records(tmp, opts.dbtype))
    result.records = expected
    result.written = True
    return result


def _unsafe_directory_warnings(target: Path) -> list[str]:
    """makemap's warning for each group- or world-writable directory above the map."""
    return [f"{target}: {why}: sendmail refuses to open a map there" for why in unsafe_directories(target)]


class _Blocked(Exception):
    """The check found what blocks the build: the temporary map is abandoned."""


def _build_while_checking(table: Table, target: Path, opts: BuildOptions) -> BuildResult:
    """A large table: a helper process builds the key index, then writes the temporary
    map, while this one runs every check.

    Two processes, not three (a writer beside the lint's own two): the lint's
    helper would hold its share of the table's working memory beside the writer's
    cache, for no less time. The map is renamed into place only if nothing blocks;
    otherwise the helper is stopped and the temporary file removed, so the target is
    never touched, as in the one-process build. (Not with ``-r``, whose record count
    needs the check.)
    """
    result = BuildResult(target, warnings=_unsafe_directory_warnings(target))

    def write(tmp: Path, mode: int) -> Iterator[KeyIndexParts | int]:
        yield table.key_index.parts(duplicates=False)  # (the map can be written sooner)
        table.drop_indexes()  # the writer needs only the columns
        memory.give_back()
        yield bdb.write_new_map(tmp, map_records(table, opts), opts.dbtype, mode,
                                cache=bdb.partial_cache_bytes(table.source_size))

    def write_while_checking(tmp: Path, mode: int) -> int:
        with parallel.Helper[KeyIndexParts | int](lambda: write(tmp, mode), results=2) as writer:
            asked = False

            def key_index() -> KeyIndexParts:
                nonlocal asked
                asked = True
                parts = writer.result()
                assert isinstance(parts, KeyIndexParts)
                return parts

            result.diagnostics = check(table, opts, key_index)
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
                                            lambda tmp: bdb.count_records(tmp, opts.dbtype))
    except _Blocked:
        return result
    result.written = True
    return result


def _streamed_records(data: bytes, opts: BuildOptions) -> Iterator[tuple[bytes, bytes]]:
    """:func:`map_records` of a plain source, straight from its bytes (raises NotPlain)."""
    nul = b"\0" if opts.null else b""
    # bytes.lower() folds ASCII letters only, exactly as makemap (and fold()) do.
    if opts.foldcase and not nul:
        for key, value in plain_entries(data):
            yield key.lower(), value
    else:
        for key, value in plain_entries(data):
            yield (key.lower() if opts.foldcase else key) + nul, value + nul


def _build_streaming(data: bytes, path: str, target: Path, opts: BuildOptions) -> BuildResult | None:
    """``--no-lint`` without ``-r``: parse and write in one pass, holding no Table.

    With no lint, only makemap's rejections (VT001, duplicates included) can block a
    build, and a source of plain entries, comments and blank lines without a repeated
    key has no diagnostics at all. Any other line, or a repeated key (found by
    DB_NOOVERWRITE, as makemap does), abandons the temporary map; then None tells the
    caller to build the usual way, which reports every problem.
    """
    warnings = _unsafe_directory_warnings(target)

    def write(tmp: Path, mode: int) -> int:
        return bdb.write_new_map(tmp, _streamed_records(data, opts), opts.dbtype, mode, unique=True,
                                 cache=bdb.cache_bytes(len(data)))

    try:
        count = replace_atomically(target, write, lambda tmp: bdb.count_records(tmp, opts.dbtype))
    except (NotPlain, bdb.DuplicateKeyError):
        return None
    except VirtcError:
        # The usual path reports a blocked source before it touches the target.
        if blocking(check(parse_text(decode(data), path), opts)):
            return None
        raise
    return BuildResult(target, [], count, True, warnings)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:  # b does not exist yet (the usual case)
        return False
