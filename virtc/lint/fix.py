"""Apply the rules' fixes to a source, byte-exact everywhere else.

Only safe fixes unless ``unsafe`` is set (``--unsafe-fixes``), as ruff does.

Sources are Latin-1 decoded text, so lines are split on ``\\n`` only: a CR, a
form feed or an 8-bit byte is just a character of its line and survives as is.
Fixes whose line ranges overlap are not applied together: the first one (in
file order) wins, the source is linted again and the loop repeats until no fix
is left (bounded), as ruff does.
"""

from __future__ import annotations

import difflib
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import repeat

from virtc.diagnostics import Diagnostic, Fix
from virtc.source.parse import parse_text
from virtc.table import Table

MAX_ROUNDS = 10


def _split(text: str) -> tuple[list[str], bool]:
    """Lines without their ``\\n``, and whether the text ends with one."""
    if not text:
        return [], True
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
        return lines, True
    return lines, False


def _span(fix: Fix) -> tuple[int, int]:
    """Half-open range of 0-based line indexes the fix replaces (empty for an insertion)."""
    return fix.line - 1, max(fix.end_line, fix.line - 1)


def apply_fixes(text: str, fixes: Iterable[Fix]) -> tuple[str, list[Fix]]:
    """Apply the non-overlapping fixes (first in file order wins); return the text and those applied.

    Two insertions at one place overlap (their order would be arbitrary), as do an
    insertion inside a replaced range and two replaced ranges that share a line. Fixes
    come in file order, so one pass decides (#18: checking each fix against every one
    chosen, and splicing each into the list of lines, took 158 s for 28k catch-all fixes).
    """
    lines, final_newline = _split(text)
    chosen: list[Fix] = []
    # A fix's first line; the furthest line replaced by the fixes chosen that start before
    # it, and by those that start at it; the lines inserted before.
    here = reach = reach_here = 0
    inserted: set[int] = set()
    for fix in sorted(set(fixes), key=lambda f: (f.line, f.end_line, f.replacement)):
        start, stop = _span(fix)
        if start < 0 or stop > len(lines):
            continue  # out of range: a stale fix, never guess
        if start != here:
            here, reach, reach_here = start, max(reach, reach_here), 0
        if start == stop:  # an insertion
            if start < reach or start in inserted:
                continue
            inserted.add(start)
        else:
            if start < max(reach, reach_here):
                continue
            reach_here = max(reach_here, stop)
        chosen.append(fix)
    if any(_span(f)[1] == len(lines) for f in chosen):
        final_newline = True  # a fix at the end: its lines end in newlines, as do the others
    out: list[str] = []
    done = 0  # lines copied or replaced so far
    for fix in sorted(chosen, key=_span):  # (an insertion before a range replaced at its line)
        start, stop = _span(fix)
        out += lines[done:start]
        out += _split(fix.replacement)[0]
        done = stop
    out += lines[done:]
    if not out:
        return "", chosen
    return "\n".join(out) + ("\n" if final_newline else ""), chosen


@dataclass
class FixResult:
    table: Table
    """The fixed source, parsed."""
    initial: list[Diagnostic]
    """The diagnostics before fixing."""
    applied: list[Fix] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    """What remains after fixing (the lint of ``table``)."""

    @property
    def text(self) -> str:
        return self.table.text

    @property
    def changed(self) -> bool:
        return bool(self.applied)


def applies(fix: Fix | None, unsafe: bool) -> bool:
    """Whether ``--fix`` applies ``fix`` (unsafe ones only with ``--unsafe-fixes``)."""
    return fix is not None and (unsafe or fix.applicability == "safe")


def fix_source(table: Table, lint: Callable[[Table], list[Diagnostic]], unsafe: bool = False) -> FixResult:
    """Fix, re-lint and repeat until nothing is left to fix (at most MAX_ROUNDS rounds)."""
    initial = diagnostics = lint(table)
    applied: list[Fix] = []
    for _ in range(MAX_ROUNDS):
        fixes = [d.fix for d in diagnostics if d.fix is not None and applies(d.fix, unsafe)]
        if not fixes:
            break
        new_text, done = apply_fixes(table.text, fixes)
        if not done or new_text == table.text:
            break
        applied += done
        table = parse_text(new_text, table.path)
        diagnostics = lint(table)
    return FixResult(table, initial, applied, diagnostics)


def unified_diff(path: str, old: str, new: str) -> str:
    """A ``patch``-compatible unified diff of two sources (Latin-1 text), as ``a/`` and ``b/``."""
    return text_diff(old, new, f"a/{path}", f"b/{path}")


