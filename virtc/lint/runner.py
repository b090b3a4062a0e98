"""Run the rules over a table and turn their findings into diagnostics.

The runner owns everything rules must not decide: which rules run, severity
overrides, suppression comments (and VT002 for unused ones).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from virtc import progress
from virtc.diagnostics import Diagnostic
from virtc.errors import VirtcError
from virtc.lint import registry
from virtc.lint.config import LintConfig, config_for, read_local_domains
from virtc.lint.facts import index
from virtc.lint.rule import LintContext, Rule
from virtc.lint.suppress import apply_suppressions
from virtc.model import Table
from virtc.speed import memory, parallel
from virtc.speed.gcpause import paused_gc
from virtc.speed.keyindex import KeyIndexParts


def lint_table(table: Table, config: LintConfig | None = None,
               local_domains: frozenset[str] | None = None, *, jobs: int | None = None,
               key_index: Callable[[], KeyIndexParts] | None = None) -> list[Diagnostic]:
    """All diagnostics for one parsed table, sorted by position.

    Without ``config``, the configuration file that applies to ``table.path`` is
    used when that path is a file on disk (so ``virtc build`` honours it too);
    without ``local_domains``, the file named by the configuration is read.
    ``jobs`` is ``-j`` (see :func:`virtc.speed.parallel.use_helper`). ``key_index`` waits
    for the key index from a helper process that has other work after it (the
    build's map writer): then every rule runs here.
    """
    if config is None:
        config = config_for(table.path) if Path(table.path).is_file() else LintConfig()
    if local_domains is None and config.local_domains is not None:
        local_domains = read_local_domains(config.local_domains)
    ctx = LintContext(config, local_domains)
    rules = registry.all_rules()
    enabled = frozenset(r.code for r in rules if config.enabled(r.code))
    bar = progress.current()
    bar.phase("linting", len(enabled))

    def run(group: list[Rule]) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        for rule in group:
            override = config.severities.get(rule.code)
            for f in rule.check(table, ctx):
                out.append(Diagnostic(
                    table.path, f.line, f.column, f.end_line, f.end_column, rule.code, rule.name,
                    override or f.severity or rule.severity, f.message, f.fix, f.help,
                ))
            bar.advance()
        return out

    active = [r for r in rules if r.code in enabled]
    with paused_gc():  # the shared index holds columns of a million items
        if key_index is not None:  # every rule here, beside the build's map writer
            ix = index(table, ctx)
            ix.prepare(key_index)
            # The rules that look keys up first, then their lookups are freed: the writer's
            # cache grows meanwhile, and the two need not be held at once (9 MB at 1M entries).
            out = run([r for r in active if r.lookups])
            ix.drop_lookups(ctx)
            memory.give_back()
            out += run([r for r in active if not r.lookups])
        else:
            # On a large table the heavy rules run in a helper process, at the same time as the
            # others; the index both groups need is built first, once (itself in two processes).
            large = parallel.use_helper(len(table.entries), jobs)
            if large:
                with parallel.Helper(lambda: table.key_index.parts()) as job:
                    index(table, ctx).prepare(job.result)
            out = parallel.run_both(lambda: run([r for r in active if not r.heavy]),
                                    lambda: run([r for r in active if r.heavy]), parallel=large)
    vt002 = config.severities.get("VT002")
    out = apply_suppressions(table, out, rules, enabled, *([vt002] if vt002 else []))
    return sorted(out, key=Diagnostic.sort_key)


@dataclass
class FileResult:
    """One linted file: its (possibly fixed) table and what remains in it."""

    table: Table
    diagnostics: list[Diagnostic]
    config: LintConfig
    fixed: int = 0
    diff: str = ""

    @property
    def failed(self) -> bool:
        return any(d.severity >= self.config.fail_on for d in self.diagnostics)


def lint_file(path: str, config: LintConfig, local_domains: frozenset[str] | None = None,
              *, fix: bool = False, diff: bool = False, jobs: int | None = None) -> FileResult:
    """Lint one source; with ``fix`` rewrite it (atomically) with the safe fixes applied,
    with ``diff`` only compute the unified diff of those fixes."""
    from virtc.source.parse import parse_file

    if fix and not diff and str(path) == "-":
        raise VirtcError("--fix cannot rewrite standard input (use --diff)")
    table = parse_file(path, jobs=jobs)
    if not (fix or diff):
        return FileResult(table, lint_table(table, config, local_domains, jobs=jobs), config)
    from virtc.lint.fix import fix_source, unified_diff, write_atomically  # 10 ms: only to fix

    result = fix_source(table, lambda t: lint_table(t, config, local_domains, jobs=jobs))
    if diff:
        return FileResult(table, result.initial, config, diff=unified_diff(path, table.text, result.text))
    if result.applied:
        write_atomically(path, result.text)
    return FileResult(result.table, result.diagnostics, config, fixed=len(result.applied))
