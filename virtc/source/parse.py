"""Parse a virtusertable source into the model, using the Lark grammar.

Every record goes through the grammar in ``grammar/virtusertable.lark``. Most
records are plain entries or comments, so a line recogniser compiled from the
grammar's own terminals (KEY, SEP, VALUE, COMMENT) handles those (for bytes,
``bytes.split``, once checked to read lines exactly as those terminals do); any
other record goes to the full Lark parser, whose parse tree names the exact error.
All paths give the same result (checked by the property tests).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import stat
import zlib
from collections.abc import Callable, Iterator
from itertools import accumulate, chain, compress, repeat
from operator import add, itemgetter, not_, sub
from pathlib import Path
from typing import Any, AnyStr, BinaryIO

from virtc import progress
from virtc.errors import VirtcError
from virtc.model import BLANKS, Comment, Entry, Item, Rejected, Table, TableBuilder
from virtc.source import sniff
from virtc.source.grammar import parser, terminal_regexps
from virtc.source.reader import MAX_LINE, Problem, Record, chunks, decode
from virtc.speed import memory, parallel
from virtc.speed.gcpause import paused_gc
from virtc.speed.packed import FileSource, LazySource, PackedBytes


@functools.cache
def _fast_sources() -> tuple[str, str]:
    """(entry, comment) regex sources built from the grammar's terminal definitions."""
    terms = terminal_regexps()
    return f"({terms['KEY']})({terms['SEP']})({terms['VALUE']})", terms["COMMENT"]


