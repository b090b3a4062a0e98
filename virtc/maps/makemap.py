"""makemap's behaviour on virtc's parser and atomic writer (behind ``virtc makemap``).

makemap reads a source on standard input and writes ``MAP.db``. It reports each
bad line (``makemap: MAP: line N: ...``), skips it, still writes the map and exits
65. ``virtc makemap`` says the same things with the same exit codes, but writes
atomically, and writes NOTHING when makemap would have complained: the old map stays.

Parsing: with makemap's default whitespace separator every record goes through the
grammar (``virtc.source.parse``). ``-D C`` only changes which first byte makes a comment,
so it stays on the grammar path too. ``-t C`` is makemap's other mode, which the
grammar does not describe: the key runs to the first C, a run of C is skipped, the
rest is the value, and nothing is trimmed. ``-e`` turns "no RHS" lines into empty
values.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from virtc.errors import VirtcError
from virtc.maps.records import BuildOptions, map_records
from virtc.model import Comment, Entry, Item, Rejected, fold
from virtc.source.reader import Problem, Record, decode, encode, records
from virtc.source.recognise import parse_records
from virtc.table import Table

USAGE = (
    "Usage: makemap [-C cffile] [-N] [-c cachesize] [-D commentchar]\n"
    "               [-d] [-e] [-f] [-i type] [-l] [-o] [-r] [-s] [-t delimiter]\n"
    "               [-u] [-v] type mapname\n"
)
"""makemap 8.17/8.18's usage text, byte for byte."""
OPTSTRING = "C:D:Nc:defi:Llorst:uvx"
"""makemap's getopt string (without the _FFR options)."""

EX_OK = 0
EX_USAGE = 64
EX_DATAERR = 65
EX_NOINPUT = 66
EX_CANTCREAT = 73
EX_IOERR = 74

DEFAULT_CF = "/etc/mail/sendmail.cf"
TYPES = ("hash", "btree", "implicit")
"""What ``makemap -l`` lists on Debian (libdb, no ndbm, no cdb)."""
NOT_COMPILED = {"dbm": "NDBM", "cdb": "CDB"}
"""Types makemap knows but Debian's build lacks: "Need to recompile with -D..."."""

_MASK = "x"
"""Stands in for a leading '#' that is not the comment character (see _parse_record)."""


@dataclass(frozen=True)
class Dialect:
    """The switches that change how makemap splits a line (-t, -D, -e)."""

    sep: str = ""
    """``-t``: the separator byte; '' = any ASCII whitespace (makemap's default)."""
    comment: str = "#"
    """``-D``: the comment byte; '' = no comments."""
    allow_empty: bool = False
    """``-e``: a key without a value is stored with an empty value."""


@dataclass(frozen=True)
class Options:
    """Everything ``makemap`` is told on its command line."""

    dbtype: str
    mapname: str
    dialect: Dialect = Dialect()
    foldcase: bool = True
    null: bool = False
    replace: bool = False
    dups: bool = False
    """``-d``: store every duplicate (Berkeley DB >= 2 allows it for hash too)."""
    append: bool = False
    """``-o``: add to the existing map; its keys count as duplicates."""
    verbose: bool = False
    unsafe: bool = False
    """``-s``: write through a symbolic link (to the file it names)."""
    cf: str = DEFAULT_CF


@dataclass
class Outcome:
    """What a makemap run would print and store."""

    messages: list[str] = field(default_factory=list)
    """makemap's stderr lines, in its order."""
    verbose: list[bytes] = field(default_factory=list)
    """``-v`` lines for stdout."""
    records: list[tuple[bytes, bytes]] = field(default_factory=list)
    """The records to store, in put order (duplicates dropped unless -r/-d)."""
    exit_code: int = EX_OK


