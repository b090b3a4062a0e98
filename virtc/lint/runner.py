"""Run the rules over a table and turn their findings into diagnostics.

The runner owns everything rules must not decide: which rules run, severity
overrides, suppression comments (and VT002 for unused ones). Rules -> diagnostics
-> suppressions -> sorted, in this process; :mod:`virtc.lint.schedule` splits the
same work between two processes for a large table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from virtc import progress
from virtc.diagnostics import Diagnostic
from virtc.lint import registry
from virtc.lint.config import LintConfig, config_for, read_local_domains
from virtc.lint.rule import LintContext, Rule
from virtc.lint.suppress import apply_suppressions
from virtc.speed.gcpause import paused_gc
from virtc.table import Table


@dataclass
class Run:
    """One lint run's settings: what :func:`run_rules` and :func:`finish` share."""

    table: Table
    config: LintConfig
    ctx: LintContext
    rules: tuple[Rule, ...]
    enabled: frozenset[str]

    @property
    def active(self) -> list[Rule]:
        return [r for r in self.rules if r.code in self.enabled]


def start(table: Table, config: LintConfig | None = None,
          local_domains: frozenset[str] | None = None) -> Run:
    """The run's settings. Without ``config``, the configuration file that applies to
    ``table.path`` is used when that path is a file on disk (so ``virtc build`` honours
    it too); without ``local_domains``, the file named by the configuration is read."""
    if config is None:
        config = config_for(table.path) if Path(table.path).is_file() else LintConfig()
    if local_domains is None and config.local_domains is not None:
        local_domains = read_local_domains(config.local_domains)
    rules = registry.all_rules()
    enabled = frozenset(r.code for r in rules if config.enabled(r.code))
    progress.current().phase("linting", len(enabled))
    from virtc.deploy.host import own_names

    return Run(table, config, LintContext(config, local_domains, own_names()), rules, enabled)


def run_rules(run: Run, group: list[Rule]) -> list[Diagnostic]:
    """The diagnostics of ``group``'s rules, severities overridden as configured."""
    out: list[Diagnostic] = []
    bar = progress.current()
    table, config = run.table, run.config
    for rule in group:
        override = config.severities.get(rule.code)
        for f in rule.check(table, run.ctx):
            out.append(Diagnostic(
                table.path, f.line, f.column, f.end_line, f.end_column, rule.code, rule.name,
                override or f.severity or rule.severity, f.message, f.fix, f.help,
            ))
        bar.advance()
    return out


def finish(run: Run, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Suppressions applied (VT002 for unused ones), sorted by position."""
    vt002 = run.config.severities.get("VT002")
    out = apply_suppressions(run.table, diagnostics, run.rules, run.enabled, *([vt002] if vt002 else []))
    return sorted(out, key=Diagnostic.sort_key)


def lint_table(table: Table, config: LintConfig | None = None,
               local_domains: frozenset[str] | None = None) -> list[Diagnostic]:
    """All diagnostics for one parsed table, sorted by position (see :func:`start`)."""
    run = start(table, config, local_domains)
    with paused_gc():  # the shared facts hold columns of a million items
        return finish(run, run_rules(run, run.active))
