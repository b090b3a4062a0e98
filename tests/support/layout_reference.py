"""The reference for :mod:`virtc.layout`: the same layout one object a line (an Entry,
a Unit and a Python list per line), as it was written first. Tests check that the
columnar one gives the same text (or refuses the same files; the refusal itself, which
did not change, is the layout's own)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from virtc.layout import FormatRefused
from virtc.layout import _refuse_unsafe as _refuse_unsafe  # (unchanged: the layout is what differs)
from virtc.model import Comment, Entry, KeyKind, fold
from virtc.source.parse import parse_text
from virtc.source.reader import MAX_LINE
from virtc.table import Table


@dataclass
class Unit:
    """An entry with the comment lines right above it, or a free-standing comment block."""

    comments: list[str] = field(default_factory=list)
    entry: Entry | None = None

    @property
    def domain(self) -> str | None:
        return fold(self.entry.key.domain) if self.entry is not None else None


BLANK = None
"""A blank line in the token stream (between units)."""


def format_table(table: Table, *, align: bool = False) -> str:
    """The canonical text of ``table`` (see the module docstring); raises FormatRefused."""
    _refuse_unsafe(table)
    tokens = _collapse_blanks(_tokens(table))
    tokens = _catch_alls_last(tokens)
    if _separates_domains(tokens):
        tokens = _separate_domains(tokens)
    text = _render(tokens, align)
    _check_same_records(table, text)
    return text


def _tokens(table: Table) -> list[Unit | None]:
    by_line: dict[int, Entry | Comment] = {}
    for entry_or_comment in table.items:
        if isinstance(entry_or_comment, (Entry, Comment)):
            by_line[entry_or_comment.line] = entry_or_comment
    physical = table.text.split("\n")
    if physical[-1] == "":
        physical.pop()
    tokens: list[Unit | None] = []
    pending: list[str] = []
    for number, text in enumerate(physical, 1):
        item = by_line.get(number)
        if isinstance(item, Comment):
            pending.append(text)
        elif isinstance(item, Entry):
            tokens.append(Unit(pending, item))
            pending = []
        elif text == "":
            if pending:
                tokens.append(Unit(pending))
                pending = []
            tokens.append(BLANK)
        else:  # pragma: no cover - every other line is a VT001 error, refused above
            raise FormatRefused(f"{table.path}:{number}: line not understood")
    if pending:
        tokens.append(Unit(pending))
    return tokens


def _collapse_blanks(tokens: list[Unit | None]) -> list[Unit | None]:
    out: list[Unit | None] = []
    for tok in tokens:
        if tok is BLANK and (not out or out[-1] is BLANK):
            continue
        out.append(tok)
    while out and out[-1] is BLANK:
        out.pop()
    return out


def _runs(tokens: list[Unit | None]) -> list[tuple[int, int]]:
    """[start, end) index ranges of consecutive entry units of one domain."""
    runs: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(tokens) + 1):
        prev = tokens[i - 1]
        cur = tokens[i] if i < len(tokens) else BLANK
        if (cur is BLANK or prev is BLANK or cur.entry is None or prev.entry is None
                or cur.domain != prev.domain):
            if prev is not BLANK and prev.entry is not None:
                runs.append((start, i))
            start = i
    return runs


def _catch_alls_last(tokens: list[Unit | None]) -> list[Unit | None]:
    out = list(tokens)
    for start, end in _runs(tokens):
        run = [t for t in tokens[start:end] if t is not BLANK]
        last = [t for t in run if t.entry is not None and t.entry.key.kind is KeyKind.CATCH_ALL]
        rest = [t for t in run if t not in last]
        if rest and run[0] in last and run[0].comments:
            # The comments above a run's first line head the run (a banner): they stay on top.
            banner = run[0].comments
            last = [replace(run[0], comments=[]), *last[1:]]
            rest[0] = replace(rest[0], comments=[*banner, *rest[0].comments])
        out[start:end] = rest + last
    return out


def _transitions(tokens: list[Unit | None]) -> list[tuple[int, bool]]:
    """(index of the second unit, blank line before it) where consecutive entries change domain."""
    found = []
    prev: Unit | None = None
    blank = False
    for i, tok in enumerate(tokens):
        if tok is BLANK:
            blank = True
            continue
        if tok.entry is None:
            continue
        if prev is not None and prev.domain != tok.domain:
            found.append((i, blank))
        prev, blank = tok, False
    return found


def _separates_domains(tokens: list[Unit | None]) -> bool:
    counts = Counter(blank for _, blank in _transitions(tokens))
    return counts[True] > 0 and counts[True] >= counts[False]


def _separate_domains(tokens: list[Unit | None]) -> list[Unit | None]:
    out = list(tokens)
    for i, blank in reversed(_transitions(tokens)):
        if not blank:
            out.insert(i, BLANK)
    return out


def _render(tokens: list[Unit | None], align: bool) -> str:
    entries = [t.entry for t in tokens if t is not BLANK and t.entry is not None]
    width = max((len(e.key_text) for e in entries), default=0) + 1
    lines: list[str] = []
    for tok in tokens:
        if tok is BLANK:
            lines.append("")
            continue
        lines.extend(tok.comments)
        if tok.entry is not None:
            key, value = tok.entry.key_text, tok.entry.value_text
            line = key.ljust(width) + value if align else f"{key}\t{value}"
            if len(line) > MAX_LINE:  # padding must not make makemap reject the line
                line = f"{key}\t{value}"
            lines.append(line)
    return "".join(line + "\n" for line in lines)


def _check_same_records(before: Table, text: str) -> None:
    after = parse_text(text, before.path)
    if (after.rejected or Counter((e.key_text, e.value_text) for e in after.entries)
            != Counter((e.key_text, e.value_text) for e in before.entries)
            or Counter(c.text for c in after.comments) != Counter(c.text for c in before.comments)):
        raise FormatRefused(f"{before.path}: internal error: formatting would change the records; "
                            "the file is left as it is (please report this)")
