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
from collections.abc import Iterator, Sequence, Set
from itertools import compress, count, repeat
from operator import is_not
from typing import TYPE_CHECKING

from virtc.diagnostics import Severity
from virtc.lint.facts import NO_CATCH_ALL, PROBE, TableIndex, batches, index, shown
from virtc.lint.rule import Finding, LintContext
from virtc.model import BLANKS, one_recipient
from virtc.table import Table

if TYPE_CHECKING:
    from virtc.lookup.resolve import Kind

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
        at = [places[j] for j in rows]
        names = doms.names.take(at)
        answers: list[bool | None] = [None] * len(texts)
        forwards = list(compress(count(), map(str.__contains__, texts, repeat("@"))))
        if forwards:
            rejects = rejects or UnknownRejected(table, ctx)
            found = rejects.at_once([names[j] for j in forwards], [texts[j] for j in forwards],
                                    [at[j] for j in forwards])
            for j, rejected in zip(forwards, found):
                answers[j] = rejected
        # (from the columns, a batch at a time: no Entry, no Value for 133k such catch-alls)
        for name, i, text, rejected in zip(names, chosen, texts, answers):
            if "@" in text:  # (an address, maybe to a domain that rejects unknown users)
                assert rejects is not None
                if rejected is None:
                    rejected = rejects(name)
                if rejected:
                    continue
            stripped = text.rstrip(BLANKS)
            if one_recipient(stripped):
                line, column, key = lines[i], columns[i], table.keys[i]  # (value_span_at's)
                yield Finding(
                    line, column, line, column + len(stripped),
                    f"catch-all '{key}' forwards every other address in '{name}' to "
                    f"'{shown(stripped)}': sendmail accepts any recipient there, typos and spam included",
                    help=f"if that is not intended, reject instead: '{key}\t{ctx.config.catch_all}'",
                )


_REJECTED = ("error", "loop")
"""Resolutions whose RCPT sendmail rejects (a loop: 554 after too many rewrites)."""
_HOPS = 8
"""Domain aliases followed in one go before the engine decides (a cycle of aliases ends there)."""

_Answer = tuple[bool, int]
"""(whether the probe is rejected, a bound on the keys its resolution matches): a domain
alias in front of an accepting domain adds a key, and past sendmail's recursion limit
the probe is rejected after all."""


def _stored(answer: _Answer) -> tuple[int, int]:
    """``answer`` as :class:`UnknownRejected` keeps it by domain position: 1 accepted or
    2 rejected, and the keys (a byte)."""
    return 1 + answer[0], min(answer[1], 255)