def parse(data: bytes, path: str, dialect: Dialect = Dialect()) -> Table:
    """Parse source bytes the way makemap reads them with these switches."""
    text = decode(data)
    items: list[Item] = []
    if not dialect.sep and dialect.comment == "#":
        items = list(parse_records(records(text)))  # makemap's defaults: the grammar, as is
    else:
        for rec in records(text):
            items.extend(_parse_record(rec, dialect))
    if dialect.allow_empty:
        items = [_empty_value(i) if isinstance(i, Rejected) and i.reason == "missing-value" else i
                 for i in items]
    return Table(path, items, text)


def _parse_record(rec: Record, dialect: Dialect) -> Iterator[Item]:
    if rec.problem is Problem.TOO_LONG or rec.problem is Problem.NUL:
        yield from parse_records(iter([rec]))  # rejected before the line is looked at
        return
    if not rec.text:
        return
    first = rec.text[0]
    if dialect.comment and first == dialect.comment:
        yield Comment(rec.text, rec.line)
    elif dialect.sep:
        yield _split_on(rec, dialect.sep)
    elif first == "#":
        # Not a comment under -D: the grammar splits "#key value" exactly as it splits any
        # key starting with another non-blank byte, so parse it with that byte masked.
        for item in parse_records(iter([rec._replace(text=_MASK + rec.text[1:])])):
            yield _unmask(item)
    else:
        yield from parse_records(iter([rec]))


def _unmask(item: Item) -> Item:
    if isinstance(item, Entry):
        return item._replace(key_text="#" + item.key_text[1:])
    if isinstance(item, Rejected) and item.key_text is not None:
        key = "#" + item.key_text[1:]
        return item._replace(key_text=key,
                             message=item.message.replace(f"'{item.key_text}'", f"'{key}'", 1))
    return item


def _split_on(rec: Record, sep: str) -> Entry | Rejected:
    """makemap's ``-t`` split: key up to the first ``sep``, a run of ``sep``, then the value."""
    text, col = rec.text, rec.column
    end = text.find(sep)
    if end < 0:
        end = len(text)
    start = end
    while start < len(text) and text[start] == sep:
        start += 1
    key = text[:end]
    if start == len(text):
        return Rejected("missing-value", f"'{key}' has no value: makemap rejects it (\"no RHS for LHS\")",
                        rec.line, col, col + len(text), rec.seq, key)
    return Entry(key, text[start:], rec.line, col, col + start, rec.seq)


def _empty_value(rej: Rejected) -> Entry:
    assert rej.key_text is not None
    return Entry(rej.key_text, "", rej.line, rej.column, rej.end_column, rej.seq)


def compile_table(table: Table, opts: Options,
                  existing: Iterable[tuple[bytes, bytes]] = ()) -> Outcome:
    """makemap's messages, ``-v`` lines, exit code and stored records for ``table``.

    ``existing`` holds the records already in the map (``-o``).
    """
    out = Outcome(records=list(existing))
    build_opts = BuildOptions(dbtype=opts.dbtype, foldcase=opts.foldcase, null=opts.null,
                              replace=opts.replace, lint=False)
    position = {key: i for i, (key, _) in enumerate(out.records)}
    prefix = f"makemap: {opts.mapname}: line"
    stored = map_records(table, build_opts)  # one pair per entry, in item order
    for item in table.items:
        if isinstance(item, Rejected):
            out.messages.append(f"{prefix} {item.seq}: {_complaint(item, opts.foldcase)}")
            out.exit_code = EX_DATAERR
            continue
        if not isinstance(item, Entry):
            continue
        key, value = next(stored)
        shown = _c_string(key)
        if opts.verbose:
            out.verbose.append(b"key=`" + shown + b"', val=`" + _c_string(value) + b"'")
        if opts.dups or key not in position:
            position.setdefault(key, len(out.records))
            out.records.append((key, value))
        elif opts.replace:
            out.records[position[key]] = (key, value)
        else:
            out.messages.append(f"{prefix} {item.seq}: key {decode(shown)}: duplicate key")
            out.exit_code = EX_DATAERR
    return out