@functools.cache
def _fast_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(entry, comment) regexes for Latin-1 decoded text."""
    entry, comment = _fast_sources()
    return re.compile(entry, re.S), re.compile(comment, re.S)


def parse_records(recs: Iterator[Record]) -> Iterator[Item]:
    """Turn makemap records into entries, comments and rejections (blank lines vanish)."""
    entry_re, comment_re = _fast_patterns()
    match_entry = entry_re.fullmatch
    for rec in recs:
        if rec.problem is Problem.TOO_LONG or rec.problem is Problem.NUL:
            yield _rejected_record(rec)
            continue
        m = match_entry(rec.text)
        if m is not None:
            col = rec.column
            yield Entry(m[1], m[3], rec.line, col, col + m.end(2), rec.seq)
        elif rec.text and comment_re.fullmatch(rec.text):
            yield Comment(rec.text, rec.line)
        elif rec.text:
            yield from _parse_slow(rec)


BLOCK = 1 << 20
"""Characters split into lines at a time: never a list of every line of a large source."""


def _pieces(text: AnyStr, start: int = 0, end: int | None = None) -> Iterator[AnyStr]:
    """``text[start:end]`` in consecutive pieces of about ``BLOCK`` characters, cut at
    newlines: each piece without the newline that ends it, the last one whatever follows
    the last cut (empty when the text ends with a newline)."""
    end = len(text) if end is None else end
    newline: AnyStr = "\n" if isinstance(text, str) else b"\n"
    pos = start
    while (cut := text.find(newline, pos + BLOCK, end)) >= 0:
        yield text[pos:cut]
        pos = cut + 1
    yield text[pos:end]


def _file_pieces(fd: int, start: int, end: int, path: str, crc: list[int]) -> Iterator[bytes]:
    """The same pieces of bytes ``start``..``end`` of the file open as ``fd``, read a
    block at a time (never the whole file); ``crc[0]`` accumulates their CRC-32.

    ``os.pread``, not ``read``: a helper process shares the descriptor's offset.
    """
    pos, held = start, list[bytes]()  # the start of a line longer than a block, in parts
    while pos < end:
        chunk = os.pread(fd, min(BLOCK, end - pos), pos)
        if not chunk:
            raise VirtcError(f"{path}: changed while virtc was reading it; run virtc again")
        pos += len(chunk)
        crc[0] = zlib.crc32(chunk, crc[0])
        cut = chunk.rfind(b"\n")
        if cut < 0:
            held.append(chunk)
            continue
        yield b"".join((*held, chunk[:cut])) if held else chunk[:cut]
        held = [chunk[cut + 1:]]
    yield b"".join(held)


def _line_blocks(pieces: Iterator[AnyStr], what: str,
                 total: int) -> Iterator[tuple[AnyStr, list[AnyStr], bool]]:
    """Each piece, its lines, and whether it holds a NUL byte.

    Reports its progress through the ``total`` characters as the phase ``what``.
    """
    bar = progress.current()
    bar.phase(what, total)
    done = 0
    for piece in pieces:
        if isinstance(piece, str):
            yield piece, piece.split("\n"), "\0" in piece
        else:
            yield piece, piece.split(b"\n"), b"\0" in piece
        step = min(len(piece) + 1, total - done)  # (no newline after the last piece)
        bar.advance(step)
        done += step


class NotPlain(Exception):
    """The source has a line that is not a plain entry, comment or blank line."""


def plain_entries(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """Every entry's (key, value) bytes as written, for a source of nothing but plain lines.

    The fast path for building a clean source: no decoding, no model objects. Raises
    :class:`NotPlain` at the first record that needs the full parse (a line makemap
    rejects, an over-long line, a NUL byte): the caller then parses the usual way.
    For any other source the pairs are exactly the entries of :func:`parse_bytes`
    (property-tested).
    """
    if b"\0" in data:
        raise NotPlain
    plain_block = _plain_blocks(binary=True)
    for piece, block, _ in _line_blocks(_pieces(data), "building", len(data)):
        plain = plain_block(block, piece) if max(map(len, block)) <= MAX_LINE else None
        if plain is None:
            raise NotPlain
        yield from zip(plain[1], plain[2], strict=True)


def parse_source(text: str) -> Iterator[Item]:
    """``parse_records(records(text))``: every item of ``text`` in file order."""
    return iter(parse_text(text).items)


@functools.cache
def _line_pattern(binary: bool) -> re.Pattern[Any]:
    """One record: an entry (groups key, separator, value), a comment, or blank."""
    entry, comment = _fast_sources()
    source = f"{entry}|{comment}|"
    return re.compile(source.encode("latin-1") if binary else source, re.S)


def _parse_into(table: TableBuilder, blocks: Iterator[tuple[Any, list[Any], bool]], binary: bool) -> None:
    """Parse a source's lines, given in ``blocks`` (see :func:`_line_blocks`), as text or,
    if ``binary``, as bytes read as Latin-1, into ``table``, a block at a time, in C
    where it can.

    The split is that of :func:`virtc.source.reader.records` (property-tested): a line of
    at most ``MAX_LINE`` characters without a NUL is one record with ``column`` 1.
    A block of nothing but such lines that are entries, comments or blank goes
    into the columns whole; any other block goes line by line, odd lines through
    the reader and the full parser.
    """
    plain_block = _plain_blocks(binary)
    seq = number = 0
    piece, block, may_have_nul = next(blocks)
    while True:
        following = next(blocks, None)
        last = block.pop() if following is None else ""  # "" when the text ends with a newline
        first = number + 1
        plain = None
        if block and max(map(len, block)) <= MAX_LINE and not (may_have_nul and any(map(_has_nul, block))):
            if following is None:  # the piece without the line popped
                piece = piece[:len(piece) - len(last) - 1]
            plain = plain_block(block, piece)
        if plain is not None:
            is_entry, entry_keys, entry_values, value_columns, comments = plain
            lines = list(compress(range(first, first + len(block)), is_entry))
            table.add_entries(
                _joined(entry_keys), list(map(len, entry_keys)), _joined(entry_values),
                list(map(len, entry_values)), lines, value_columns,
                lines if seq == number else map(add, lines, repeat(seq - number)))
            if comments:
                texts = [block[j] for j in comments]
                table.add_comments(_joined(texts), list(map(len, texts)), [first + j for j in comments])
            seq += len(block)
            number += len(block)
        else:
            for number, line in enumerate(map(_text, block), first):
                if len(line) > MAX_LINE or (may_have_nul and "\0" in line):
                    for rec in chunks(line + "\n", number, seq):
                        seq = rec.seq
                        for item in parse_records(iter((rec,))):
                            table.add(item)
                    continue
                seq += 1
                if line:
                    for item in parse_records(iter((Record(line, number, 1, seq),))):
                        table.add(item)
        if following is None:
            break
        piece, block, may_have_nul = following
    table.last_line = number + 1, _text(last)
    table.seq_shift = seq - number  # (what the next part needs: this one ends with a newline)
    if last:
        for item in parse_records(chunks(_text(last), number + 1, seq)):
            table.add(item)


_GROUPS = re.Match.groups
_START = re.Match.start
_FIRST, _SECOND, _THIRD = itemgetter(0), itemgetter(1), itemgetter(2)
_Plain = tuple[list[bool], list[Any], list[Any], Iterator[int], list[int]]
"""A block of plain lines: which are entries; the entries' keys, values and value columns;
the indices of its comments."""


def _plain_blocks(binary: bool) -> Callable[[list[Any], Any], _Plain | None]:
    """The recogniser of plain blocks for text or, if ``binary``, bytes: the split where it
    reads lines as the grammar does (see :func:`_split_reads_as_grammar`), else the regex.

    It is given a block's lines and the piece they were split from."""
    if binary and _split_reads_as_grammar():
        return _plain_split
    return functools.partial(_plain_match, match_line=_line_pattern(binary).fullmatch, binary=binary)


