"""Running one rule over its fixtures: what the rule tests share."""

from __future__ import annotations

from pathlib import Path

from support.oracles import TEST_DATA
from virtc.diagnostics import Fix
from virtc.lint.config import LintConfig
from virtc.lint.registry import rule_by_id
from virtc.lint.rule import Finding, LintContext, Rule
from virtc.source.parse import parse_bytes
from virtc.table import Table

DATA = TEST_DATA / "rules"


def local_domains_of(path: Path) -> frozenset[str] | None:
    """A local-host-names file: words of non-comment lines, folded."""
    if not path.exists():
        return None
    words = (w for line in path.read_text().splitlines() if not line.startswith("#") for w in line.split())
    return frozenset(w.lower() for w in words)


def run_rule(rule: Rule, table: Table, local_domains: frozenset[str] | None = None,
             config: LintConfig | None = None, mailboxes: frozenset[str] | None = None,
             ldap: bool = False) -> list[Finding]:
    ctx = LintContext(config or LintConfig(), local_domains, mailboxes=mailboxes, ldap=ldap)
    return sorted(rule.check(table, ctx), key=lambda f: (f.line, f.column, f.message))


def render(rule: Rule, findings: list[Finding]) -> str:
    out = []
    for f in findings:
        sev = f.severity or rule.severity
        out.append(f"{f.line}:{f.column}-{f.end_line}:{f.end_column} {sev} {f.message}")
        if f.help:
            out.append(f"  help: {f.help}")
        if f.fix:
            out.append(f"  fix {f.fix.line}-{f.fix.end_line} {f.fix.replacement!r}: {f.fix.description}")
    return "".join(line + "\n" for line in out)


def apply_fix(text: str, fix: Fix) -> str:
    """Apply one whole-line fix (the runner's --fix applies them all; this is enough here)."""
    lines = text.splitlines(keepends=True)
    return "".join(lines[: fix.line - 1]) + fix.replacement + "".join(lines[fix.end_line:])


def lint_file(code: str, name: str) -> tuple[Rule, Table, list[Finding]]:
    rule = rule_by_id(code)
    assert rule is not None, f"no rule {code}"
    path = DATA / code / name
    table = parse_bytes(path.read_bytes(), str(path))
    mailboxes = DATA / code / "mailboxes"
    names = frozenset(mailboxes.read_text().split()) if mailboxes.exists() else None
    # A ``target`` file saying ``ldap``: the map is served from LDAP (the VT3xx rules).
    target = DATA / code / "target"
    ldap = target.exists() and target.read_text().strip() == "ldap"
    return rule, table, run_rule(rule, table, local_domains_of(DATA / code / "local-domains"),
                                 mailboxes=names, ldap=ldap)