def _complaint(rej: Rejected, foldcase: bool) -> str:
    if rej.reason in ("too-long", "nul"):
        return "line too long (1024 bytes max)"
    if rej.reason == "leading-space":
        return "syntax error (leading space)"
    key = rej.key_text or ""
    # makemap folds the key in place before it finds there is no value.
    return f"no RHS for LHS {fold(key) if foldcase else key}"


def _c_string(data: bytes) -> bytes:
    """What C's ``%s`` prints of ``data``: everything before the first NUL."""
    return data.split(b"\0", 1)[0]


def trusted_uid(cf: str) -> int:
    """The uid of sendmail.cf's ``O TrustedUser=`` (0 if unset), as makemap run by root reads it.

    Raises OSError when the file cannot be read (makemap then exits 66).
    """
    import pwd

    uid = 0
    with open(cf, "rb") as f:
        for raw in f:
            line = raw.rstrip(b"\n")
            # makemap: an 'O' line whose option name is TrustedUser, in any case.
            if line[:1] != b"O" or line[1:13].lower() != b" trusteduser" or line[13:14].isalnum():
                continue
            _, eq, rest = line.partition(b"=")
            if not eq:
                continue
            name = rest.strip().decode("latin-1")
            if digits := re.match(r"\d+", name):
                uid = int(digits[0])  # atoi()
            else:
                try:
                    uid = pwd.getpwnam(name).pw_uid
                except KeyError:
                    uid = 0
    return uid


def new_map_owner(cf: str | None = None) -> int | None:
    """Who gets a new map: run by root, sendmail.cf's TrustedUser, as makemap gives it (sendmail
    refuses maps owned by others). None: the caller, as without a readable cf."""
    if os.geteuid() != 0:
        return None
    try:
        return trusted_uid(cf or DEFAULT_CF) or None
    except OSError:
        return None


def dump_lines(map_file: Path, dbtype: str | None, sep: str = "") -> Iterator[bytes]:
    """``makemap -u``: ``key<TAB or -t sep>value`` per record, each cut at a NUL like ``%.*s``;
    ``dbtype`` None takes a map of any type (``virtc dump``)."""
    from virtc.writers.bdb import count_records, read_map

    if dbtype is not None:
        count_records(map_file, dbtype)  # raises if the file is not a map of this type
    joint = encode(sep) if sep else b"\t"
    for key, value in read_map(map_file):
        yield _c_string(key) + joint + _c_string(value) + b"\n"


def write_map(target: Path, outcome: Outcome, opts: Options, owner: int | None) -> int:
    """Write ``outcome.records`` atomically to ``target``; give a new map to ``owner``."""
    from virtc.writers import bdb
    from virtc.writers.atomic import replace_atomically

    kind = "hash" if opts.dbtype == "implicit" else opts.dbtype

    def write(tmp: Path, mode: int) -> int:
        if opts.dups:
            count = _write_with_duplicates(tmp, outcome.records, kind, mode)
        else:
            count = bdb.write_new_map(tmp, outcome.records, kind, mode)
        if owner:
            os.chown(tmp, owner, -1)
        return count

    return replace_atomically(target, write, lambda tmp: bdb.count_records(tmp, kind))


def _streams(opts: Options) -> bool:
    """Whether the map can be written as the source is read (:func:`write_streamed`): the
    default dialect, no ``-v``, ``-d``, ``-r``, ``-o``."""
    return opts.dialect == Dialect() and not (opts.verbose or opts.dups or opts.replace or opts.append)


