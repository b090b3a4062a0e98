"""``virtc build``: compile a source into the map sendmail reads, never from a broken source."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from virtc import progress
from virtc.errors import VirtcError
from virtc.maps import build_large
from virtc.maps.check import BuildResult, blocking, diagnose, unsafe_directory_warnings
from virtc.maps.makemap import new_map_owner
from virtc.maps.records import BuildOptions, map_records, streamed_records
from virtc.source import sniff
from virtc.source.parse import parse_bytes, parse_file, parse_text
from virtc.source.read import is_regular_file, read_data
from virtc.source.reader import decode
from virtc.source.recognise import NotPlain
from virtc.writers import bdb
from virtc.writers.atomic import replace_atomically

DEFAULTS = BuildOptions()


def _special(source: str | Path) -> bool:
    try:
        mode = os.stat(source).st_mode
    except OSError:
        return False  # reading it reports the problem
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def build(source: str | Path, output: str | Path | None = None,
          opts: BuildOptions = DEFAULTS) -> BuildResult:
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
        if str(source).endswith(bdb.EXTENSION) and sniff.is_berkeley_db(sniff.read_head(Path(source))):
            raise VirtcError(f"{source}: a built map, not a source: give the source file "
                             f"(e.g. {str(source)[:-len(bdb.EXTENSION)]})")
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
    if opts.lint and not opts.replace and build_large.beside_the_check(table, opts):
        return build_large.build_while_checking(table, target, opts)
    result = BuildResult(target, diagnose(table, opts))
    table.drop_key_index()  # what lint needed: the map needs the (folded) columns only
    build_large.give_back(table)
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

    result.warnings = unsafe_directory_warnings(target)
    replace_atomically(target, write, lambda tmp: bdb.count_records(tmp, opts.dbtype),
                       new_map_owner(opts.sendmail_cf))
    result.records = expected
    result.written = True
    return result


def _build_streaming(data: bytes, path: str, target: Path, opts: BuildOptions) -> BuildResult | None:
    """``--no-lint`` without ``-r``: parse and write in one pass, holding no Table.

    With no lint, only makemap's rejections (VT001, duplicates included) can block a
    build, and a source of plain entries, comments and blank lines without a repeated
    key has no diagnostics at all. Any other line, or a repeated key (found by
    DB_NOOVERWRITE, as makemap does), abandons the temporary map; then None tells the
    caller to build the usual way, which reports every problem.
    """
    warnings = unsafe_directory_warnings(target)

    def write(tmp: Path, mode: int) -> int:
        return bdb.write_new_map(tmp, streamed_records(data, opts), opts.dbtype, mode, unique=True,
                                 cache=bdb.cache_bytes(len(data)))

    try:
        count = replace_atomically(target, write, lambda tmp: bdb.count_records(tmp, opts.dbtype),
                                   new_map_owner(opts.sendmail_cf))
    except (NotPlain, bdb.DuplicateKeyError):
        return None
    except VirtcError:
        # The usual path reports a blocked source before it touches the target.
        if blocking(diagnose(parse_text(decode(data), path), opts)):
            return None
        raise
    return BuildResult(target, [], count, True, warnings)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:  # b does not exist yet (the usual case)
        return False

