"""Records -> items: the fast line recogniser derived from the grammar, and the Lark fallback.

Every record goes through the grammar in ``grammar/virtusertable.lark``. Most
records are plain entries or comments, so a line recogniser compiled from the
grammar's own terminals (KEY, SEP, VALUE, COMMENT) handles those (for bytes,
``bytes.split``, once checked to read lines exactly as those terminals do); any
other record goes to the full Lark parser, whose parse tree names the exact error.
All paths give the same result (checked by the property tests).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from itertools import accumulate, chain, compress, count, repeat
from operator import add, eq, itemgetter, not_, sub
from typing import Any

from virtc.compat import zip_strict
from virtc.model import BLANKS, Comment, Entry, Item, Rejected
from virtc.source.blocks import line_blocks, pieces
from virtc.source.grammar import parser, productions, terminal_regexps
from virtc.source.reader import MAX_LINE, Problem, Record, chunks, line_records
from virtc.table import TableBuilder

FAST_SHAPES = {"comment": frozenset({("COMMENT",)}), "entry": frozenset({("KEY", "SEP", "VALUE")}),
               "blank": frozenset({()}), "leading_space_error": frozenset({("SEP", "VALUE"), ("SEP",)})}
"""The rules the fast path reads without Lark, with the exact shapes it assumes of them."""


@functools.cache
def fast_path_on() -> bool:
    """Whether the grammar's comment, entry and blank rules have the shapes the fast path
    hard-codes and ``start`` offers each: otherwise every record goes to Lark's parser, as
    when a terminal changes (:func:`_split_reads_as_grammar`)."""
    rules = productions()
    return all(rules.get(name) == shape for name, shape in FAST_SHAPES.items()) \
        and {(name,) for name in FAST_SHAPES} <= rules.get("start", frozenset())


def _no_match(*_: object) -> None:
    """A recogniser that recognises nothing (the fast path turned off)."""
    return None


@functools.cache
def _fast_sources() -> tuple[str, str, str]:
    """(entry, comment, leading space) regex sources built from the grammar's terminal
    definitions."""
    terms = terminal_regexps()
    return (f"({terms['KEY']})({terms['SEP']})({terms['VALUE']})", terms["COMMENT"],
            f"({terms['SEP']})({terms['VALUE']})?")


@functools.cache
def _fast_patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """(entry, comment, leading space) regexes for Latin-1 decoded text."""
    entry, comment, leading = _fast_sources()
    return re.compile(entry, re.S), re.compile(comment, re.S), re.compile(leading, re.S)


def parse_records(recs: Iterator[Record]) -> Iterator[Item]:
    """Turn makemap records into entries, comments and rejections (blank lines vanish)."""
    patterns = _fast_patterns()
    match_entry, match_comment, match_leading = (p.fullmatch for p in patterns) if fast_path_on() \
        else (_no_match, _no_match, _no_match)
    for rec in recs:
        if rec.problem is Problem.TOO_LONG or rec.problem is Problem.NUL:
            yield _rejected_record(rec)
            continue
        m = match_entry(rec.text)
        if m is not None:
            col = rec.column
            yield Entry(m[1], m[3], rec.line, col, col + m.end(2), rec.seq)
        elif rec.text and match_comment(rec.text):
            yield Comment(rec.text, rec.line)
        elif rec.text and (m := match_leading(rec.text)) is not None:
            # (a CRLF file's blank lines: '\r', which makemap rejects; #18: 60k of them)
            yield _leading_space(rec, m.end(1), m[2] is None)
        elif rec.text:
            yield from _parse_slow(rec)


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
    if b"\0" in data or not fast_path_on():
        raise NotPlain
    plain_block = _plain_blocks(binary=True)
    for piece, block, _ in line_blocks(pieces(data), "building", len(data)):
        plain = plain_block(block, piece) if max(map(len, block)) <= MAX_LINE else None
        if plain is None:
            raise NotPlain
        yield from zip_strict(plain[1], plain[2])


@functools.cache
def _line_pattern(binary: bool) -> re.Pattern[Any]:
    """One record: an entry (groups key, separator, value), a comment, or blank."""
    entry, comment, _ = _fast_sources()  # (a leading space is an odd line)
    source = f"{entry}|{comment}|"
    return re.compile(source.encode("latin-1") if binary else source, re.S)


def parse_into(table: TableBuilder, blocks: Iterator[tuple[Any, list[Any], bool]], binary: bool) -> None:
    """Parse a source's lines, given in ``blocks`` (see :func:`line_blocks`), as text or,
    if ``binary``, as bytes read as Latin-1, into ``table``, a block at a time, in C
    where it can.

    The split is that of :func:`virtc.source.reader.records` (property-tested): a line of
    at most ``MAX_LINE`` characters without a NUL is one record with ``column`` 1.
    A block of nothing but such lines that are entries, comments or blank goes
    into the columns whole; in a block with other lines, the runs of such lines
    between them still do, and the other lines go one by one through the reader
    and the full parser (as does a block with a NUL or an over-long line).
    """
    plain_block = _plain_blocks(binary)
    seq = number = 0

    def add_plain(lines: list[Any], plain: _Plain) -> None:
        nonlocal seq, number
        first = number + 1
        is_entry, entry_keys, entry_values, value_columns, comments = plain
        numbers = list(compress(range(first, first + len(lines)), is_entry))
        table.add_entries(
            _joined(entry_keys), list(map(len, entry_keys)), _joined(entry_values),
            list(map(len, entry_values)), numbers, value_columns,
            numbers if seq == number else map(add, numbers, repeat(seq - number)))
        if comments:
            texts = [lines[j] for j in comments]
            table.add_comments(_joined(texts), list(map(len, texts)), [first + j for j in comments])
        seq += len(lines)
        number += len(lines)

    def add_one_by_one(lines: list[Any]) -> None:  # odd lines as makemap splits them, through the full parser
        nonlocal seq, number
        recs = list(line_records(map(_text, lines), number + 1, seq))
        if recs:
            seq, number = recs[-1].seq, recs[-1].line
        for item in parse_records(iter(recs)):
            table.add(item)

    def add_runs(lines: list[Any], odd: Iterable[int], guessed: bool) -> None:
        """The runs of plain lines between the ``odd`` ones into the columns whole, the rest
        line by line; a run found not plain after all is cut again at the lines the
        grammar's line regex does not read (if ``odd`` was ``guessed``)."""
        for run, plain_run in _runs(lines, odd):
            plain = plain_block(run, _joined_as_read(run)) if plain_run else None
            if plain is not None:
                add_plain(run, plain)
            elif plain_run and guessed:
                add_runs(run, _odd(run, binary), False)
            else:
                add_one_by_one(run)

    piece, block, may_have_nul = next(blocks)
    while True:
        following = next(blocks, None)
        last = block.pop() if following is None else ""  # "" when the text ends with a newline
        plain = None
        whole = bool(block) and max(map(len, block)) <= MAX_LINE and \
            not (may_have_nul and any(map(_has_nul, block)))
        if whole:
            if following is None:  # the piece without the line popped
                piece = piece[:len(piece) - len(last) - 1]
            plain = plain_block(block, piece)
        if plain is not None:
            add_plain(block, plain)
        elif whole:  # a few odd lines must not send the whole block line by line
            add_runs(block, _likely_odd(block, piece, binary), True)
        else:
            add_one_by_one(block)
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
    if not fast_path_on():
        return _no_match
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