def _plain_match(block: list[Any], piece: object, match_line: Callable[[Any], re.Match[Any] | None],
                 binary: bool) -> _Plain | None:
    """:data:`_Plain` for ``block`` by the grammar's line regex; None if a line is not plain."""
    matches = list(map(match_line, block))
    if None in matches:
        return None
    groups = list(map(_GROUPS, matches, repeat(b"" if binary else "")))  # type: ignore[arg-type]  # comment, blank
    keys = list(map(_FIRST, groups))
    entry_keys = list(compress(keys, keys))  # a key is never empty
    seps = map(len, compress(map(_SECOND, groups), keys))
    is_entry = list(map(bool, keys))
    return is_entry, entry_keys, list(compress(map(_THIRD, groups), keys)), \
        map(add, map(add, map(len, entry_keys), seps), repeat(1)), \
        [j for j in compress(range(len(block)), map(not_, is_entry)) if block[j]]


_SEPARATORS = tuple(bytes([c]) for c in BLANKS.encode("latin-1"))
_LEADING_BLANK = re.compile(b"\n[" + re.escape(b"".join(_SEPARATORS)) + b"]")
"""A line (after the first) that starts with a blank: makemap's "leading space" error."""
_NOT_ENTRY = re.compile(b"\n(?=[#\n])")
"""The newline before a comment or a blank line (in the piece between two newlines)."""


@functools.cache
def _split_reads_as_grammar() -> bool:
    """Whether ``bytes.split(None, 1)`` reads a line as the grammar's terminals do.

    It cuts at the first run of ASCII whitespace, which must be exactly SEP; the part
    before must be a KEY (any other bytes, not starting with COMMENT's '#'), the rest a
    VALUE (anything from a byte that is not SEP). Checked byte by byte against the
    terminals, so a grammar change turns this path off rather than making it wrong.
    """
    terms = {name: re.compile(body.encode("latin-1"), re.S) for name, body in terminal_regexps().items()}
    every = [bytes([c]) for c in range(256) if c != 0x0A]  # a record holds no newline
    whitespace = {c for c in every if c.isspace()}
    return (
        {c for c in every if terms["SEP"].fullmatch(c)} == whitespace == set(_SEPARATORS)
        and {c for c in every if terms["KEY"].fullmatch(c)} == set(every) - whitespace - {b"#"}
        and all(bool(terms["KEY"].fullmatch(b"k" + c)) is (c not in whitespace) for c in every)
        and {c for c in every if terms["VALUE"].fullmatch(c)} == set(every) - whitespace
        and all(terms["VALUE"].fullmatch(b"v" + c + b"v") for c in every)
        and {c for c in every if terms["COMMENT"].fullmatch(c)} == {b"#"}
        and all(terms["COMMENT"].fullmatch(b"#" + c) for c in every)
    )


