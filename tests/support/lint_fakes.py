"""Small fake lint rules, so the lint front end is tested independently of the real rules.

``use_fake_rules(monkeypatch)`` makes the registry return VT001 (real), VT002
(unused-suppression, real) and the fakes below.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from virtc.diagnostics import Fix, Severity
from virtc.lint import registry, suppress
from virtc.lint.rule import Finding, LintContext, Rule
from virtc.lint.rules import vt001_syntax_error
from virtc.model import Entry
from virtc.table import Table

DOC = """{summary}

What it does
    Test rule.

Why is this bad
    It is a test.

Example
    ```
    a@x.test  bad
    ```

Use instead
    ```
    a@x.test  good
    ```
"""


def _bad_value(table: Table, ctx: LintContext) -> Iterator[Finding]:
    for e in table.entries:
        if e.value_text == "bad":
            yield Finding(e.line, e.value_column, e.line, e.end_column, "value is 'bad'",
                          help="write a good value")


def _trailing(table: Table, ctx: LintContext) -> Iterator[Finding]:
    for e in table.entries:
        stripped = e.value_text.rstrip(" \t\r")
        if stripped != e.value_text:
            line = table.source_line(e.line)
            cut = len(line) - (len(e.value_text) - len(stripped))
            yield Finding(e.line, e.value_column + len(stripped), e.line, e.end_column,
                          "trailing whitespace", fix=Fix(e.line, e.line, line[:cut] + "\n", "strip it"))


def _info_key(table: Table, ctx: LintContext) -> Iterator[Finding]:
    for e in table.entries:
        if e.key_text.startswith("info"):
            yield Finding(e.line, e.column, e.line, e.column + len(e.key_text), "an info key")


def _catch_all(table: Table, ctx: LintContext) -> Iterator[Finding]:
    domains: dict[str, list[Entry]] = {}
    for e in table.entries:
        domains.setdefault(e.key.folded_domain, []).append(e)
    for dom, entries in domains.items():
        if any(e.key_text.startswith("@") for e in entries):
            continue
        last = max(e.line for e in entries)
        first = entries[0]
        yield Finding(first.line, first.column, first.line, first.value_column - 1,
                      f"no catch-all for {dom}",
                      fix=Fix(last + 1, last, f"@{dom}\t{ctx.config.catch_all}\n", f"add @{dom}", "unsafe"))


def _exact_duplicate(table: Table, ctx: LintContext) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    for e in table.entries:
        line = table.source_line(e.line)
        if line in seen:
            yield Finding(e.line, 1, e.line, len(line) + 1, f"repeats line {seen[line]}",
                          fix=Fix(e.line, e.line, "", "delete it"))
        else:
            seen[line] = e.line


def _rule(code: str, name: str, severity: Severity, check: object) -> Rule:
    summary = f"Fake rule {name}."
    return Rule(code, name, severity, summary, DOC.format(summary=summary), check)  # type: ignore[arg-type]


FAKES = (
    _rule("VT901", "bad-value", Severity.ERROR, _bad_value),
    _rule("VT902", "trailing-space", Severity.WARNING, _trailing),
    _rule("VT903", "info-key", Severity.INFO, _info_key),
    _rule("VT904", "no-catch-all", Severity.WARNING, _catch_all),
    _rule("VT905", "exact-duplicate", Severity.WARNING, _exact_duplicate),
)


def fake_rules() -> tuple[Rule, ...]:
    return (Rule.from_module(vt001_syntax_error), suppress.RULE, *FAKES)


def use_fake_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "all_rules", fake_rules)


def _not_local(table: Table, ctx: LintContext) -> Iterator[Finding]:
    if ctx.local_domains is None:
        return
    for e in table.entries:
        if e.key.folded_domain not in ctx.local_domains:
            yield Finding(e.line, e.column, e.line, e.value_column - 1, f"{e.key.folded_domain} not local")


FAKES = (*FAKES, _rule("VT906", "not-local", Severity.WARNING, _not_local))


@dataclass
class Result:
    rc: int
    out: str
    err: str


class Cli:
    """Runs ``virtc`` in-process through ``virtc.cli.main`` (its exit-code mapping included)."""

    def __init__(self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
        self.capsys, self.monkeypatch = capsys, monkeypatch
        monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
        monkeypatch.delenv("NO_COLOR", raising=False)

    def __call__(self, *args: object) -> Result:
        from virtc.cli import main

        self.monkeypatch.setattr(sys, "argv", ["virtc", *map(str, args)])
        try:
            main()
            rc = 0
        except SystemExit as exc:
            rc = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = self.capsys.readouterr()
        return Result(rc, out, err)