def write_streamed(target: Path, data: bytes, opts: Options, owner: int | None) -> int:
    """Write the map of a source of plain entries, comments and blank lines without a repeated
    key straight from its bytes (``virtc build --no-lint``'s way); raises NotPlain or
    DuplicateKeyError, the temporary map abandoned, at the first record makemap complains
    about (:func:`compile_table` says what)."""
    from virtc.maps.records import streamed_records
    from virtc.writers import bdb
    from virtc.writers.atomic import replace_atomically

    records = streamed_records(data, BuildOptions(foldcase=opts.foldcase, null=opts.null))

    def write(tmp: Path, mode: int) -> int:
        count = bdb.write_new_map(tmp, records, opts.dbtype, mode, unique=True,
                                  cache=bdb.cache_bytes(len(data)))
        if owner:
            os.chown(tmp, owner, -1)
        return count

    return replace_atomically(target, write, lambda tmp: bdb.count_records(tmp, opts.dbtype))


def _write_with_duplicates(path: Path, recs: list[tuple[bytes, bytes]], kind: str, mode: int) -> int:
    """``-d``: like :func:`virtc.writers.bdb.write_new_map`, with DB_DUP set (as makemap -d)."""
    from virtc.writers import bdb

    db = bdb.libdb()
    d = db.DB()
    try:
        d.set_flags(db.DB_DUP)
        if kind == "hash":
            d.set_h_nelem(bdb.H_NELEM)
        d.set_cachesize(0, bdb.CACHE_BYTES, 1)
        d.open(str(path), dbtype=db.DB_HASH if kind == "hash" else db.DB_BTREE,
               flags=db.DB_CREATE | db.DB_EXCL, mode=mode)
        for key, value in recs:
            d.put(key, value)
        d.sync()
    except db.DBError as exc:
        raise VirtcError(f"{path}: cannot write map: {exc}") from None
    finally:
        d.close()
    return len(recs)


