"""Suppression comments, and VT002 for the ones that suppress nothing.

makemap treats ``#`` as a comment only in column 1 (a ``#`` after a value is
part of the value), so directives are own-line comments:

* ``# virtc: disable-next-line VT105, unreachable-detail`` silences those codes
  on the next line that is neither blank nor a comment (so directives stack);
* ``# virtc: disable-file VT101`` silences them in the whole file.

Codes are codes or names, separated by commas and/or blanks; none (or ``all``)
means every rule. Directives are read from the parsed table's comments, so the
rules never see them.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from virtc.diagnostics import Diagnostic, Fix, Severity
from virtc.lint.rule import Finding, LintContext, Rule
from virtc.model import Comment
from virtc.table import Table

CODE = "VT002"
NAME = "unused-suppression"
SEVERITY = Severity.WARNING
DOC = """\
A ``# virtc:`` suppression comment that suppresses nothing.

What it does
    Reports a ``disable-next-line`` or ``disable-file`` directive, or one code
    in it, that silenced no diagnostic; also unknown rule codes and misspelt
    directives. The fix removes the unused codes (the whole comment when none
    is left). Codes of rules that are not selected are not reported.

Why is this bad
    A stale suppression hides the next real problem of that kind on that line,
    and a misspelt one silently does nothing. Directives must be own-line
    comments starting in column 1: makemap reads a ``#`` after a value as part
    of the value.

Example
    ```
    # virtc: disable-next-line VT101
    @example.com          error:5.1.1:550 User unknown
    ```

Use instead
    ```
    @example.com          error:5.1.1:550 User unknown
    ```
"""

_DIRECTIVE = re.compile(r"#\s*virtc\s*:\s*(?P<kind>[A-Za-z-]*)(?P<rest>.*)", re.S)
KINDS = ("disable-next-line", "disable-file")


def _check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    return iter(())  # produced by apply_suppressions, after the other rules ran


RULE = Rule(CODE, NAME, SEVERITY, DOC.splitlines()[0], DOC, _check, fix="safe")


@dataclass
class CodeRef:
    text: str
    """As written."""
    column: int
    codes: frozenset[str] | None
    """Resolved codes; None when unknown."""
    used: bool = False


@dataclass
class Directive:
    line: int
    kind: str
    text: str
    refs: list[CodeRef] = field(default_factory=list)
    all_codes: bool = False
    used: bool = False
    target: int | None = None
    """The line a disable-next-line applies to."""

    def matches(self, code: str) -> list[CodeRef] | None:
        """The refs that cover ``code`` (empty list for a code-less directive), None if none."""
        if self.all_codes:
            return []
        hits = [r for r in self.refs if r.codes is not None and code in r.codes]
        return hits or None


def _resolve(token: str, rules: Sequence[Rule]) -> frozenset[str] | None:
    t = token.lower()
    found = frozenset(r.code for r in rules if t in (r.code.lower(), r.name))
    return found or None


def parse_directives(table: Table, rules: Sequence[Rule]) -> list[Directive]:
    """Every ``# virtc:`` comment of the table, with its codes resolved and target line found."""
    item_lines: list[int] | None = None  # built only if needed (costly on a large table)
    out = []
    for comment in table.comments_with("virtc"):  # (_DIRECTIVE's literal: not every comment)
        m = _DIRECTIVE.fullmatch(comment.text)
        if m is None:
            continue
        d = Directive(comment.line, m["kind"].lower(), comment.text)
        rest_start = m.start("rest")
        for tok in re.finditer(r"[^\s,]+", m["rest"]):
            d.refs.append(CodeRef(tok[0], rest_start + tok.start() + 1, _resolve(tok[0], rules)))
        if not d.refs or (len(d.refs) == 1 and d.refs[0].text.lower() == "all"):
            d.all_codes, d.refs = True, []
        if d.kind == "disable-next-line":
            if item_lines is None:
                item_lines = sorted({i.line for i in table.items if not isinstance(i, Comment)})
            after = bisect_right(item_lines, d.line)  # the first item line > d.line
            d.target = item_lines[after] if after < len(item_lines) else None
        out.append(d)
    return out


def apply_suppressions(table: Table, diagnostics: list[Diagnostic], rules: Sequence[Rule],
                       enabled: frozenset[str], severity: Severity = SEVERITY) -> list[Diagnostic]:
    """Drop suppressed diagnostics; add VT002 for unused directives when VT002 is enabled.

    ``rules`` are all known rules (to resolve names); ``enabled`` the codes that ran.
    """
    directives = parse_directives(table, rules)
    if not directives:
        return diagnostics
    files = [d for d in directives if d.kind == "disable-file"]
    by_target: dict[int, list[Directive]] = {}
    for d in directives:
        if d.kind == "disable-next-line" and d.target is not None:
            by_target.setdefault(d.target, []).append(d)
    kept = []
    for diag in diagnostics:
        if not _suppress(diag, [*files, *by_target.get(diag.line, [])]):
            kept.append(diag)
    if CODE in enabled:
        unused = list(_unused(table.path, directives, enabled, severity))
        kept += [u for u in unused if not _suppress(u, [*files, *by_target.get(u.line, [])], mark=False)]
    return kept


def _suppress(diag: Diagnostic, directives: list[Directive], mark: bool = True) -> bool:
    hit = False
    for d in directives:
        refs = d.matches(diag.code)
        if refs is None:
            continue
        hit = True
        if mark:
            d.used = True
            for r in refs:
                r.used = True
    return hit


def _unused(path: str, directives: list[Directive], enabled: frozenset[str],
            severity: Severity) -> Iterator[Diagnostic]:
    def diag(d: Directive, col: int, end: int, message: str, fix: Fix | None) -> Diagnostic:
        return Diagnostic(path, d.line, col, d.line, end, CODE, NAME, severity, message, fix,
                          fix.description if fix else None)

    for d in directives:
        delete = Fix(d.line, d.line, "", f"delete the comment on line {d.line}")
        if d.kind not in KINDS:
            yield diag(d, 1, len(d.text) + 1,
                       f"unknown virtc directive '{d.kind}' (use {' or '.join(KINDS)}): "
                       "it suppresses nothing",
                       None)
            continue
        if d.all_codes:
            if not d.used and enabled - {CODE}:
                yield diag(d, 1, len(d.text) + 1, f"'{d.kind}' suppresses no diagnostic", delete)
            continue
        # Codes of rules that did not run may well be needed when they do: not reported.
        stale = [r for r in d.refs if r.codes is None or (not r.used and (r.codes & enabled) - {CODE})]
        if not stale:
            continue
        keep = [r.text for r in d.refs if r not in stale]
        fix = (Fix(d.line, d.line, f"# virtc: {d.kind} {', '.join(keep)}\n",
                   f"remove {', '.join(r.text for r in stale)} from the comment") if keep else delete)
        for r in stale:
            what = (f"unknown rule '{r.text}'" if r.codes is None
                    else f"'{r.text}' suppresses no diagnostic")
            yield diag(d, r.column, r.column + len(r.text), f"{d.kind}: {what}", fix)
