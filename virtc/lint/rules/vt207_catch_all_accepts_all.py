"""A catch-all that forwards instead of rejecting.

What it does
    Reports a ``@domain`` catch-all whose value is an address or local user
    rather than an ``error:`` reject, when sendmail accepts an address nobody
    names there: not a domain alias (``%1%3@other``) of a local domain that
    rejects its unknown users, nor a forward to an address that is rejected.
    This is sometimes intended (a domain forwarded as a whole to another
    host), hence only ``info``.

Why is this bad
    Every address in the domain is accepted at RCPT, including typos,
    dictionary attacks and spam to made-up names; what the target cannot
    deliver bounces later to forged senders (backscatter).

Example
    ```
    @example.com   alice
    ```

Use instead
    ```
    @example.com   error:5.1.1:550 User unknown
    ```
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Set
from itertools import compress, count, repeat
from operator import and_, is_not

from virtc.diagnostics import Severity
from virtc.lint.facts import NO_CATCH_ALL, PROBE, TableIndex, batches, index, shown
from virtc.lint.rule import Finding, LintContext
from virtc.model import BLANKS, one_recipient
from virtc.table import Table

CODE = "VT207"
NAME = "catch-all-accepts-all"
SEVERITY = Severity.INFO
LOOKUPS = True


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    ix = index(table, ctx)
    doms = ix.domains
    have = doms.with_catch_all()
    entries = array("l", map(doms.catch_alls.__getitem__, have))
    lines, columns = table.lines, table.value_columns
    rejects: UnknownRejected | None = None  # (a table without forwarding catch-alls needs no engine)
    for positions, chunk in batches(entries):  # (a batch of texts at a time: 300k domains on tiny)
        places = have[positions.start:positions.stop]
        texts = ix.values.take(chunk)
        # (a reject, or VT201's business: most catch-alls of most tables, nothing more to read)
        rows = [j for j, text in enumerate(texts) if text[:5].lower() != "error"]
        chosen, texts = [chunk[j] for j in rows], [texts[j] for j in rows]
        names = doms.names.take([places[j] for j in rows])
        answers: list[bool | None] = [None] * len(texts)
        forwards = list(compress(count(), map(str.__contains__, texts, repeat("@"))))
        if forwards:
            rejects = rejects or UnknownRejected(table, ctx)
            for j, rejected in zip(forwards, rejects.at_once([names[j] for j in forwards],
                                                              [texts[j] for j in forwards])):
                answers[j] = rejected
        # (from the columns, a batch at a time: no Entry, no Value for 133k such catch-alls)
        for name, i, text, key, rejected in zip(names, chosen, texts, table.keys.take(chosen), answers):
            if "@" in text:  # (an address, maybe to a domain that rejects unknown users)
                assert rejects is not None
                if rejected is None:
                    rejected = rejects(name)
                if rejected:
                    continue
            stripped = text.rstrip(BLANKS)
            if one_recipient(stripped):
                line, column = lines[i], columns[i]  # (value_span_at's)
                yield Finding(
                    line, column, line, column + len(stripped),
                    f"catch-all '{key}' forwards every other address in '{name}' to "
                    f"'{shown(stripped)}': sendmail accepts any recipient there, typos and spam included",
                    help=f"if that is not intended, reject instead: '{key}\t{ctx.config.catch_all}'",
                )


_REJECTED = ("error", "loop")
"""Resolutions whose RCPT sendmail rejects (a loop: 554 after too many rewrites)."""
_HOPS = 8
"""Domain aliases followed before the engine decides (well inside sendmail's recursion limit)."""


class UnknownRejected:
    """Whether sendmail rejects ``virtc-probe@D`` (an address nobody names in a local domain
    D): the engine's resolution ends in an ``error:`` or a loop. Decided per domain without
    a lookup where D's catch-all alone answers (:func:`~virtc.lookup.resolve.quick_hop`):
    its value, after substitution, is a plain reject, name or remote address
    (:func:`~virtc.lookup.resolve.final_kind`: ``%1-d@host`` too), or it is a domain alias
    ``%1%3@other``, which hands the probe on to ``other`` as is (#18: 35k domain aliases on
    the tiny shape). :func:`~virtc.lookup.resolve.quick_end` then the engine decide the
    rest (long alias chains, cycles, odd names), once per value where the probe is gone from
    it (``@dN  abuse@central``). Tested equal to asking the engine for every domain."""

    def __init__(self, table: Table, ctx: LintContext) -> None:
        from virtc.lint.engine import shared_engine
        from virtc.lookup.keys import substitute
        from virtc.lookup.resolve import MAX_ADDRESS, final_kind, quick_end, quick_hop

        self.ix: TableIndex = index(table, ctx)
        self.engine = shared_engine(table, ctx)
        self.local: Set[str] = self.engine.domains
        self.named = self.ix.probe_named
        self.probed = self.ix.values.contains(PROBE)
        """(A value names the probe: a chain could come back to it.)"""
        self.by_value: dict[str, tuple[bool, bool]] = {}
        self.known: dict[str, bool] = {}
        # (The engine's functions, imported once a catch-all forwards: start-up time.)
        self.lookup = (MAX_ADDRESS, final_kind, quick_hop, substitute)
        self.quick_end = quick_end

    def __call__(self, name: str) -> bool:
        if self.named:
            return False  # (a key holds the probe's name: it is no unknown user; report)
        known, path = self.known, []
        result = known.get(name)
        while result is None:
            path.append(name)
            result, name = self._step(name, len(path))
            if result is None:
                result = known.get(name)
        for step in path:
            known[step] = result
        return result

    def at_once(self, names: list[str], texts: list[str]) -> list[bool | None]:
        """Whether the probe is rejected in each domain of ``names`` whose catch-all's text
        (``texts``) alone decides it, at once: :meth:`_step`'s first answer, a batch at a
        time in C (#18: 133k catch-alls ``@d  %1%3@mx.d`` relayed); None for the others."""
        from virtc.lookup.keys import substitute_users
        from virtc.lookup.resolve import final_kinds, quick_hops

        if self.named:
            return [False] * len(names)  # (__call__'s answer)
        ends = final_kinds(substitute_users(texts, ["@" + name for name in names], [PROBE] * len(names)),
                           self.local)
        out: list[bool | None] = [None] * len(names)
        decided = list(compress(count(), map(is_not, ends, repeat(None))))  # (None: a local alias...)
        # (a quick hop: the probe's domain local, no key is the probe: only the catch-all answers)
        hops = quick_hops([f"{PROBE}@{names[j]}" for j in decided], self.local)
        for j in compress(decided, hops):
            out[j] = ends[j] == "error"
        # A domain alias '@D  %1%3@other' hands the probe on as it is (:meth:`_step`'s
        # first step): its answer is other's, the quick hops of both tested at once (#18:
        # 40k domain aliases on the aliases shape).
        aliased = [(j, other) for j, (answer, other) in enumerate(zip(out, map(self.ix.aliases.get, names)))
                   if answer is None and other is not None and other != names[j]]
        both = map(and_, quick_hops([f"{PROBE}@{names[j]}" for j, _ in aliased], self.local),
                   quick_hops([f"{PROBE}@{other}" for _, other in aliased], self.local))
        for j, other in compress(aliased, both):
            out[j] = self(other)
        return out

    def _step(self, name: str, depth: int) -> tuple[bool | None, str]:
        """(the answer for ``name``, or None and the domain whose answer it is)."""
        ix, local = self.ix, self.local
        max_address, final_kind, quick_hop, substitute = self.lookup
        probe = f"{PROBE}@{name}"
        if name not in local and len(probe) <= max_address and final_kind(probe, local) == "remote":
            return False, name  # relayed: accepted
        p = ix.domains.position(name)
        if p is not None and quick_hop(probe, local):
            # No key is the probe, and it has no '+detail': only the catch-all answers it.
            ca = ix.domains.catch_alls[p]
            if ca == NO_CATCH_ALL:
                return False, name  # the local user of the probe's name
            # (An alias of a local domain: the probe goes on as it is, 'virtc-probe@other',
            # which ends nowhere at once; sendmail looks it up there.)
            other = ix.aliases.get(name)
            if other is not None and depth < _HOPS and other != name and quick_hop(f"{PROBE}@{other}", local):
                return None, other
            value = ix.values[ca]
            if "%" in value:
                value = substitute(value, (f"@{name}", PROBE))
            end = final_kind(value, local)
            if end is not None:
                return end == "error", name
            if PROBE not in value and not self.probed:
                # The probe is gone: what follows depends on ``value`` alone (many domains
                # forward to one local mailbox: #18), unless a long chain meets sendmail's
                # recursion limit one hop later from here.
                known = self.by_value.get(value)
                if known is None:
                    known = self.by_value[value] = self._resolve(probe)
                if known[1]:
                    return known[0], name
        return self._resolve(probe)[0], name

    def _resolve(self, probe: str) -> tuple[bool, bool]:
        """(whether ``probe`` is rejected, whether its chain is short enough to stand for
        any other domain's catch-all of the same value)."""
        found = self.quick_end(probe, self.engine.table, self.local)  # (4 hops at most)
        if found is not None:
            return found.kind in _REJECTED, True
        r = self.engine.resolve(probe)
        return r.kind in _REJECTED, len(r.steps) <= _HOPS