def run(argv: list[str], stdin: BinaryIO, stdout: BinaryIO, stderr: BinaryIO) -> int:
    """``makemap ARGV``: parse makemap's switches, read ``stdin``, write the map; the exit code.

    Messages are written as bytes: a key is echoed exactly as it is in the source.
    """
    import getopt

    def say(message: str) -> None:
        try:
            data = encode(message + "\n")
        except UnicodeEncodeError:  # a file name from an OS error, not from argv
            data = os.fsencode(message + "\n")
        stderr.write(data)
        stderr.flush()

    def usage() -> int:
        say(USAGE.rstrip("\n"))
        return EX_USAGE

    try:
        # Arguments as their bytes (one character per byte), like C's argv: a map name is
        # echoed in messages exactly as given; _path() turns one back into a file name.
        switches, args = getopt.gnu_getopt([decode(os.fsencode(a)) for a in argv], OPTSTRING)
    except getopt.GetoptError as exc:
        if exc.opt and len(exc.opt) > 1:
            say(f"makemap: unrecognized option '--{exc.opt}'")
        elif "requires argument" in exc.msg:
            say(f"makemap: option requires an argument -- '{exc.opt}'")
        else:
            say(f"makemap: invalid option -- '{exc.opt}'")
        return usage()
    given: dict[str, str] = {}
    dialect = Dialect()
    for flag, value in switches:
        if flag in ("-l", "-L", "-x"):
            listing = {"-l": TYPES, "-L": ("cf", "CF", *TYPES),
                       "-x": ("hash:db", "btree:db", "implicit:")}[flag]
            stdout.write("".join(f"{t}\n" for t in listing).encode())
            return EX_OK
        if flag == "-t":
            if not value:
                say("Invalid separator")
                continue
            dialect = dataclasses.replace(dialect, sep=value[:1])
        elif flag == "-D":
            dialect = dataclasses.replace(dialect, comment=value[:1])
        elif flag == "-e":
            dialect = dataclasses.replace(dialect, allow_empty=True)
        given[flag] = value
    if len(args) != 2:
        return usage()
    dbtype, mapname = args
    opts = Options(dbtype, mapname, dialect, foldcase="-f" not in given, null="-N" in given,
                   replace="-r" in given, dups="-d" in given, append="-o" in given,
                   verbose="-v" in given, unsafe="-s" in given, cf=given.get("-C", DEFAULT_CF))

    owner = None
    if os.geteuid() == 0:
        # makemap run by root gives the map to sendmail.cf's TrustedUser.
        try:
            owner = trusted_uid(_path(opts.cf))
        except OSError as exc:
            say(f"makemap: {opts.cf}: {exc.strerror}")
            return EX_NOINPUT

    def cannot_open(reason: str) -> int:
        say(f"makemap: error opening type {dbtype} map {mapname}: {reason}")
        return EX_CANTCREAT

    if dbtype in NOT_COMPILED:
        say(f"makemap: Need to recompile with -D{NOT_COMPILED[dbtype]} for {dbtype} support")
        return EX_CANTCREAT
    if dbtype not in TYPES:
        if dbtype in ("cf", "CF"):
            return cannot_open("virtc makemap does not read map types from sendmail.cf; name the type")
        return cannot_open("Unknown database type")
    kind = "hash" if dbtype == "implicit" else dbtype
    target = _target(opts)
    try:
        from virtc.writers import bdb
        from virtc.writers.atomic import check_target

        bdb.libdb()
        exists = check_target(target) is not None
        if (opts.append or "-u" in given) and not exists:
            return cannot_open("No such file or directory")
        if "-u" in given:
            for line in dump_lines(target, kind, dialect.sep):
                stdout.write(line)
            return EX_OK
        if not target.parent.is_dir():
            return cannot_open("No such file or directory")
        if not os.access(target.parent, os.W_OK | os.X_OK):
            return cannot_open("Permission denied")
        existing = list(bdb.read_map(target)) if opts.append else []
    except VirtcError as exc:
        return cannot_open(_reason(exc, target))
    from virtc.writers.atomic import unsafe_directories

    for why in unsafe_directories(target):  # makemap's wording; sendmail will refuse the map
        say(f"WARNING: {why}")

    from virtc.source.recognise import NotPlain
    from virtc.writers.bdb import DuplicateKeyError

    data = stdin.read()
    if _streams(opts):
        try:  # (nothing held per record: makemap's own way through a large source)
            write_streamed(target, data, dataclasses.replace(opts, dbtype=kind), owner)
            return EX_OK
        except (NotPlain, DuplicateKeyError):
            pass  # a line makemap complains about: the usual way reports each one, writing nothing
        except VirtcError as exc:
            if compile_table(parse(data, "<stdin>", dialect), opts).exit_code == EX_OK:
                say(f"makemap: {mapname}: {_reason(exc, target)}")
                return EX_IOERR
    table = parse(data, "<stdin>", dialect)
    del data
    outcome = compile_table(table, opts, existing)
    for line in outcome.verbose:
        stdout.write(line + b"\n")
    stdout.flush()
    for message in outcome.messages:
        say(message)
    if outcome.exit_code != EX_OK:
        n = len(outcome.messages)
        state = "the old map is unchanged" if exists else "no map was created"
        say(f"makemap: {mapname}: virtc wrote nothing ({n} error{'s' if n != 1 else ''}); {state}")
        return outcome.exit_code
    try:
        write_map(target, outcome, dataclasses.replace(opts, dbtype=kind), owner)
    except VirtcError as exc:
        say(f"makemap: {mapname}: {_reason(exc, target)}")
        return EX_IOERR
    return EX_OK


def _path(arg: str) -> str:
    """A file name from an argument held as its bytes (see :func:`run`)."""
    return os.fsdecode(encode(arg))


def _target(opts: Options) -> Path:
    from virtc.writers.bdb import map_path

    target = map_path(_path(opts.mapname))
    if opts.unsafe and target.is_symlink():
        # -s: makemap writes through the link; virtc replaces the file the link names.
        return Path(os.path.realpath(target))
    return target


def _reason(exc: VirtcError, target: Path) -> str:
    """A VirtcError's message without the leading path it repeats."""
    return str(exc).removeprefix(f"{target}: ")
