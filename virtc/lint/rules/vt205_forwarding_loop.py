"""A value that resolves back into itself through the table, or through too many keys.

What it does
    Follows each entry's value through the table the way sendmail does (a
    value in a local domain is looked up again) and reports the entries on a
    cycle: ``a@d`` to ``a@d``, ``a@d`` to ``b@d`` to ``a@d``, and so on,
    including cycles through ``@domain`` catch-alls with ``%1``. Also an entry
    whose address passes more keys than sendmail's limit (16) before it ends or
    before it comes back (a ring of 17 keys, of 17 domain aliases): sendmail gives
    up there alike, so each of those entries is reported.

Why is this bad
    sendmail re-resolves the address until its rewrite recursion limit and
    then rejects the recipient with ``554 5.0.0 rewrite: excessive recursion``.
    A self-map (``a@d  a@d``) is Postfix's way to stop recursion, not sendmail's:
    in sendmail it is a loop. Point the entry at a local user instead.

Example
    ```
    carol@example.net   carol@example.net
    a@example.com       b@example.com
    b@example.com       a@example.com
    ```

Use instead
    ```
    carol@example.net   carol
    a@example.com       alice
    b@example.com       alice
    ```
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from functools import lru_cache, partial
from itertools import compress, count, filterfalse, repeat
from operator import ge, gt, ne, not_
from typing import TYPE_CHECKING, NamedTuple

from virtc.compat import zip_strict
from virtc.diagnostics import Severity
from virtc.lint.facts import (
    BATCH,
    NO_CATCH_ALL,
    PROBE,
    RELAYED,
    TableIndex,
    batches,
    entry_mask,
    index,
    stripped_and_folded,
    value_span_at,
)
from virtc.lint.rule import MAX_PARTS, Finding, LintContext, SharedParts
from virtc.lint.shared import LOCAL_USER
from virtc.model import MAXNAME, Key, Value, fold, says_not_found
from virtc.table import Table

if TYPE_CHECKING:
    from virtc.lookup import Resolution
    from virtc.speed.column import Column

CODE = "VT205"
NAME = "forwarding-loop"
SEVERITY = Severity.ERROR
HEAVY = True
PARTS = True


_NOT_PLAIN = re.compile(r'[%<>"() \t,;:\\]')


def _plain_targets(values: list[str]) -> list[str | None]:
    """The folded address each plain ``user@domain`` value names (None if it needs the engine).

    Done for all forwards at once, in C: a large table has hundreds of thousands.
    """
    stripped, folded = stripped_and_folded(values)
    targets: list[str | None] = list(map(str.rstrip, folded, repeat(".")))
    for j in compress(count(), map(_NOT_PLAIN.search, stripped)):
        targets[j] = None
    return targets


def _substituted_targets(stored_keys: Column, chunk: Sequence[int], values: list[str],
                         targets: list[str | None], local: AbstractSet[str]) -> None:
    """Fill in ``targets`` (of :func:`_plain_targets`) for the %N ``values`` of exact keys
    without '+' (the entries at ``chunk``, their keys in ``stored_keys``, taken for those
    values only): the address spelt like the key hits it first, with %1 its user and %2,
    %3 empty, so the value after that substitution is its next hop (#18: 400k such values
    went to the engine's quick path one by one); a value relayed as written with a '%'
    left in it (the %-hack ``u%d@gw.example``: ``relayed_end``) is its address, remote."""
    from virtc.lookup.keys import substitute_users
    from virtc.lookup.resolve import relayed_end

    chosen, keys, users = [], [], []
    with_pct = list(compress(count(), map(str.__contains__, values, repeat("%"))))
    # (not the catch-alls' keys, '@d', before they are taken: a million parked domains)
    starts = map(stored_keys.starts.__getitem__, map(chunk.__getitem__, with_pct))
    firsts = map(stored_keys.text.__getitem__, starts)
    with_pct = list(compress(with_pct, map(ne, firsts, repeat("@"))))
    for k, stored in zip_strict(with_pct, stored_keys.take(list(map(chunk.__getitem__, with_pct)))):
        user, _, domain = stored.rpartition("@")
        if targets[k] is None and user and "+" not in user and "@" not in user and not domain.endswith("."):
            chosen.append(k)
            keys.append(stored)
            users.append(user)
    substituted = substitute_users(list(map(values.__getitem__, chosen)), keys, users)
    for k, text, target in zip_strict(chosen, substituted, _plain_targets(substituted)):  # (in C)
        if target is None and "%" in text:
            relayed = relayed_end(text, local, literal=True)
            target = None if relayed is None else fold(relayed.result or "")
        targets[k] = target


def _backwards(ix: TableIndex, candidates: Sequence[int],
               positions: Sequence[int]) -> Iterator[tuple[int, int, str, str | None]]:
    """(position in ``candidates``, entry, stored key, plain target) of the candidates at
    ``positions`` (ascending), last first."""
    for _, chosen in batches(positions, backwards=True):
        chunk = list(map(candidates.__getitem__, chosen))
        stored_keys = ix.stored_keys.take(chunk)
        targets = _plain_targets(ix.values.take(chunk))
        yield from zip_strict(reversed(chosen), reversed(chunk), reversed(stored_keys), reversed(targets))


_ENDS, _UNKNOWN = -1, -2


class Hops(NamedTuple):
    """The next hops :func:`proven_ends` finds for a part of the forwards (:func:`part`)."""

    start: int
    """The part's first position in :attr:`TableIndex.forwards`."""
    nxt: array[int]
    """Per forward of the part: its entry's next hop (an entry, _ENDS or _UNKNOWN)."""
    extra: bytes
    """Per forward of the part: the catch-alls its entry's value passes on the way there."""
    forward_hits: array[int]
    alias_hits: array[int]
    """The part's :attr:`TableIndex.forward_hits` and :attr:`TableIndex.alias_hits`."""


def parts(table: Table, ctx: LintContext) -> int:
    """How many parts :func:`proven_ends`'s pass over the forwards has (``PARTS``: the lint's
    helper process does those left when it has no rule left to run; #18: a table of local
    forwards spends most of VT205's time there, a lookup or more each)."""
    return _parts_of(len(index(table, ctx).forwards))


def _parts_of(n: int) -> int:
    return -(-n // _part_size(n))


def _part_size(n: int) -> int:
    return max(BATCH, -(-n // MAX_PARTS))


def _span(n: int, k: int) -> range:
    """The positions in :attr:`TableIndex.forwards` of part ``k`` of ``n`` forwards."""
    size = _part_size(n)
    return range(k * size, min(n, (k + 1) * size))


def part(table: Table, ctx: LintContext, k: int) -> Hops:
    """Part ``k`` of the pass (in the lint's helper process)."""
    from virtc.lint.engine import shared_engine

    ix = index(table, ctx)
    hops = ctx.cache.get(_HOPS)
    if not isinstance(hops, tuple):
        hops = ctx.cache[_HOPS] = (_initial_hops(ix), bytearray(len(ix.entries)))
    nxt, extra = hops
    span = _span(len(ix.forwards), k)
    _next_hops(ix, shared_engine(table, ctx).domains, nxt, extra, span, lambda: None)
    mine = ix.forwards[span.start:span.stop]
    return Hops(span.start, array("i", map(nxt.__getitem__, mine)), bytes(map(extra.__getitem__, mine)),
                ix.forward_hits[span.start:span.stop], ix.alias_hits[span.start:span.stop])


_HOPS = "VT205 next hops"
"""(``ctx.cache``: the helper's next hops and extra keys, made once for every part it does)"""


def _initial_hops(ix: TableIndex) -> array[int]:
    """Per entry, _ENDS: a value without '@' ends (a local user or an error), unless sendmail
    reads an address into it ('a%b', 'h!u', '@': _UNKNOWN)."""
    nxt = array("i", [_ENDS]) * len(ix.entries)
    for i in hacks(ix.values):
        nxt[i] = _UNKNOWN
    return nxt


def proven_ends(ix: TableIndex, local: AbstractSet[str], checkpoint: Callable[[], None],
                shared: SharedParts | None) -> tuple[bytearray, bytearray, list[list[int]]]:
    """Per entry, 1 when following plain forwards from it provably ends (a local user, an error,
    a remote address) within sendmail's recursion limit, or passes it through exact keys
    only (:func:`too_long` counts those), or is on a cycle of exact keys, without the
    engine; the keys matched from each that ends; and those cycles (see :func:`_ended`).
    Each entry's next hop is the entry whose exact key its value names, and the hops are
    followed once for the whole table (#18: the chains shape sent 10% of the entries
    through the engine, 12 s at 200k entries); a target without a key of its own goes on
    through its domain's catch-all (see ``through_aliases``). Anything else (a %N value, a
    '+detail' target without its own key, a cycle through other hops) stays 0.
    ``checkpoint``: called between batches
    (:attr:`LintContext.checkpoint`); ``shared``: the parts of the pass to do here and
    those the helper process did (:attr:`LintContext.parts`), None to do every part here."""
    candidates = ix.forwards
    nxt, extra = _initial_hops(ix), bytearray(len(ix.entries))
    for k in range(_parts_of(len(candidates))) if shared is None else shared:
        _next_hops(ix, local, nxt, extra, _span(len(candidates), k), checkpoint)
    for got in () if shared is None else shared.others():
        span = range(got.start, got.start + len(got.nxt))
        deque(map(nxt.__setitem__, candidates[span.start:span.stop], got.nxt), maxlen=0)
        deque(map(extra.__setitem__, candidates[span.start:span.stop], got.extra), maxlen=0)
        # (Lookups made here before would be the same, or only looked up again: a cache.)
        ix.forward_hits[span.start:span.stop] = got.forward_hits
        ix.alias_hits[span.start:span.stop] = got.alias_hits
    exact = bytearray(len(nxt))  # (the entries whose next hop is the exact key their value names)
    deque(map(exact.__setitem__, compress(candidates, map(ge, ix.forward_hits, repeat(0))), repeat(1)),
          maxlen=0)
    return _ended(nxt, extra, candidates, exact)


def _next_hops(ix: TableIndex, local: AbstractSet[str], nxt: array[int], extra: bytearray,
               span: range, checkpoint: Callable[[], None]) -> None:
    """Set ``nxt`` (from :func:`_initial_hops`) for the forwards at ``span`` (positions in
    :attr:`TableIndex.forwards`), ``extra`` (the catch-alls passed on the way: keys that count
    to sendmail's recursion limit too, at most), and their :attr:`TableIndex.forward_hits`
    and :attr:`TableIndex.alias_hits` met on the way. Each forward's own: no order matters."""
    from virtc.lookup import substitute
    from virtc.lookup.resolve import end_at_once, ends_there

    candidates = ix.forwards[span.start:span.stop]
    values, forward_hits, alias_hits = ix.values, ix.forward_hits, ix.alias_hits
    doms, aliases, first = ix.domains, ix.aliases, ix.table.key_index.first
    keys, catch_alls = doms.key_counts, doms.catch_alls
    passed = 0  # (catch-alls the hop being found passes: counted by the functions below)

    def catch_all_hop(ca: int, args: tuple[str, ...]) -> int:
        """The next hop of an address that only the catch-all entry ``ca`` (no domain alias)
        answers, ``args`` its %N: an error or a local user ends; a fixed address goes on as
        the entry's own does; with %N, what it makes of the address, if that ends at once
        ('owner+%1', '%1@store.example')."""
        nonlocal passed
        value = values[ca]
        if nxt[ca] == _ENDS and "@" not in value:
            passed += 1
            return _ENDS
        if "%" in value:
            passed += 1
            return _ENDS if end_at_once(substitute(value, args), local) else _UNKNOWN
        return ca

    def through_aliases(user: str, name: str, p: int | None, hops: int = _ALIAS_HOPS) -> int:
        """The next hop of ``user@D`` (``name``: D, at ``p`` in the domains), which has no key
        of its own: D's catch-all (the only key left for a user without '+detail'), followed
        through domain aliases (``@D  %1@B``: sendmail then looks ``user@B`` up) to an entry,
        an end, or unknown."""
        nonlocal passed
        for _ in range(hops):
            if p is None:  # (a local domain without keys, as the domains fact reads them)
                return _ENDS if first(f"@{name}") is None else _UNKNOWN  # (else: the local user)
            ca = catch_alls[p]
            if ca == NO_CATCH_ALL:
                return _ENDS  # no key at all: delivered to (or bounced by) the local user
            other = alias_at(p)
            if other is None:
                return catch_all_hop(ca, (f"@{name}", user))
            passed += 1
            if other not in local:
                return _ENDS  # relayed
            if len(user) + len(other) + 1 > MAXNAME:
                return _UNKNOWN
            name, p = other, position(other)
            if may_have_keys(p):
                j = first(f"{user}@{other}")
                if j is not None:
                    return j
        return _UNKNOWN

    def plussed(f: int, user: str, detail: str, domain: str, p: int | None) -> int:
        """The next hop of ``user+detail@D`` (no key of its own; forward ``f``): the first of
        D's '+' wildcard keys and ``user@D`` that it finds, else D's catch-all (#18: 100k
        forwards to 'user+list@D' each went to the engine), through a domain alias
        (``%1%3@B``: sendmail looks ``user+detail@B`` up, ``%1@B``: ``user@B``)."""
        nonlocal passed
        if "+" in user:
            return _UNKNOWN  # ('+a+b@D': its keys are no wildcards)
        for _ in range(_ALIAS_HOPS):
            if p is None:
                return _UNKNOWN
            j = ix.plus_hit(p, user, detail, domain)
            if j is not None:  # (its next hop is its value's, as a plain address's: not with %N)
                alias_hits[f] = j  # (for VT211)
                return _UNKNOWN if "%" in values[j] else j
            ca = catch_alls[p]
            if ca == NO_CATCH_ALL:
                return _ENDS  # delivered to (or bounced by) the local user
            other = alias_at(p)
            if other is None:  # (keys.py's row 7: %1 the user, %2 the detail, %3 '+detail')
                return catch_all_hop(ca, (f"@{domain}", user, detail, "+" + detail))
            if "%3" not in values[ca]:  # ('%1@B': the detail is left behind)
                return through_aliases(user, domain, p)
            passed += 1
            if other not in local:
                return _ENDS  # relayed
            address = f"{user}+{detail}@{other}"
            if len(address) > MAXNAME:
                return _UNKNOWN
            domain, p = other, position(other)
            j = first(address) if may_have_keys(p) else None
            if j is not None:
                alias_hits[f] = j  # (for VT211)
                return _UNKNOWN if "%" in values[j] else j
        return _UNKNOWN

    position, may_have_keys = doms.position, doms.may_have_keys
    alias_at, alias_of, alias_names = aliases.at, aliases.targets, aliases.names
    for at, chunk in batches(candidates):
        checkpoint()
        positions = range(at.start + span.start, at.stop + span.start)
        texts = values.take(chunk)
        targets = _plain_targets(texts)
        _substituted_targets(ix.stored_keys, chunk, texts, targets, local)
        for f, i, target, text in zip_strict(positions, chunk, targets, texts):
            if target is None or len(target) > MAXNAME or nxt[i] == _UNKNOWN:
                if target is None and nxt[i] != _UNKNOWN and ends_there(text):
                    continue  # (a list, a name in quotes: refused or delivered at once)
                nxt[i] = _UNKNOWN  # (not one plain address: '%' hacks, a lone '@')
                continue
            user, _, domain = target.rpartition("@")
            if not user or not domain:
                nxt[i] = _UNKNOWN  # ('@x', 'a@')
                continue
            if domain not in local:
                forward_hits[f] = RELAYED  # (ends: VT211 need not look at it either)
                continue
            p = position(domain)
            if p is None or keys[p] > 1 or catch_alls[p] == NO_CATCH_ALL:  # (may_have_keys, inlined)
                j = first(target)
                if j is not None:
                    forward_hits[f] = nxt[i] = j  # (kept for VT211, which asks the same)
                    continue
            forward_hits[f] = -1
            plus = user.find("+", 1)
            passed = 0
            if plus >= 0:  # (a '+detail' address tries wildcard keys first, then 'user@D')
                nxt[i] = plussed(f, user[:plus], user[plus + 1:], domain, p)
                extra[i] = min(passed, 255)
                continue
            # Through its domain's catch-all; the first hop inlined (most keyless targets are
            # at a domain alias whose target domain has the user's key).
            k = -1 if p is None else alias_of[p]  # (aliases.at(p), inlined: once per keyless target)
            other = None if k < 0 else alias_names[k]
            if other is not None and other in local and len(user) + len(other) + 1 <= MAXNAME:
                p = position(other)
                if p is None or keys[p] > 1 or catch_alls[p] == NO_CATCH_ALL:  # (may_have_keys, inlined)
                    j = first(f"{user}@{other}")
                    if j is not None:
                        alias_hits[f] = nxt[i] = j  # (for VT211)
                        extra[i] = 1
                        continue
                passed = 1
                nxt[i] = through_aliases(user, other, p, _ALIAS_HOPS - 1)
            else:
                nxt[i] = through_aliases(user, domain, p)
            extra[i] = min(passed, 255)


def _ended(nxt: array[int], extra: bytearray, candidates: Sequence[int],
           exact: bytearray) -> tuple[bytearray, bytearray, list[list[int]]]:
    """Per entry, 1 when following ``nxt`` from it needs no engine, and the keys sendmail
    matches from it on (each entry's own, and the catch-alls ``extra`` says it passes),
    read only where it is 1 (0: not known); and the cycles of exact keys (``exact``)
    within MAX_RECURSION, each in order, which sendmail closes (:func:`check` reports
    them from their keys: #18, 60k Postfix-style self-maps 'u@d  u@d' went to the engine).
    No engine: the hops end within the limit; or every hop is an exact key and they pass
    more keys than the limit, round a cycle or not (:func:`too_long` counts those; #18: a
    ring of 100k keys took the engine 17 hops per entry, 45 s), or lead into such a
    cycle; or the entry is on one. Any other path past the limit, and a cycle through
    other hops, is the engine's."""
    from virtc.lookup.resolve import MAX_RECURSION

    # 0 not known yet, 1 ends, 2 unknown, 3 on the path being followed, 4 too long or into
    # a cycle (exact keys: too_long's), 5 on a cycle of exact keys (in rings)
    state, keys = bytearray(len(nxt)), extra.translate(_PLUS_ONE)
    rings: list[list[int]] = []
    for start in candidates:
        if state[start]:
            continue
        hop = nxt[start]
        if hop < 0:  # (most forwards: a remote address, a local user)
            state[start] = 1 if hop == _ENDS else 2
            continue
        path = [start]
        state[start] = 3
        i = hop
        while True:
            s = state[i]
            if s in (1, 2, 4, 5):
                s = 4 if s == 5 else s  # (into a cycle)
                break
            if s == 3:  # a cycle: of exact keys here, else the engine's
                at = path.index(i)
                ring = path[at:]
                if not all(map(exact.__getitem__, ring)):
                    s = 2
                    break
                if len(ring) <= MAX_RECURSION:
                    rings.append(ring)
                for q in ring:
                    state[q], keys[q] = 5 if len(ring) <= MAX_RECURSION else 4, 0
                del path[at:]
                s = 4  # (the entries into it)
                break
            hop = nxt[i]
            if hop < 0:
                s = state[i] = 1 if hop == _ENDS else 2
                break
            state[i] = 3
            path.append(i)
            i = hop
        if s == 1:  # counted back from where the hops end (or a path counted before)
            k, ex = keys[i], -1
            for q in reversed(path):
                k += 1 + extra[q]
                if k <= MAX_RECURSION:
                    state[q], keys[q] = 1, k
                    continue
                # (past the limit: too_long's if exact keys all the way)
                ex = _exact_from(q, nxt, exact, extra) if ex < 0 else ex and exact[q]
                state[q], keys[q] = 4 if ex else 2, 0
            continue
        if s == 4 and not all(map(exact.__getitem__, path)):
            s = 2
        for q in path:
            state[q], keys[q] = s, 0
    return state.translate(_ENDED), keys, rings


def _exact_from(i: int, nxt: array[int], exact: bytearray, extra: bytearray) -> int:
    """1 if every hop from entry ``i`` on is to an exact key and the last passes no
    catch-all (:func:`too_long` counts the keys alike), else 0."""
    while nxt[i] >= 0:
        if not exact[i]:
            return 0
        i = nxt[i]
    return int(not extra[i])


_PLUS_ONE = bytes(range(1, 256)) + b"\xff"
"""(a byte n -> n + 1: an entry's own key and the catch-alls its hop passes)"""
_ENDED = bytes([0, 1, 0, 0, 1, 1]) + bytes(250)
"""(state -> 1 for 'ends', 'too long' and 'on a cycle of exact keys', 0 for anything else)"""


_ALIAS_HOPS = 8
"""Domain aliases followed at most (well inside sendmail's recursion limit)."""


def proven_alias_ends(ix: TableIndex, local: AbstractSet[str]) -> list[int]:
    """The ``@A  %1@B`` catch-alls whose engine probe (``virtc-probe@A``) provably ends: B is
    remote, or has no catch-all, or B's catch-all is an ``error:`` or a plain local user, or
    another such alias (no cycle, at most :data:`_ALIAS_HOPS` deep). Done per domain, not
    per entry through the engine (#18: the tiny shape has 40k alias domains at 1M entries).
    Only when no key holds the probe's name: then no key of B answers it before ``@B``."""
    if ix.probe_named:
        return []
    values, doms, aliases = ix.values, ix.domains, ix.aliases
    catch_alls = doms.catch_alls
    state: dict[str, bool] = {}  # domain -> an unnamed address in it provably ends
    final: dict[str, bool] = {}  # catch-all text -> it ends there (the same few rejects recur)

    def ends(name: str, depth: int) -> bool:
        known = state.get(name)
        if known is not None:
            return known
        p = doms.position(name)
        if name not in local or (p is not None and catch_alls[p] == NO_CATCH_ALL):
            return True
        if p is None or depth > _ALIAS_HOPS:
            return False  # (a local domain without keys is ix.domains' too: never here)
        state[name] = False  # on the path: a cycle does not prove anything
        other = aliases.get(name)
        if other is not None:
            result = ends(other, depth + 1)
        else:
            value = values[catch_alls[p]]
            at_once = final.get(value)
            if at_once is None:
                at_once = final[value] = (Value.parse(value).error is not None
                                          or LOCAL_USER.fullmatch(value) is not None)
            result = at_once
        state[name] = result
        return result

    out: list[int] = []
    targets, every = aliases.targets, doms.all_local(local)  # (no name needed)
    for _, chunk in batches(array("l", aliases.positions())):  # (by position: a million parked domains)
        names = repeat("") if every else doms.names.take(chunk)
        out += [catch_alls[p] for p, name in zip(chunk, names)
                if (every or name in local) and ends(aliases.names[targets[p]], 1)]
    return out



def proven_template_ends(ix: TableIndex, local: AbstractSet[str]) -> list[int]:
    """The ``@D  %1-x@host`` catch-alls (a template, not a domain alias) whose engine probe
    (``virtc-probe@D``, plain) provably ends: substituted, the value is a plain reject, name
    or address outside the local domains (:func:`~virtc.lookup.resolve.final_kind`), so
    nothing is looked up after it. Only when no key holds the probe's name: then the
    catch-all alone answers it (#18: 100k such domains took 2 s through the engine)."""
    if ix.probe_named:
        return []
    from virtc.lookup.resolve import catch_all_kind

    values, doms = ix.values, ix.domains
    aliases = entry_mask(len(values), map(doms.catch_alls.__getitem__, ix.aliases.positions()))
    templates = array("I", filterfalse(aliases.__getitem__, ix.percent_catch_alls))
    del aliases
    out = []
    for _, chunk in batches(templates):
        for i, key, value in zip_strict(chunk, ix.stored_keys.take(chunk), values.take(chunk)):
            name = key[1:]
            if key[:1] != "@":
                continue
            p = doms.position(name)
            if p is None or doms.catch_alls[p] != i or name not in local:
                continue
            if catch_all_kind(PROBE, name, value, local) is not None:
                out.append(i)
    return out


def proven_wildcard_ends(ix: TableIndex, local: AbstractSet[str]) -> list[int]:
    """The ``++@D`` and ``+*@D`` keys whose engine probe (``virtc-probe+x@D``, ``virtc-probe+@D``)
    provably ends: no key holds the probe's name (so the wildcard answers it first), and
    the value after substitution ends at once (a reject, a name, an address outside the
    local domains: ``resolve.end_at_once``). #18: 100k such keys (the templates
    shape) went through quick_path one by one."""
    if ix.probe_named:
        return []
    from virtc.lookup import substitute
    from virtc.lookup.resolve import end_at_once, quick_hop

    out = []
    # (Many domains' wildcards give the same text: '%1@store'.)
    ends = lru_cache(maxsize=10_000)(partial(end_at_once, domains=local))
    for _, chunk in batches(ix.wildcards):
        for i, key, value in zip_strict(chunk, ix.stored_keys.take(chunk), ix.values.take(chunk)):
            detail = {"++@": "x", "+*@": ""}.get(key[:3])
            name = key[3:]
            if detail is None or name not in local or says_not_found(value) or \
                    not quick_hop(f"{PROBE}+{detail}@{name}", local):
                continue
            text = substitute(value, (key, PROBE, detail, "+" + detail)) if "%" in value else value
            if ends(text) is not None:
                out.append(i)
    return out


_HACK = re.compile("\n[^@\n]*[%!][^@\n]*(?=\n)")
"""A value with a '%' or a '!' and no '@'."""
_ONLY_AT = re.compile(r"\n[ \t]*@[ \t]*(?=\n)|\n[ \t]+(?=\n)")
"""A lone '@' or blanks (each match holds a character of its value: see Column.matching)."""


def hacks(values: Column) -> list[int]:
    """Values without '@' that sendmail still reads an address into: ``a%b``, ``h!u`` (those
    one search of the column finds, a test of those only), and a lone ``@`` or nothing. Not
    ``error:...%1...`` or ``error:...!``: sendmail's error rule takes those first (#18: 100k
    forwards into domains whose catch-all names the user went to the engine; a million
    parked domains' ``%1%3@main`` were each taken and tested)."""
    marked = values.matching(_HACK)
    found = set(compress(marked, map(_read_as_address, values.take(marked))))
    found.update(values.matching(_ONLY_AT))
    text, starts = values.text, values.starts
    at = text.find("\n\n")  # an empty value: its newline right after the one before it
    while at >= 0:
        found.add(bisect_right(starts, at + 1) - 1)
        at = text.find("\n\n", at + 1)
    return sorted(found)


def _read_as_address(text: str) -> bool:
    return "@" not in text and text[:6].lower() != "error:"


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    ix = index(table, ctx)
    # Only a value naming a local domain (or built with %N) can lead back into the table.
    candidates = ix.forwards
    if not candidates:
        return
    from virtc.lint.engine import shared_engine  # (the lookup engine: only here)
    from virtc.lookup.resolve import MAX_RECURSION, quick_path

    eng = shared_engine(table, ctx)
    local = eng.domains
    skip = ix.shadowed_by_duplicate
    first, values = table.key_index.first, ix.values
    # Addresses whose resolution is known to end: those spelt as a stored key marked at
    # that key's entry (a byte each, not a set of a million strings), any other in a dict;
    # with the keys it matches (0: not known), so that one more hop is known to end only
    # within sendmail's recursion limit.
    ends, matched, rings = proven_ends(ix, local, ctx.checkpoint, ctx.parts(CODE))
    for proven in (proven_alias_ends, proven_template_ends, proven_wildcard_ends):
        for i in proven(ix, local):
            ends[i], matched[i] = 1, 0
    other_ends: dict[str, int] = {}
    cycles = _Cycles(local)
    deep: set[int] = set()  # (entries found past the recursion limit here: too_long's too)

    def mark(address: str, keys: int) -> None:
        j = first(address)
        if j is None:
            other_ends[address] = keys
        else:
            ends[j], matched[j] = 1, keys

    # Backwards: a chain written top-down (a -> b, b -> c, ...) is then proved from its end,
    # one step per entry, instead of being followed again from every entry.
    open_ = list(compress(count(), map(not_, map(ends.__getitem__, candidates))))  # (most are proven)
    for p, i, stored, target in _backwards(ix, candidates, open_):
        if ends[i] or i in skip or stored.rpartition("@")[2] not in ix.domains:
            continue  # proven to end, not stored (VT103) or never looked up (VT104)
        if target is not None:
            # The address spelt like the key hits it first (exact lookup), then goes to target.
            if target.rpartition("@")[2] not in local:
                ends[i], matched[i] = 1, 1
                continue
            j = ix.target_entry(p, target)
            keys = (matched[j] if ends[j] else 0) if j is not None else other_ends.get(target, 0)
            if 0 < keys < MAX_RECURSION:
                ends[i], matched[i] = 1, keys + 1
                continue
            # Cheap proof that the target ends: sendmail tries its exact key first, and a value
            # without '@' is a local user or an error, never another lookup.
            if len(target) > MAXNAME:  # sendmail looks the address up cut to MAXNAME
                hit = eng.table.values.get(target[:MAXNAME])
            else:
                hit = None if j is None else values[j]
            if hit is not None and "@" not in hit and "%" not in hit:
                if j is None:  # mark(target), without looking it up again
                    other_ends[target] = 1
                else:
                    ends[j], matched[j] = 1, 1
                ends[i], matched[i] = 1, 2
                continue
        key = Key.parse(stored)
        probe = eng.probe(key)
        known = cycles.get(probe)
        if known is not None:
            if known[0] != stored:
                continue  # (its probe meets another key first: never reaches this entry)
            cycle = (*known, known[0])
        else:
            quick = quick_path(probe, eng.table, local)  # (a chain of plain hops: no loop)
            if quick is not None:
                looked = quick[1][:-1]  # (the addresses looked up, each a key; the last is the end)
                for left, address in zip(range(len(looked), 0, -1), looked):
                    mark(fold(address), left)
                continue
            r = eng.resolve(probe)
            if r.kind != "loop":
                left = len(r.chain)
                for step in r.steps:  # (one with no key is the last: ends there, counted as one)
                    mark(fold(step.address), max(left, 1))
                    left -= step.key is not None and step.substituted is not None
                continue
            if not r.cycle:  # past sendmail's limit before any address came back
                if r.chain[0] == stored:
                    deep.add(i)
                    yield _too_deep(value_span_at(table, i), probe, r.chain)
                continue
            cycles.add(r)
            if not r.chain or r.chain[0] != stored or stored not in r.cycle:
                continue  # leads into a loop elsewhere (reported there), or never reaches this entry
            cycle = r.cycle
        yield _loop(value_span_at(table, i), probe, cycle)
    for ring in rings:  # (each entry's own address comes back round its keys)
        names = ix.stored_keys.take(ring)
        for at, (i, stored) in enumerate(zip_strict(ring, names)):
            if i not in skip and stored.rpartition("@")[2] in ix.domains:
                round_keys = (*names[at:], *names[:at], stored)
                yield _loop(value_span_at(table, i), eng.probe(Key.parse(stored)), round_keys)
    stored_keys = ix.stored_keys
    for i, passed in too_long(ix, local):  # (the three keys a finding names)
        if i not in deep:
            yield _too_deep(value_span_at(table, i), stored_keys[i], [stored_keys[j] for j in passed])


def too_long(ix: TableIndex, local: AbstractSet[str]) -> Iterator[tuple[int, list[int]]]:
    """(entry, [it, the next entry its address matches, the (MAX_RECURSION + 1)th]) of each
    exact key whose address passes more keys than sendmail's recursion limit allows, each an exact
    key its predecessor's plain value names, round a cycle or not: sendmail gives up at the
    limit's key (unless its value is an error). Counted once for the table along the hits
    :func:`proven_ends` found (call it first); a chain with other hops (a catch-all, a
    wildcard) is the engine's to find."""
    from virtc.lookup import substitute
    from virtc.lookup.resolve import MAX_RECURSION, prescan_error, quick_hops

    n, hits, forwards = len(ix.entries), ix.forward_hits, ix.forwards
    found = bytes(map(ge, hits, repeat(0)))
    # The entries with an exact hit whose hit has one, and so on, in C: those left after the
    # limit's hops are the few to count (most tables: none).
    live, to = array("i", compress(forwards, found)), array("i", compress(hits, found))
    alive = bytearray(n)
    deque(map(alive.__setitem__, live, repeat(1)), maxlen=0)
    for _ in range(MAX_RECURSION - 1):
        keep = bytes(map(alive.__getitem__, to))
        deque(map(alive.__setitem__, compress(live, keep.translate(_NOT)), repeat(0)), maxlen=0)
        live, to = array("i", compress(live, keep)), array("i", compress(to, keep))
        if not live:
            return
    hit = dict(zip_strict(compress(forwards, found), compress(hits, found)))
    # Distinct keys matched from each entry on, exact hits only (0: not counted yet).
    depth = array("I", bytes(4 * n))
    for start in live:
        if depth[start]:
            continue
        path, i = [], start
        while not depth[i] and i in hit:
            depth[i] = _ON_PATH
            path.append(i)
            i = hit[i]
        k = depth[i]
        if k == _ON_PATH:  # round a cycle: each of its keys matches the cycle's keys
            at = path.index(i)
            k = len(path) - at
            for q in path[at:]:
                depth[q] = k
            del path[at:]
        elif not k:
            depth[i] = k = 1  # (the key whose value no other key answers)
        for q in reversed(path):
            k += 1
            depth[q] = k
    values, skip, stored_keys = ix.values, ix.shadowed_by_duplicate, ix.stored_keys
    past = [i for i in compress(count(), map(gt, depth, repeat(MAX_RECURSION))) if i not in skip]
    hop = array("i", range(n))  # (each entry's exact hit; itself for none)
    deque(map(hop.__setitem__, hit.keys(), hit.values()), maxlen=0)
    last_of = _ahead(hop, MAX_RECURSION)
    for i, plain in zip_strict(past, quick_hops(stored_keys.take(past), local)):
        if not plain:
            continue
        last = last_of[i]
        if depth[i] == MAX_RECURSION + 1:  # sendmail's last key ends there: an error is still read
            value = values[last]
            if "%" in value:  # (an exact key's: %1 its user, in any case)
                value = substitute(value, (stored_keys[last], stored_keys[last].rpartition("@")[0]))
            if prescan_error(value) is not None or (":" in value and "error" in value.lower()):
                continue
        yield i, [i, hop[i], last]


def _ahead(hop: array[int], k: int) -> array[int]:
    """Per entry, the entry ``k`` hops on along ``hop``: composed by squaring, each
    composition one map in C (#18: a ring of 300k keys, each reported)."""
    ahead, step = array("i", range(len(hop))), hop
    while k:
        if k & 1:
            ahead = array("i", map(step.__getitem__, ahead))
        k >>= 1
        if k:
            step = array("i", map(step.__getitem__, step))
    return ahead


_ON_PATH = 0xFFFFFFFF
_NOT = bytes([1]) + bytes(255)
"""(a byte 0 -> 1, 1 -> 0: ``bytes.translate``)"""


def _loop(span: tuple[int, int, int, int], address: str, cycle: Sequence[str]) -> Finding:
    """The finding for the entry whose value is at ``span`` and whose ``address`` comes back
    round the keys ``cycle`` (its own first and last)."""
    from virtc.lookup.resolve import LOOP_TEXT

    path = " -> ".join(f"'{k}'" for k in cycle)
    return Finding(
        *span,
        f"forwarding loop {path}: sendmail resolves '{address}' back into itself until it gives "
        f"up and rejects it with '{LOOP_TEXT}'",
        help="point one of the entries at a local user (a self-map does not stop recursion in sendmail)",
    )


def _too_deep(span: tuple[int, int, int, int], address: str, keys: Sequence[str]) -> Finding:
    """The finding for the entry whose value is at ``span`` and whose ``address`` matches
    ``keys``, one more than sendmail's recursion limit (the same whether a cycle or a chain:
    sendmail stops counting there; only the first two and the last are named)."""
    from virtc.lookup.resolve import LOOP_TEXT, MAX_RECURSION

    return Finding(
        *span,
        f"forwarding chain '{keys[0]}' -> '{keys[1]}' -> ... -> '{keys[-1]}' -> ...: sendmail "
        f"resolves '{address}' through more keys than its limit of {MAX_RECURSION}, gives up and "
        f"rejects it with '{LOOP_TEXT}'",
        help="point the entry (or one further along) at where the mail ends: a local user, "
             "a remote address",
    )


class _Cycles:
    """The addresses looked up on the cycle of each loop found, and where: an entry whose
    probe is one of them loops through the same keys, started from its own (the engine
    resolves each address alike; #18: 10k rings of 10 domain aliases, 50 steps each)."""

    def __init__(self, domains: AbstractSet[str]) -> None:
        from virtc.lookup.resolve import quick_hop

        self.domains, self.quick_hop = domains, quick_hop
        self.at: dict[str, tuple[tuple[str, ...], int]] = {}

    def add(self, r: Resolution) -> None:
        """Remember the cycle of ``r``, a loop (none when sendmail's recursion limit ended it)."""
        if not r.cycle:
            return
        keys = r.cycle[:-1]
        start = len(r.chain) - len(keys)
        for offset, step in enumerate(r.steps[start:start + len(keys)]):
            self.at.setdefault(fold(step.address), (keys, offset))

    def get(self, probe: str) -> tuple[str, ...] | None:
        """The keys ``probe`` loops through, its first key first, if it is on a known cycle."""
        if not self.at or not self.quick_hop(probe, self.domains):
            return None
        found = self.at.get(fold(probe))
        if found is None:
            return None
        keys, offset = found
        return keys[offset:] + keys[:offset]
