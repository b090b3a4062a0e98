"""Which process runs which rule: a large table's lint in two processes.

On a large table the heavy rules (``HEAVY``: they follow forwards through the whole
table) run in a helper process at the same time as the others, after the facts both
groups need are built once (the key index itself in a helper). Beside the build's map
writer, which builds the key index, every rule runs here instead: the rules that look
keys up (``LOOKUPS``) first, then their lookups are freed before the writer's cache grows.
The diagnostics are those of :func:`virtc.lint.runner.lint_table` (tested).
"""

from __future__ import annotations

from collections.abc import Callable

from virtc.deploy.deployment import Deployment
from virtc.diagnostics import Diagnostic
from virtc.lint import runner
from virtc.lint.config import LintConfig
from virtc.lint.facts import index
from virtc.speed import memory, parallel
from virtc.speed.gcpause import paused_gc
from virtc.speed.keyindex import KeyIndexParts
from virtc.table import Table


def lint_table(table: Table, config: LintConfig | None = None,
               local_domains: frozenset[str] | Deployment | None = None, *, jobs: int | None = None,
               key_index: Callable[[], KeyIndexParts] | None = None) -> list[Diagnostic]:
    """:func:`virtc.lint.runner.lint_table`, in two processes where that pays.

    ``jobs`` is ``-j`` (see :func:`virtc.speed.parallel.use_helper`). ``key_index`` waits
    for the key index from a helper process that has other work after it (the build's
    map writer): then every rule runs here.
    """
    large = key_index is None and parallel.use_helper(len(table.entries), jobs)
    if key_index is None and not large:
        return runner.lint_table(table, config, local_domains)
    run = runner.start(table, config, local_domains)
    active = run.active
    with paused_gc():
        if key_index is not None:
            facts = index(table, run.ctx)
            facts.prepare(key_index)
            out = runner.run_rules(run, [r for r in active if r.lookups])
            facts.drop_lookups(run.ctx)
            memory.give_back()
            out += runner.run_rules(run, [r for r in active if not r.lookups])
        else:
            with parallel.Helper(lambda: table.key_index.parts()) as job:
                index(table, run.ctx).prepare(job.result)
            out = parallel.run_both(lambda: runner.run_rules(run, [r for r in active if not r.heavy]),
                                    lambda: runner.run_rules(run, [r for r in active if r.heavy]),
                                    parallel=True)
    return runner.finish(run, out)