_MIN_RUN = 16
"""Plain lines in a row that go into the columns whole (fewer go line by line)."""


def _runs(lines: list[Any], odd: Iterable[int]) -> Iterator[tuple[list[Any], bool]]:
    """``lines`` cut into runs of at least :data:`_MIN_RUN` lines between the ``odd`` ones
    (ascending indices), each with True, and the lines between those runs, with False."""
    pending = gap = 0  # the first line not given out yet; the first after the last odd line
    for j in chain(odd, [len(lines)]):
        if j - gap >= _MIN_RUN:
            if gap > pending:
                yield lines[pending:gap], False
            yield lines[gap:j], True
            pending = j
        gap = j + 1
    if pending < len(lines):
        yield lines[pending:], False


def _odd(lines: list[Any], binary: bool) -> Iterator[int]:
    """The indices of the lines the grammar's line regex does not read (no entry, comment
    or blank line)."""
    return compress(count(), map(not_, map(_line_pattern(binary).fullmatch, lines)))


def _likely_odd(block: list[Any], piece: Any, binary: bool) -> list[int]:
    """The indices of the lines of ``block`` (split from ``piece``) that are no entry,
    comment or blank line: for bytes, those the split of :func:`_plain_split` cannot take
    (a line starting with a blank, a key without a value), found in C; for text, by the
    line regex."""
    if not binary or not _split_reads_as_grammar():
        return list(_odd(block, binary))
    # A line's index is the number of newlines before it: counted between the matches, in C.
    text = b"\n" + piece
    starts = list(map(_START, _LEADING_BLANK.finditer(text)))
    odd = set(accumulate(map(text.count, repeat(b"\n"), chain((0,), starts), starts)))
    halves = map(len, map(bytes.split, block, repeat(None), repeat(1)))
    odd.update(j for j in compress(count(), map(eq, halves, repeat(1))) if block[j][:1] != b"#")
    return sorted(odd)


def _joined_as_read(lines: list[Any]) -> Any:
    """``lines`` joined by newlines, as they were read (text or bytes)."""
    return b"\n".join(lines) if lines and isinstance(lines[0], bytes) else "\n".join(lines)


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
    from lark import Token, Tree  # only here: importing Lark costs every start

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
        yield _leading_space(rec, len(tokens[0]), len(tokens) == 1)


def _leading_space(rec: Record, blanks: int, only: bool) -> Rejected:
    """The rejection of a record starting with ``blanks`` whitespace characters (``only``
    those)."""
    what = "a whitespace-only line" if only else "a line starting with whitespace"
    return Rejected(
        "leading-space",
        f"{what}: makemap rejects it (\"syntax error (leading space)\"); there are no continuation lines",
        rec.line, rec.column, rec.column + blanks, rec.seq,
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


def parse_part(source: str | bytes, start: int, end: int, continuation: bool = False) -> TableBuilder:
    """The lines of ``source[start:end]`` (``start`` just after a newline), numbered from 1:
    :meth:`TableBuilder.append` moves a ``continuation`` after the part before it."""
    table = TableBuilder(continuation)
    parse_into(table, line_blocks(pieces(source, start, end), "parsing", end - start),
                isinstance(source, bytes))
    return table