def _plain_split(block: list[bytes], piece: bytes) -> _Plain | None:
    """:func:`_plain_match` by ``bytes.split`` (faster; see :func:`_split_reads_as_grammar`),
    with ``piece``, the bytes ``block`` was split from, searched whole for the few lines that
    are not entries.

    An entry is a line that is neither blank nor a comment: its first byte is no blank
    (else makemap's "leading space" error) and a blank run cuts it in two (else "no RHS").
    """
    if piece.startswith(_SEPARATORS) or _LEADING_BLANK.search(piece) is not None:
        return None
    is_entry = [True] * len(block)
    text = b"\n" + piece + b"\n"
    ends = list(map(_START, _NOT_ENTRY.finditer(text)))
    # A line's index is the number of newlines before it: counted between the matches, in C.
    others = list(accumulate(map(text.count, repeat(b"\n"), chain((0,), ends), ends)))
    for j in others:
        is_entry[j] = False
    entries = list(compress(block, is_entry)) if others else block
    # Split and flattened at once: [key, value, key, value, ...], a line without a value short.
    parts = list(chain.from_iterable(map(bytes.split, entries, repeat(None), repeat(1))))
    if len(parts) != 2 * len(entries):
        return None
    values = parts[1::2]
    # The value starts after the key and its separator: its column is counted from the end.
    return is_entry, parts[::2], values, \
        map(add, map(sub, map(len, entries), map(len, values)), repeat(1)), \
        [j for j in others if block[j]]


def _has_nul(line: str | bytes) -> bool:
    return b"\0" in line if isinstance(line, bytes) else "\0" in line


def _text(line: str | bytes) -> str:
    return line.decode("latin-1") if isinstance(line, bytes) else line


def _joined(texts: list[Any]) -> str:
    """``texts`` joined by newlines, as text (one decode for a block of bytes)."""
    if texts and isinstance(texts[0], bytes):
        return b"\n".join(texts).decode("latin-1")
    return "\n".join(texts)


def _parse_slow(rec: Record) -> Iterator[Item]:
    """Parse one record with the full Lark parser and turn the tree into items."""
    from lark import Token, Tree  # only here: importing Lark costs every start 50 ms

    tree = parser().parse(rec.text)
    (node,) = tree.children
    assert isinstance(node, Tree)
    tokens = [t for t in node.children if isinstance(t, Token)]
    col = rec.column
    kind = node.data
    if kind == "entry":
        key, sep, value = tokens
        yield Entry(str(key), str(value), rec.line, col, col + sep.end_pos, rec.seq)  # type: ignore[operator]
    elif kind == "comment":
        yield Comment(rec.text, rec.line)
    elif kind == "missing_value_error":
        key = tokens[0]
        yield Rejected(
            "missing-value",
            f"'{key}' has no value: makemap rejects it (\"no RHS for LHS\")",
            rec.line, col, col + len(rec.text), rec.seq, str(key),
        )
    elif kind == "leading_space_error":
        what = "a whitespace-only line" if len(tokens) == 1 else "a line starting with whitespace"
        yield Rejected(
            "leading-space",
            f"{what}: makemap rejects it (\"syntax error (leading space)\"); "
            "there are no continuation lines",
            rec.line, col, col + len(tokens[0]), rec.seq,
        )


def _rejected_record(rec: Record) -> Rejected:
    if rec.problem is Problem.NUL:
        nul = rec.text.index("\0")
        return Rejected(
            "nul",
            "NUL byte in line: makemap rejects the line (it reports \"line too long\")",
            rec.line, rec.column + nul, rec.column + nul + 1, rec.seq,
        )
    return Rejected(
        "too-long",
        f"line is {rec.line_length} bytes long, makemap accepts at most {MAX_LINE}: "
        "it rejects the first 1023 bytes and reads the rest as a new line",
        rec.line, rec.column, rec.column + len(rec.text), rec.seq,
    )