class UnknownRejected:
    """Whether sendmail rejects ``virtc-probe@D`` (an address nobody names in a local domain
    D): the engine's resolution ends in an ``error:`` or a loop. Decided per domain without
    a lookup where D's catch-all alone answers (:func:`~virtc.lookup.resolve.quick_hop`):
    its value, after substitution, is a plain reject, name or remote address
    (:func:`~virtc.lookup.resolve.final_kind`: ``%1-d@host`` too), or it is a domain alias
    ``%1%3@other``, which hands the probe on to ``other`` as is (#18: 35k domain aliases on
    the tiny shape), one key more: an alias of an accepting domain whose chain would pass
    sendmail's recursion limit goes to the engine. :func:`~virtc.lookup.resolve.quick_path`
    then the engine decide the rest (long alias chains, cycles, odd names), once per value
    where the probe is gone from it (``@dN  abuse@central``). Tested equal to asking the
    engine for every domain."""

    def __init__(self, table: Table, ctx: LintContext) -> None:
        from virtc.lint.engine import shared_engine
        from virtc.lookup.keys import substitute
        from virtc.lookup.resolve import MAX_ADDRESS, MAX_RECURSION, final_kind, quick_hop, quick_path

        self.ix: TableIndex = index(table, ctx)
        self.engine = shared_engine(table, ctx)
        self.local: Set[str] = self.engine.domains
        self.named = self.ix.probe_named
        self.probed = self.ix.values.contains(PROBE)
        """(A value names the probe: a chain could come back to it.)"""
        self.by_value: dict[str, _Answer] = {}
        # The answers found, by domain position (two bytes a domain: a table of parked domain
        # aliases has as many as entries), and of the names of no domain of the table.
        n = len(self.ix.domains)
        self._state, self._steps = bytearray(n), bytearray(n)  # (state: 0 unknown, 1 accepted, 2 rejected)
        self._elsewhere: dict[str, _Answer] = {}
        self.limit = MAX_RECURSION
        # (The engine's functions, imported once a catch-all forwards: start-up time.)
        self.lookup = (MAX_ADDRESS, final_kind, quick_hop, substitute)
        self.quick_path = quick_path

    def __call__(self, name: str) -> bool:
        if self.named:
            return False  # (a key holds the probe's name: it is no unknown user; report)
        return self._answer(name, self.ix.domains.position(name))[0]

    def _known(self, name: str, p: int | None) -> _Answer | None:
        """The answer kept for ``name`` (at ``p`` in the domains, None for no domain's)."""
        if p is None:
            return self._elsewhere.get(name)
        state = self._state[p]
        return (state == 2, self._steps[p]) if state else None

    def _keep(self, name: str, p: int | None, answer: _Answer) -> None:
        if p is None:
            self._elsewhere[name] = answer
        else:
            self._state[p], self._steps[p] = _stored(answer)

    def _answer(self, name: str, p: int | None) -> _Answer:
        """The probe's answer in ``name`` (at ``p``), following domain aliases (:meth:`_step`)
        to a domain whose answer is kept or found, then back, a key more for each alias."""
        position = self.ix.domains.position
        path: list[tuple[str, int | None]] = []
        answer = self._known(name, p)
        while answer is None:
            answer, other = self._step(name, len(path) + 1)
            if answer is not None:
                self._keep(name, p, answer)
                break
            path.append((name, p))
            name, p = other, position(other)
            answer = self._known(name, p)
        for alias, at in reversed(path):
            answer = self._behind(alias, answer)
            self._keep(alias, at, answer)
        return answer

    def _behind(self, alias: str, answer: _Answer) -> _Answer:
        """The answer of the domain alias ``alias`` in front of a domain answering ``answer``."""
        return self._in_front(answer) or self._resolve(f"{PROBE}@{alias}")

    def _in_front(self, answer: _Answer) -> _Answer | None:
        """The answer of a domain alias in front of a domain answering ``answer``: a rejection
        stays one (an error, or a loop one key sooner); an acceptance does while the keys stay
        inside sendmail's recursion limit, else None (the engine decides, for each alias)."""
        rejected, steps = answer
        return (rejected, steps + 1) if rejected or steps < self.limit else None

    def at_once(self, names: list[str], texts: list[str],
                places: Sequence[int] | None = None) -> list[bool | None]:
        """Whether the probe is rejected in each domain of ``names`` (at ``places`` in the
        domains, if known) whose catch-all's text (``texts``) alone decides it, at once:
        :meth:`_step`'s first answer, a batch at a time in C (#18: 133k catch-alls
        ``@d  %1%3@mx.d`` relayed); None for the others."""
        from virtc.lookup.keys import substitute_users
        from virtc.lookup.resolve import final_kinds, quick_hops

        if self.named:
            return [False] * len(names)  # (__call__'s answer)
        doms, aliases = self.ix.domains, self.ix.aliases
        if places is None:
            places = list(map(doms.position, names))  # type: ignore[arg-type]
        targets = list(map(aliases.targets.__getitem__, places))
        # A domain alias's text ('%1%3@other') gives the probe the same text whatever the
        # domain: substituted and ended once per text (#18: a million parked domains).
        plain = [j for j, k in enumerate(targets) if k < 0]
        ends: list[Kind | None] = [None] * len(names)
        made = substitute_users([texts[j] for j in plain], ["@" + names[j] for j in plain],
                                [PROBE] * len(plain))
        for j, end in zip(plain, final_kinds(made, self.local)):
            ends[j] = end
        alias_texts = dict.fromkeys(texts[j] for j, k in enumerate(targets) if k >= 0)
        if alias_texts:
            made = substitute_users(list(alias_texts), [""] * len(alias_texts), [PROBE] * len(alias_texts))
            kinds = dict(zip(alias_texts, final_kinds(made, self.local)))
            for j, k in enumerate(targets):
                if k >= 0:
                    ends[j] = kinds[texts[j]]
        out: list[bool | None] = [None] * len(names)
        decided = list(compress(count(), map(is_not, ends, repeat(None))))  # (None: a local alias...)
        # (a quick hop: the probe's domain local, no key is the probe: only the catch-all answers)
        every = doms.all_local(self.local)  # (then quick_hops need not look these names up)
        hops = quick_hops([f"{PROBE}@{names[j]}" for j in decided], self.local, local=every)
        for j in compress(decided, hops):
            out[j] = ends[j] == "error"
        # A domain alias '@D  %1%3@other' hands the probe on as it is (:meth:`_step`'s
        # first step): its answer is other's, a key more, the quick hops of both tested at
        # once (#18: 40k domain aliases on the aliases shape), each other's once; kept for
        # an alias of it.
        aliased = [j for j, (answer, k) in enumerate(zip(out, targets))
                   if answer is None and k >= 0 and aliases.names[k] != names[j]]
        distinct = dict.fromkeys(targets[j] for j in aliased)
        onward = dict(zip(distinct, quick_hops([f"{PROBE}@{aliases.names[k]}" for k in distinct],
                                               self.local)))
        hopping = quick_hops([f"{PROBE}@{names[j]}" for j in aliased], self.local, local=every)
        state, steps = self._state, self._steps
        kept: dict[int, tuple[int, int] | None] = {}  # target -> what an alias of it keeps (None: ask)
        for j, hop in zip(aliased, hopping):
            k = targets[j]
            if not hop or not onward[k]:
                continue
            if k not in kept:  # (in table order: an alias of an alias finds its target's answer kept)
                other = aliases.names[k]
                front = self._in_front(self._answer(other, doms.position(other)))
                kept[k] = None if front is None else _stored(front)
            stored = kept[k] or _stored(self._resolve(f"{PROBE}@{names[j]}"))
            state[places[j]], steps[places[j]] = stored
            out[j] = stored[0] == 2
        return out

    def _step(self, name: str, depth: int) -> tuple[_Answer | None, str]:
        """(the answer for ``name``, or None and the domain alias' target whose answer, a key
        more, it is)."""
        ix, local = self.ix, self.local
        max_address, final_kind, quick_hop, substitute = self.lookup
        probe = f"{PROBE}@{name}"
        if name not in local and len(probe) <= max_address and final_kind(probe, local) == "remote":
            return (False, 0), name  # relayed: accepted
        p = ix.domains.position(name)
        if p is not None and quick_hop(probe, local):
            # No key is the probe, and it has no '+detail': only the catch-all answers it.
            ca = ix.domains.catch_alls[p]
            if ca == NO_CATCH_ALL:
                return (False, 1), name  # the local user of the probe's name
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
                return (end == "error", 1), name
            if PROBE not in value and not self.probed:
                # The probe is gone: what follows depends on ``value`` alone (many domains
                # forward to one local mailbox: #18), unless a long chain meets sendmail's
                # recursion limit one hop later from here.
                known = self.by_value.get(value)
                if known is None:
                    known = self.by_value[value] = self._resolve(probe)
                if known[1] <= _HOPS:
                    return known, name
        return self._resolve(probe), name

    def _resolve(self, probe: str) -> _Answer:
        """(whether ``probe`` is rejected, the keys its resolution matched at most)."""
        found = self.quick_path(probe, self.engine.table, self.local)  # (4 hops at most)
        if found is not None:
            return found[0].kind in _REJECTED, len(found[1]) - 1
        r = self.engine.resolve(probe)
        return r.kind in _REJECTED, len(r.steps)