def text_diff(old: str, new: str, fromfile: str, tofile: str) -> str:
    """A ``patch``-compatible unified diff of two Latin-1 texts: lines end at ``\n`` only (a
    CR, VT or NEL is part of its line, as for makemap), a missing last newline is marked."""
    a_lines, b_lines = _LINE.findall(old), _LINE.findall(new)  # (not split, then + "\n": twice the strings)
    out = []
    for line in diff_lines(a_lines, b_lines, fromfile, tofile):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")
"""A line with its newline, or the text after the last newline (lines end at ``\n`` only)."""


def diff_lines(a: list[str], b: list[str], fromfile: str, tofile: str, n: int = 3) -> Iterator[str]:
    """``difflib.unified_diff(a, b, fromfile, tofile, n=n)`` (lines with their newlines),
    matched as :func:`matching_blocks` says: in time that grows with the lines, not their
    square."""
    matcher = _Anchored(a, b)
    for k, group in enumerate(matcher.get_grouped_opcodes(n)):
        if not k:
            yield f"--- {fromfile}\n"
            yield f"+++ {tofile}\n"
        first, last = group[0], group[-1]
        yield f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n"
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                yield from (" " + line for line in a[i1:i2])
                continue
            yield from ("-" + line for line in a[i1:i2])
            yield from ("+" + line for line in b[j1:j2])


def _range(start: int, stop: int) -> str:
    """A hunk's line range as unified diffs write it (difflib's rule)."""
    length = stop - start
    if length == 1:
        return f"{start + 1}"
    return f"{start + 1 if length else start},{length}"


class _Anchored(difflib.SequenceMatcher):  # type: ignore[type-arg]
    """A SequenceMatcher given its matching blocks (no index of ``b``, no longest-match search)."""

    def __init__(self, a: list[str], b: list[str]) -> None:
        self.a, self.b = a, b
        self.matching_blocks = matching_blocks(a, b)
        self.opcodes = None


def matching_blocks(a: Sequence[str], b: Sequence[str]) -> list[tuple[int, int, int]]:
    """``difflib.SequenceMatcher(None, a, b).get_matching_blocks()``'s kind of answer, anchored
    on the lines that occur once in each, in the same order (a patience diff): difflib alone
    took 223 s on 100k lines with 28k catch-alls added (#18). Between anchors, difflib."""
    # Each line's only position, -1 for one seen twice: one dict a side (three took 0.2 GB
    # more at 1M lines); a's, in insertion order, ascends in its positions.
    in_a, in_b = _once(a), _once(b)
    pairs = [(i, j) for i, j in zip(in_a.values(), map(in_b.get, in_a, repeat(-1))) if i >= 0 and j >= 0]
    blocks: list[tuple[int, int, int]] = []
    i0 = j0 = 0
    for i, j in [*_increasing(pairs), (len(a), len(b))]:
        if i > i0 and j > j0:  # lines on both sides between two anchors
            inner = difflib.SequenceMatcher(None, a[i0:i], b[j0:j], autojunk=False)
            blocks += [(i0 + x, j0 + y, size) for x, y, size in inner.get_matching_blocks() if size]
        blocks.append((i, j, 1))
        i0, j0 = i + 1, j + 1
    blocks[-1] = (len(a), len(b), 0)
    merged: list[tuple[int, int, int]] = []
    for i, j, size in blocks:
        if merged and merged[-1][0] + merged[-1][2] == i and merged[-1][1] + merged[-1][2] == j and size:
            merged[-1] = (merged[-1][0], merged[-1][1], merged[-1][2] + size)
        else:
            merged.append((i, j, size))
    return merged


def _once(lines: Sequence[str]) -> dict[str, int]:
    """Each line's position if it occurs once, else -1, in the order of first occurrence."""
    out: dict[str, int] = {}
    for i, line in enumerate(lines):
        out[line] = -1 if line in out else i
    return out


def _increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest run of ``pairs`` (ascending by the first) whose seconds ascend too
    (patience sorting, O(n log n))."""
    tails: list[int] = []  # per length, the smallest second that ends such a run
    ends: list[int] = []  # per length, the index in pairs of that run's last pair
    before = [-1] * len(pairs)
    for k, (_, j) in enumerate(pairs):
        at = bisect_left(tails, j)
        if at == len(tails):
            tails.append(j)
            ends.append(k)
        else:
            tails[at], ends[at] = j, k
        before[k] = ends[at - 1] if at else -1
    out: list[tuple[int, int]] = []
    k = ends[-1] if ends else -1
    while k >= 0:
        out.append(pairs[k])
        k = before[k]
    return out[::-1]
