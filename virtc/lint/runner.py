"""Run the rules over a table and turn their findings into diagnostics."""

from __future__ import annotations

from virtc.diagnostics import Diagnostic
from virtc.lint.config import LintConfig
from virtc.lint.registry import all_rules
from virtc.lint.rule import LintContext
from virtc.model import Table


def lint_table(table: Table, config: LintConfig | None = None,
               local_domains: frozenset[str] | None = None) -> list[Diagnostic]:
    """All diagnostics for one parsed table, sorted by position."""
    config = config or LintConfig()
    ctx = LintContext(config, local_domains)
    out: list[Diagnostic] = []
    for rule in all_rules():
        if (config.select is not None and rule.code not in config.select) or rule.code in config.ignore:
            continue
        severity = config.severities.get(rule.code, rule.severity)
        for f in rule.check(table, ctx):
            out.append(Diagnostic(
                table.path, f.line, f.column, f.end_line, f.end_column, rule.code, rule.name,
                f.severity or severity, f.message, f.fix, f.help,
            ))
    return sorted(out, key=Diagnostic.sort_key)
