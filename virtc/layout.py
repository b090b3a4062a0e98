"""A canonical layout for virtusertable sources that never changes what makemap stores.

* Every entry is ``KEY<TAB>VALUE`` (``align``: keys padded with spaces to one column).
  Key and value bytes are never touched (trailing blanks and CRs in values stay).
* Comments stay attached to the line below them; a comment run followed by a blank
  line stays where it is.
* In each run of consecutive entries of one domain, the ``@domain`` catch-all (with
  its comments) moves to the end; comments above the run's first line head the run
  and stay on top. Nothing moves across a blank line, a comment
  block or another domain.
* Runs of blank lines become one; none at the start or end. If the file already
  separates domains by blank lines (in most places), a blank line is added where
  one is missing.
* The file ends with a newline.

Reordering is safe only because a file without VT001 errors has no duplicate keys
(makemap keeps the first of two equal keys): files with VT001 errors or NUL bytes
are refused. After formatting, the result is parsed again and must store exactly the
same records as before (a guard against bugs here, not a user error).
"""

from __future__ import annotations

from array import array
from collections import Counter
from itertools import chain, compress, repeat
from operator import itemgetter
from sys import intern

from virtc.source.parse import parse_text
from virtc.source.reader import MAX_LINE
from virtc.source.rejections import makemap_rejections
from virtc.table import Table


class FormatRefused(Exception):
    """The file cannot be formatted safely; the message says why (one or more lines)."""


# The layout works on tokens, one a unit, in an array (a million entries as objects cost
# a gigabyte): an entry with the comment lines right above it is its entry number; a
# blank line is BLANK; a free-standing comment block is -2 - its number in ``blocks``.
BLANK = -1


class _Units:
    """A table's entries and comments as units (see above), and what the layout asks of them."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.blocks: list[tuple[int, int]] = []
        """Free-standing comment blocks: (first line, last line)."""
        self.heads = array("I", table.lines)
        """Each entry's first line: of the comments above it, or its own."""
        self.moved: dict[int, list[tuple[int, int]]] = {}
        """Entries whose comments are not the lines above them: (first, last) line ranges."""
        folded = table.stored_keys
        # (the part after the last '@', folded; one string a domain)
        self.domains = list(map(intern, map(itemgetter(2), map(str.rpartition, folded, repeat("@")))))
        self.catch_alls = {i for i in folded.starting_with("@") if folded[i].count("@") == 1
                           and len(folded[i]) > 1}

    def tokens(self) -> array[int]:
        """The units in file order, blank lines included."""
        table, out = self.table, array("l")
        lines = table.lines
        if len(set(lines)) != len(lines):  # an over-long line makemap reads as several records
            raise FormatRefused(f"{table.path}: a line holds more than one record (over {MAX_LINE} "
                                "bytes): not formatted")
        comments = {c.line for c in table.comments}
        number, last_text = table.last_line
        total = number - 1 if last_text == "" else number
        pending = 0  # first line of the comments waiting for their entry (0: none)
        entry, entries = 0, len(lines)
        for line in range(1, total + 1):
            if entry < entries and lines[entry] == line:
                self.heads[entry] = pending or line
                out.append(entry)
                entry, pending = entry + 1, 0
            elif line in comments:
                pending = pending or line
            elif table.source_line(line) == "":
                if pending:
                    out.append(-2 - len(self.blocks))
                    self.blocks.append((pending, line - 1))
                    pending = 0
                out.append(BLANK)
            else:  # pragma: no cover - every other line is a VT001 error, refused before
                raise FormatRefused(f"{table.path}:{line}: line not understood")
        if pending:
            out.append(-2 - len(self.blocks))
            self.blocks.append((pending, total))
        return out

    def comments_of(self, entry: int) -> list[tuple[int, int]]:
        moved = self.moved.get(entry)
        if moved is not None:
            return moved
        head, line = self.heads[entry], self.table.lines[entry]
        return [(head, line - 1)] if head < line else []


def format_table(table: Table, *, align: bool = False) -> str:
    """The canonical text of ``table`` (see the module docstring); raises FormatRefused."""
    _refuse_unsafe(table)
    units = _Units(table)
    tokens = _collapse_blanks(units.tokens())
    _catch_alls_last(units, tokens)
    if _separates_domains(units, tokens):
        tokens = _separate_domains(units, tokens)
    text = _render(units, tokens, align)
    if text != table.text:  # (a formatted file, as pre-commit sees it: nothing to check)
        _check_same_records(table, text)
    return text


