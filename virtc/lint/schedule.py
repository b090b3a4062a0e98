"""Which process runs which rule: a large table's lint in two processes.

On a large table the rules are shared out between this process and a helper forked
after the facts every rule needs are built (the key index itself in a helper): each
process takes the next unclaimed group of rules (:class:`virtc.speed.parallel.Claims`)
until none is left, so whichever rules are slow on a table, neither process waits while
the other has several to run. Rules that share what they compute run in one group
(VT205's lookups serve VT211). Beside the build's map writer, which builds the key index,
the rules run here until the writer is done, then a helper joins in; the rules that look
keys up (``LOOKUPS``) come first, and their lookups are freed before the writer's cache grows.
The diagnostics are those of :func:`virtc.lint.runner.lint_table` (tested).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from functools import cache

from virtc.deploy.deployment import Deployment
from virtc.diagnostics import Diagnostic
from virtc.lint import runner
from virtc.lint.config import LintConfig
from virtc.lint.facts import index
from virtc.lint.rule import Rule
from virtc.speed import memory, parallel
from virtc.speed.gcpause import paused_gc
from virtc.speed.keyindex import KeyIndexParts
from virtc.table import Table


def lint_table(table: Table, config: LintConfig | None = None,
               local_domains: frozenset[str] | Deployment | None = None, *, jobs: int | None = None,
               key_index: Callable[[], KeyIndexParts] | None = None,
               helper_allowed: Callable[[], bool] | None = None) -> list[Diagnostic]:
    """:func:`virtc.lint.runner.lint_table`, in two processes where that pays.

    ``jobs`` is ``-j`` (see :func:`virtc.speed.parallel.use_helper`). ``key_index`` waits
    for the key index from a helper process that has other work after it (the build's
    map writer); ``helper_allowed`` says when that work is done and a second process may
    share the rules (never, without it).
    """
    large = key_index is None and parallel.use_helper(len(table.entries), jobs)
    if key_index is None and not large:
        return runner.lint_table(table, config, local_domains)
    run = runner.start(table, config, local_domains)
    with paused_gc():
        if key_index is not None:
            index(table, run.ctx).prepare(key_index)
            out = _share(run, helper_allowed or (lambda: False), free_lookups=True)
        else:
            # The forwards are found by whichever process is free first: the helper after the
            # key index, or this one after the domains.
            facts = index(table, run.ctx)
            with parallel.Claims(1) as forwards, parallel.Helper(lambda: (
                    table.key_index.parts(), None if forwards.take() is None else facts.forwards)) as job:
                built = cache(job.result)
                facts.prepare(lambda: built()[0], lambda: None if forwards.take() is not None else built()[1])
            out = _share(run, lambda: True, free_lookups=False)
    return runner.finish(run, out)


def units(rules: list[Rule]) -> list[list[Rule]]:
    """``rules`` in the groups processes claim, the usually slow and the ``LOOKUPS`` ones first:
    the heavy rules (they share the forwards' lookups) as one group, each other rule alone."""
    heavy = [r for r in rules if r.heavy]
    lookups = [[r] for r in rules if r.lookups and not r.heavy]
    rest = [[r] for r in rules if not r.lookups]
    return ([heavy] if heavy else []) + lookups + rest


def _share(run: runner.Run, helper_allowed: Callable[[], bool], *, free_lookups: bool) -> list[Diagnostic]:
    """Every active rule's diagnostics, the groups shared with a helper once ``helper_allowed()``.

    With ``free_lookups``, a process frees the lookups when it claims its first group
    without ``LOOKUPS`` (every group that needs them has been claimed by then).
    """
    groups = units(run.active)
    facts = index(run.table, run.ctx)

    freed = not free_lookups  # (a helper forked later starts with this process's state)

    def work(here: bool) -> list[Diagnostic]:
        nonlocal freed
        out: list[Diagnostic] = []
        for k in claims:
            group = groups[k]
            if not freed and not any(r.lookups for r in group):
                facts.drop_lookups(run.ctx)
                memory.give_back()
                freed = True
            out += runner.run_rules(run, group)
            if here and helper is None and helper_allowed():
                start()
        return out

    helper: parallel.Helper[list[Diagnostic]] | None = None
    with ExitStack() as stack:
        claims = stack.enter_context(parallel.Claims(len(groups)))

        def start() -> None:
            nonlocal helper
            helper = stack.enter_context(parallel.Helper(lambda: work(False)))

        if helper_allowed():
            start()
        out = work(True)
        if helper is not None:
            out += helper.result()
    return out
