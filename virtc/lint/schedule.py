"""Which process runs which rule: a large table's lint in two processes.

On a large table the rules are shared out between this process and a helper forked
after the facts every rule needs are built (the key index itself in a helper): each
process takes the next unclaimed group of rules (:class:`virtc.speed.parallel.Claims`)
until none is left, so whichever rules are slow on a table, neither process waits while
the other has several to run. Rules that share what they compute run in one group
(VT205's lookups serve VT211); a ``SPLIT`` rule's items are shared out as two groups
(VT101's domains: a table without catch-alls has a finding for each). The helper's
diagnostics come back as plain tuples, a chunk at a time. Beside the build's map writer,
which builds the key index, the rules run here until the writer is done, then a helper
joins in; the rules that look keys up (``LOOKUPS``) come first, and their lookups are
freed before the writer's cache grows.
The diagnostics are those of :func:`virtc.lint.runner.lint_table` (tested).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from functools import cache
from typing import Any

from virtc.deploy.deployment import Deployment
from virtc.diagnostics import Diagnostic, Fix, Severity
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
            _ = table.stored_keys  # folded once, before the fork: shared, not one copy each
            with parallel.Claims(1) as forwards, parallel.Helper(lambda: (
                    table.key_index.parts(), None if forwards.take() is None else facts.forwards)) as job:
                built = cache(job.result)
                facts.prepare(lambda: built()[0], lambda: None if forwards.take() is not None else built()[1])
            out = _share(run, lambda: True, free_lookups=False)
        return runner.finish(run, out)  # (sorting 300k findings would start full collections)


SHARES = 2
"""Shares of a ``SPLIT`` rule's items (one for each process)."""


def units(rules: list[Rule]) -> list[tuple[list[Rule], tuple[int, int]]]:
    """``rules`` in the groups processes claim, each with the share of a ``SPLIT`` rule's
    items it checks, the usually slow and the ``LOOKUPS`` ones first: the heavy rules (they
    share the forwards' lookups) as one group, each other rule alone, in :data:`SHARES`
    groups if ``SPLIT``."""
    heavy = [r for r in rules if r.heavy]
    alone = [r for r in rules if r.lookups and not r.heavy] + [r for r in rules if not r.lookups]
    shares = [SHARES if r.split else 1 for r in alone]
    return ([(heavy, (0, 1))] if heavy else []) + [
        ([r], (k, n)) for r, n in zip(alone, shares) for k in range(n)]


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
        if not here:
            run.ctx.checkpoint = _nothing  # (the helper's own rules start nothing)
        for k in claims:
            group, share = groups[k]
            if not freed and not any(r.lookups for r in group):
                facts.drop_lookups(run.ctx)
                memory.give_back()
                freed = True
            out += runner.run_rules(run, group, share)
            if here:
                poll()
        return out

    def poll() -> None:
        """Start the helper once it is allowed (asked here, between groups and between a
        long rule's batches)."""
        if helper is None and helper_allowed():
            start()

    helper: parallel.Helper[list[_Row]] | None = None
    with ExitStack() as stack:
        claims = stack.enter_context(parallel.Claims(len(groups)))

        def start() -> None:
            nonlocal helper
            helper = stack.enter_context(parallel.Helper(lambda: _rows(work(False))))

        poll()
        run.ctx.checkpoint = poll
        try:
            out = work(True)
        finally:
            run.ctx.checkpoint = _nothing
        if helper is not None:
            out += _diagnostics(helper.result())
    return out


def _nothing() -> None:
    pass


_Row = tuple[Any, ...]
_SEVERITIES = {int(s): s for s in Severity}


def _rows(diagnostics: list[Diagnostic]) -> list[_Row]:
    """Diagnostics as plain tuples for the pipe: unpickling a NamedTuple and an enum
    member calls their constructors, some microseconds each (#18: 300k findings). Taken
    apart in place, a chunk at a time (never both forms of all of them at once)."""
    rows: list[Any] = diagnostics
    for i in range(0, len(rows), parallel.CHUNK):
        rows[i:i + parallel.CHUNK] = [(*d[:7], int(d.severity), d.message, d.fix and tuple(d.fix), d.help)
                                     for d in diagnostics[i:i + parallel.CHUNK]]
    return rows


def _diagnostics(rows: list[_Row]) -> list[Diagnostic]:
    """What :func:`_rows` took apart."""
    return [Diagnostic._make((*row[:7], _SEVERITIES[row[7]], row[8], row[9] and Fix._make(row[9]), row[10]))
            for row in rows]
