"""Which process runs which rule: a large table's lint in two processes.

On a large table the rules are shared out between this process and a helper forked
after the facts every rule needs are built (the key index itself in a helper): each
process takes the next unclaimed group of rules (:class:`virtc.speed.parallel.Claims`)
until none is left, so whichever rules are slow on a table, neither process waits while
the other has several to run. Rules that share what they compute run in one group
(VT205's lookups serve VT211); a ``SPLIT`` rule's items are shared out as two groups
(VT101's domains: a table without catch-alls has a finding for each), and a ``PARTS``
rule's long first pass a part at a time (VT205's lookups: the helper takes the parts left
once no rule is). The helper's
diagnostics come back as plain tuples, a chunk at a time. Beside the build's map writer,
which builds the key index, the rules run here until the writer is done, then a helper
joins in; the rules that look keys up (``LOOKUPS``) come first, and their lookups are
freed before the writer's cache grows.
The diagnostics are those of :func:`virtc.lint.runner.lint_table` (tested).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from functools import cache
from typing import Any

from virtc.compat import zip_strict
from virtc.deploy.deployment import Deployment
from virtc.diagnostics import Diagnostic, Fix, Severity
from virtc.lint import runner
from virtc.lint.config import LintConfig
from virtc.lint.facts import COLUMN_FACTS, index
from virtc.lint.rule import Rule, SharedParts
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
            # The column facts (the forwards first) are found by whichever process is free
            # first: the helper after the key index, or this one after the domains.
            facts = index(table, run.ctx)
            _ = table.stored_keys  # folded once, before the fork: shared, not one copy each
            with parallel.Claims(len(COLUMN_FACTS)) as claims, parallel.Helper(lambda: (
                    table.key_index.parts(), facts.column_facts(claims))) as job:
                built = cache(job.result)
                facts.prepare(lambda: built()[0], (claims, lambda: built()[1]))
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
    ran: set[str] = set()  # (the rules this process ran)

    def work(here: bool) -> list[Diagnostic]:
        nonlocal freed
        out: list[Diagnostic] = []
        if not here:  # (the helper's own rules start nothing and do every part of theirs)
            run.ctx.checkpoint, run.ctx.parts = _nothing, _no_parts
            ran.clear()
        for k in claims:
            group, share = groups[k]
            if not freed and not any(r.lookups for r in group):
                facts.drop_lookups(run.ctx)
                memory.give_back()
                freed = True
            out += runner.run_rules(run, group, share)
            ran.update(r.code for r in group)
            if here:
                poll()
        return out

    def poll() -> None:
        """Start the helper once it is allowed (asked here, between groups and between a
        long rule's batches)."""
        if helper is None and helper_allowed():
            start()

    helper: parallel.Helper[Any] | None = None
    # A PARTS rule's parts, claimed by whichever process runs it and, once it has no rule
    # left to run, by the helper; the helper sends what it did of each (maybe nothing), then
    # its diagnostics.
    parted = [(r, r.parts) for r in run.active if r.parts is not None]
    counts = [parts(run.table, run.ctx) for _, (parts, _) in parted]
    got: dict[str, list[Any]] = {}

    def helped() -> Iterator[Any]:
        rows = _rows(work(False))
        # (Not after freeing the lookups, as beside the build's writer: parts look keys up.)
        lookups_freed = free_lookups and freed
        for (rule, (_, part)), numbers in zip_strict(parted, part_claims):
            yield [] if rule.code in ran or lookups_freed else [part(run.table, run.ctx, k) for k in numbers]
        yield rows

    def others(code: str) -> list[Any]:
        while code not in got:
            got[parted[len(got)][0].code] = helper.result()  # type: ignore[union-attr]
        found, got[code] = got[code], []  # (taken: not kept)
        return found

    def shared(code: str) -> SharedParts | None:
        for (rule, _), numbers, n in zip_strict(parted, part_claims, counts):
            if rule.code == code:
                return _Shared(numbers, n, lambda: [] if helper is None else others(code))
        return None

    with ExitStack() as stack:
        claims = stack.enter_context(parallel.Claims(len(groups)))
        part_claims = [stack.enter_context(parallel.Claims(n)) for n in counts]

        def start() -> None:
            nonlocal helper
            made: parallel.Helper[Any] = (parallel.Helper(helped, results=len(parted) + 1) if parted
                                          else parallel.Helper(lambda: _rows(work(False))))
            helper = stack.enter_context(made)

        poll()
        run.ctx.checkpoint, run.ctx.parts = poll, shared
        try:
            out = work(True)
        finally:
            run.ctx.checkpoint, run.ctx.parts = _nothing, _no_parts
        if helper is not None:
            for rule, _ in parted[len(got):]:  # (not asked for: this process did not run it)
                others(rule.code)
            out += _diagnostics(helper.result())
    return out


class _Shared:
    """A ``PARTS`` rule's parts in the process that runs it (:class:`~virtc.lint.rule.SharedParts`)."""

    def __init__(self, claims: parallel.Claims, n: int, helpers: Callable[[], list[Any]]) -> None:
        self._claims, self._n, self._helpers = claims, n, helpers
        self._done = 0

    def __iter__(self) -> Iterator[int]:
        for k in self._claims:
            self._done += 1
            yield k

    def others(self) -> list[Any]:
        """The helper's parts; none to wait for when this process did every one."""
        return [] if self._done == self._n else self._helpers()


def _nothing() -> None:
    pass


def _no_parts(code: str) -> None:
    return None


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
