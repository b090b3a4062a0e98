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
from virtc.deploy.deployment import Deployment, load_deployment
from virtc.diagnostics import Diagnostic
from virtc.lint import registry
from virtc.lint.config import LintConfig, config_for
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
          local_domains: frozenset[str] | Deployment | None = None) -> Run:
    """The run's settings. Without ``config``, the configuration file that applies to
    ``table.path`` is used when that path is a file on disk (so ``virtc build`` honours
    it too). ``local_domains`` is the deployment (or only its local domains); without it,
    what the configuration names is read (see :func:`deployment_for`)."""
    if config is None:
        config = config_for(table.path) if Path(table.path).is_file() else LintConfig()
    if isinstance(local_domains, Deployment):
        dep = local_domains
    elif local_domains is not None:
        dep = Deployment(local_domains=local_domains)
    else:
        dep = deployment_for(table.path, config)
    rules = registry.all_rules()
    enabled = frozenset(r.code for r in rules if config.enabled(r.code))
    progress.current().phase("linting", len(enabled))
    ctx = LintContext(config, dep.local_domains, dep.host_names, dep.virthost_only, mailboxes=dep.mailboxes,
                      local_checks_users=dep.local_checks_users,
                      entire_domain=dep.cf.virthost if dep.cf and dep.entire_domain else frozenset(),
                      ldap=_serves_from_ldap(config, dep))
    return Run(table, config, ctx, rules, enabled)


def _serves_from_ldap(config: LintConfig, dep: Deployment) -> bool:
    if config.target is not None:
        return config.target == "ldap"
    return dep.cf is not None and dep.cf.virtuser is not None and dep.cf.virtuser.type == "ldap"


def deployment_for(table_path: str, config: LintConfig) -> Deployment:
    """The deployment the configuration names (a sendmail.cf beside the table if none)."""
    return load_deployment(table_path, sendmail_cf=config.sendmail_cf, local_domains=config.local_domains,
                           users=config.users, aliases=config.aliases, mailboxes=config.mailboxes)


def run_rules(run: Run, group: list[Rule], share: tuple[int, int] = (0, 1)) -> list[Diagnostic]:
    """The diagnostics of ``group``'s rules, severities overridden as configured (of a
    ``SPLIT`` rule, those of its ``share``: see :attr:`LintContext.share`)."""
    out: list[Diagnostic] = []
    bar = progress.current()
    table, config = run.table, run.config
    run.ctx.share = share
    try:
        for rule in group:
            override = config.severities.get(rule.code)
            for f in rule.check(table, run.ctx):
                out.append(Diagnostic(
                    table.path, f.line, f.column, f.end_line, f.end_column, rule.code, rule.name,
                    override or f.severity or rule.severity, f.message, f.fix, f.help,
                ))
            if not share[0]:
                bar.advance()
    finally:
        run.ctx.share = (0, 1)
    return out


def finish(run: Run, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Suppressions applied (VT002 for unused ones), sorted by position."""
    vt002 = run.config.severities.get("VT002")
    out = apply_suppressions(run.table, diagnostics, run.rules, run.enabled, *([vt002] if vt002 else []))
    return sorted(out, key=Diagnostic.sort_key)


def lint_table(table: Table, config: LintConfig | None = None,
               local_domains: frozenset[str] | Deployment | None = None) -> list[Diagnostic]:
    """All diagnostics for one parsed table, sorted by position (see :func:`start`)."""
    run = start(table, config, local_domains)
    with paused_gc():  # the shared facts hold columns of a million items
        return finish(run, run_rules(run, run.active))