def _refuse_unsafe(table: Table) -> None:
    if "\0" in table.text:
        raise FormatRefused(f"{table.path}: contains a NUL byte (makemap drops or cuts such lines)")
    errors = list(makemap_rejections(table))
    if errors:
        lines = [f"{d.path}:{d.line}:{d.column}: {d.code} {d.message}" for d in errors]
        raise FormatRefused("\n".join([*lines, f"{table.path}: not formatted: {len(errors)} VT001 "
                                       f"error{'s' if len(errors) != 1 else ''}; a reordering could "
                                       "change what makemap stores"]))


def _collapse_blanks(tokens: array[int]) -> array[int]:
    """One blank line for each run of them; none at the start or the end."""
    keep = [tok != BLANK or prev != BLANK for prev, tok in zip(chain((BLANK,), tokens), tokens)]
    out = array("l", compress(tokens, keep))
    while out and out[-1] == BLANK:
        out.pop()
    return out


def _runs(units: _Units, tokens: array[int]) -> list[tuple[int, int]]:
    """[start, end) index ranges of consecutive entry units of one domain."""
    runs: list[tuple[int, int]] = []
    domains = units.domains
    start, prev = 0, -1
    for i, tok in enumerate(tokens):
        if tok < 0 or prev < 0 or domains[tok] != domains[prev]:
            if prev >= 0:
                runs.append((start, i))
            start = i
        prev = tok
    if prev >= 0:
        runs.append((start, len(tokens)))
    return runs


def _catch_alls_last(units: _Units, tokens: array[int]) -> None:
    """In each run, the catch-all moves to the end (in place); a banner stays on top."""
    catch_alls = units.catch_alls
    for start, end in _runs(units, tokens):
        run = tokens[start:end]
        last = [t for t in run if t in catch_alls]
        if not last or (len(last) == 1 and run[-1] == last[0]):
            continue  # (nearly every run: none, or at the end already)
        rest = [t for t in run if t not in catch_alls]
        if rest and run[0] in catch_alls and units.comments_of(run[0]):
            # The comments above a run's first line head the run (a banner): they stay on top.
            banner = units.comments_of(run[0])
            units.moved[run[0]] = []
            units.moved[rest[0]] = [*banner, *units.comments_of(rest[0])]
        tokens[start:end] = array("l", rest + last)


def _transitions(units: _Units, tokens: array[int]) -> list[tuple[int, bool]]:
    """(index of the second unit, blank line before it) where consecutive entries change domain."""
    found = []
    domains = units.domains
    prev = -1
    blank = False
    for i, tok in enumerate(tokens):
        if tok == BLANK:
            blank = True
            continue
        if tok < 0:
            continue
        if prev >= 0 and domains[prev] != domains[tok]:
            found.append((i, blank))
        prev, blank = tok, False
    return found


def _separates_domains(units: _Units, tokens: array[int]) -> bool:
    counts = Counter(blank for _, blank in _transitions(units, tokens))
    return counts[True] > 0 and counts[True] >= counts[False]


def _separate_domains(units: _Units, tokens: array[int]) -> array[int]:
    out = array("l")
    done = 0
    for i, blank in _transitions(units, tokens):
        if not blank:
            out.extend(tokens[done:i])
            out.append(BLANK)
            done = i
    out.extend(tokens[done:])
    return out


def _render(units: _Units, tokens: array[int], align: bool) -> str:
    table = units.table
    keys, values, line_of = table.keys, table.values, table.source_line
    width = max(map(len, keys), default=0) + 1
    lines: list[str] = []
    for tok in tokens:
        if tok == BLANK:
            lines.append("")
            continue
        ranges = units.comments_of(tok) if tok >= 0 else [units.blocks[-2 - tok]]
        for first, last in ranges:
            lines.extend(map(line_of, range(first, last + 1)))
        if tok >= 0:
            key, value = keys[tok], values[tok]
            line = key.ljust(width) + value if align else f"{key}\t{value}"
            if len(line) > MAX_LINE:  # padding must not make makemap reject the line
                line = f"{key}\t{value}"
            lines.append(line)
    if lines:
        lines.append("")  # (the last newline)
    return "\n".join(lines)


def _check_same_records(before: Table, text: str) -> None:
    """The formatted text's records and comments are the source's (compared as sorted hashes:
    a million records as tuples in two Counters would cost more than the table)."""
    after = parse_text(text, before.path)
    if after.rejected or _fingerprint(after) != _fingerprint(before):
        raise FormatRefused(f"{before.path}: internal error: formatting would change the records; "
                            "the file is left as it is (please report this)")


def _fingerprint(table: Table) -> tuple[list[int], list[int]]:
    return (sorted(map(hash, zip(table.keys, table.values))),
            sorted(map(hash, (c.text for c in table.comments))))