def parse_text(text: str, path: str = "<string>") -> Table:
    """Parse Latin-1 decoded source text."""
    with paused_gc():
        return _parse_part(text, 0, len(text)).table(path, text)


SPLIT_SIZE = 4 << 20
"""Sources this large are parsed in two halves at once when a helper process is allowed."""

PACK_SIZE = 4 << 20
"""Sources this large (some 100k entries) are not kept in memory as read (:mod:`virtc.speed.packed`)."""


def _parse_part(source: str | bytes, start: int, end: int, continuation: bool = False) -> TableBuilder:
    """The lines of ``source[start:end]`` (``start`` just after a newline), numbered from 1:
    :meth:`TableBuilder.append` moves a ``continuation`` after the part before it."""
    table = TableBuilder(continuation)
    _parse_into(table, _line_blocks(_pieces(source, start, end), "parsing", end - start),
                isinstance(source, bytes))
    return table


def _parse_halves(data: bytes) -> TableBuilder:
    """Parse ``data`` in two halves, split after a newline, the second one in a helper
    process (the joined halves are the one parse: property-tested)."""
    mid = data.find(b"\n", len(data) // 2) + 1
    if not mid:
        return _parse_part(data, 0, len(data))
    with parallel.Helper(lambda: _parse_part(data, mid, len(data), True)) as job:
        table = _parse_part(data, 0, mid)
        part = job.result()
    table.append(part)
    return table


def parse_bytes(data: bytes, path: str = "<bytes>", *, jobs: int | None = None,
                from_file: bool = False) -> Table:
    """Parse a source's bytes (Latin-1: every byte one character); the table keeps the
    bytes and decodes them only if a source line is asked for. A large source is not kept:
    with ``from_file`` (``path`` is the regular file ``data`` was read from) it is read
    again if needed, otherwise it is kept compressed (see :mod:`virtc.speed.packed`)."""
    source: bytes | LazySource = data
    if len(data) >= PACK_SIZE:
        memory.tune_for_large_inputs()
        source = FileSource.of(path, data) if from_file else PackedBytes(data)
    with paused_gc():
        if len(data) >= SPLIT_SIZE and parallel.wanted(jobs):
            table = _parse_halves(data)
        else:
            table = _parse_part(data, 0, len(data))
    if isinstance(source, LazySource):
        source.wait()  # (compressing stdin is done long before the parse: it is several times faster)
    return table.table(path, source)


MAX_SOURCE = 256 * 1024 * 1024
"""Sources are read whole; a bound keeps memory bounded (/dev/zero, a wrong file).

256 MiB is some 7 million entries, far beyond any real virtusertable.
"""


def _too_big(name: object) -> VirtcError:
    return VirtcError(f"{name}: larger than {MAX_SOURCE // 2**20} MiB; not a virtusertable source")


def _read_bounded(stream: BinaryIO, name: object) -> bytes:
    too_big = _too_big(name)
    try:
        st: os.stat_result | None = os.fstat(stream.fileno())
    except (OSError, ValueError):  # an in-memory stream (io.UnsupportedOperation)
        st = None
    if st is not None and stat.S_ISREG(st.st_mode):
        if st.st_size > MAX_SOURCE:
            raise too_big
        return stream.read()
    parts, size = [], 0  # a pipe or device: read it in pieces, never past the bound
    while chunk := stream.read(1 << 20):
        size += len(chunk)
        if size > MAX_SOURCE:
            raise too_big
        parts.append(chunk)
    return b"".join(parts)


def read_source(path: str | Path) -> bytes:
    """Read a source file, turning OS errors into one-line user errors."""
    p = Path(path)
    with _reading(p), p.open("rb") as f:
        return _read_bounded(f, p)


@contextlib.contextmanager
def _reading(p: Path) -> Iterator[None]:
    """OS errors while opening or reading the source ``p`` as one-line user errors."""
    try:
        if p.is_dir():
            raise VirtcError(f"{p}: is a directory, not a virtusertable source")
        yield
    except FileNotFoundError:
        raise VirtcError(f"{p}: no such file") from None
    except PermissionError:
        raise VirtcError(f"{p}: permission denied") from None
    except OSError as exc:
        raise VirtcError(f"{p}: cannot read: {exc.strerror or exc}") from None


def read_data(path: str | Path) -> tuple[bytes, str]:
    """A source's bytes and the name diagnostics give it; ``-`` reads standard input."""
    if str(path) == "-":
        import sys

        try:
            return _read_bounded(sys.stdin.buffer, "<stdin>"), "<stdin>"
        except OSError as exc:
            raise VirtcError(f"<stdin>: cannot read: {exc.strerror or exc}") from None
    data = read_source(path)
    if sniff.is_berkeley_db(data[: sniff.HEAD]):
        raise VirtcError(f"{path}: {sniff.MAP_NOT_SOURCE}")
    return data, str(path)


def read_text(path: str | Path) -> tuple[str, str]:
    """A source's decoded text and the name diagnostics give it; ``-`` reads standard input."""
    data, name = read_data(path)
    return decode(data), name


def parse_file(path: str | Path, *, jobs: int | None = None) -> Table:
    """Read and parse a source file; ``-`` reads standard input. ``jobs``: see parse_bytes.

    A large regular file is parsed as it is read, a block at a time, so that its
    bytes are never all in memory (in two halves at once when ``jobs`` allows).
    """
    size = _regular_file_size(path)
    if size is not None and size >= PACK_SIZE:
        return _parse_large_file(Path(path), jobs)
    data, name = read_data(path)
    return parse_bytes(data, name, jobs=jobs, from_file=size is not None)


def _parse_large_file(p: Path, jobs: int | None) -> Table:
    memory.tune_for_large_inputs()
    with _reading(p), p.open("rb") as f:
        fd = f.fileno()
        before = os.fstat(fd)
        size = before.st_size
        if size > MAX_SOURCE:
            raise _too_big(p)
        if sniff.is_berkeley_db(os.pread(fd, sniff.HEAD, 0)):
            raise VirtcError(f"{p}: {sniff.MAP_NOT_SOURCE}")
        mid = _line_end(fd, size // 2, size) if size >= SPLIT_SIZE and parallel.wanted(jobs) else size
        with paused_gc():
            if mid < size:
                with parallel.Helper(lambda: _parse_file_part(fd, mid, size, str(p), True)) as job:
                    table, crc = _parse_file_part(fd, 0, mid, str(p))
                    part, part_crc = job.result()
                table.append(part)
                parts = [(mid, crc), (size, part_crc)]
            else:
                table, crc = _parse_file_part(fd, 0, size, str(p))
                parts = [(size, crc)]
        after = os.fstat(fd)
    if (after.st_size, after.st_mtime_ns) != (size, before.st_mtime_ns):
        raise VirtcError(f"{p}: changed while virtc was reading it; run virtc again")
    return table.table(str(p), FileSource(p, parts))


def _parse_file_part(fd: int, start: int, end: int, path: str,
                     continuation: bool = False) -> tuple[TableBuilder, int]:
    """:func:`_parse_part` of bytes ``start``..``end`` of a file, and their CRC-32."""
    table, crc = TableBuilder(continuation), [0]
    _parse_into(table, _line_blocks(_file_pieces(fd, start, end, path, crc), "parsing", end - start), True)
    return table, crc[0]


def _line_end(fd: int, pos: int, size: int) -> int:
    """The offset just past the first newline at or after ``pos`` (``size`` if there is none)."""
    while pos < size:
        chunk = os.pread(fd, 1 << 16, pos)
        if not chunk:
            break
        cut = chunk.find(b"\n")
        if cut >= 0:
            return pos + cut + 1
        pos += len(chunk)
    return size


def is_regular_file(path: str | Path) -> bool:
    """Whether ``path`` names a regular file (not ``-``, a FIFO or a device): one that can be read again."""
    return _regular_file_size(path) is not None


def _regular_file_size(path: str | Path) -> int | None:
    """The size of the regular file ``path`` names; None for ``-``, a FIFO, a device, or no file."""
    if str(path) == "-":
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None  # reading it reports the problem
    return st.st_size if stat.S_ISREG(st.st_mode) else None
