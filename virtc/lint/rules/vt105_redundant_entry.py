"""An entry that resolves exactly as the domain's catch-all would.

What it does
    Reports an entry when deleting it would change nothing: every address that
    reaches it resolves to the same result through the ``@domain`` catch-all
    (or, for a ``++@`` / ``+*@`` key, through the catch-all's plussed lookup).
    Typical: ``info@example.com  error:5.1.1:550 User unknown`` beside the same
    catch-all, or ``alice@example.com  alice@example.net`` beside
    ``@example.com  %1@example.net``.

Why is this bad
    Redundant entries make a table longer and hide the real exceptions; when the
    catch-all changes later, they silently keep the old behaviour for some
    addresses. It often means a mailbox was meant to exist and does not.

Example
    ```
    alice@example.com   alice@example.net
    @example.com        %1@example.net
    ```

Use instead
    ```
    @example.com        %1@example.net
    ```
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache, partial
from itertools import chain, compress, count, filterfalse, repeat
from operator import and_, eq, gt, is_not, itemgetter, le, ne, not_, or_, truth
from typing import TYPE_CHECKING, Literal, cast

from virtc.compat import zip_strict
from virtc.diagnostics import Severity
from virtc.lint.facts import (
    NO_CATCH_ALL,
    TableIndex,
    batches,
    entry_mask,
    index,
    kept,
    key_span_at,
    shown,
    wildcard_parts,
)
from virtc.lint.rule import Finding, LintContext
from virtc.model import BLANKS, MAXNAME, Key, KeyKind, fold, says_not_found
from virtc.table import Table

if TYPE_CHECKING:
    from collections.abc import Set as AbstractSet

    from virtc.lint.engine import Engine
    from virtc.lookup import LookupKey, Resolution
    from virtc.lookup.resolve import Final, Kind
    from virtc.lookup.table import LookupTable

CODE = "VT105"
NAME = "redundant-entry"
SEVERITY = Severity.WARNING
LOOKUPS = True

_ARG = re.compile("%[0-9%]")


def _outcome(r: Resolution) -> tuple[object, ...]:
    return r.kind, r.result, r.status, r.text


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    ix = index(table, ctx)
    doms = ix.domains
    have = doms.with_catch_all()
    catch_alls = array("I", map(doms.catch_alls.__getitem__, have))
    if not catch_alls:
        return
    values = ix.values
    # Cheap pre-filter: a value equal to some catch-all's, or in a domain whose catch-all
    # uses %N (compared after substitution below), or with %N itself. Hash joins in C, of
    # the texts' hashes (a table may have 300k catch-all texts; the loop compares words).
    plain: set[int] = set()
    pct: dict[str, str] = {}
    for positions, chunk in batches(catch_alls):
        texts = values.take(chunk)
        plain.update(map(hash, map(str.rstrip, texts, repeat(BLANKS))))
        # (with %N, in a domain with more than its catch-all: a domain alias alone has nothing
        # else; #18: a million parked domains)
        places = have[positions.start:positions.stop]
        with_n = list(map(and_, map(str.__contains__, texts, repeat("%")),
                          map(gt, map(doms.key_counts.__getitem__, places), repeat(1))))
        pct.update(zip(doms.names.take(list(compress(places, with_n))), compress(texts, with_n)))
    del have

    def engine() -> Engine:
        from virtc.lint.engine import shared_engine  # (the lookup engine: only when asked)

        return shared_engine(table, ctx)

    # (Not the catch-alls themselves, each equal to its own text: a set of 300k on tiny.)
    catch_all = entry_mask(len(values), catch_alls)
    candidates = set(compress(count(), map(gt, map(plain.__contains__, map(hash, values)), catch_all)))
    del catch_all
    with_pct = ix.with_percent
    candidates.update(with_pct)
    candidates.update(i for i in ix.ends_blank if hash(values[i].rstrip(BLANKS)) in plain)
    ctx.checkpoint()
    if pct:
        keys = template_keys(ix, pct)
        ctx.checkpoint()
        words, needed, redundant = template_words(ix, keys, pct, lambda: engine().domains, ctx.checkpoint)
        del keys
        candidates.update(words)
        candidates.difference_update(needed, map(itemgetter(0), redundant))
        for i, ca in redundant:
            yield _finding(ix, i, ca, values[i])
    candidates.difference_update(catch_alls)  # (a catch-all is not redundant to itself)

    from virtc.lookup import substitute  # (candidates with %N or beside one: the engine's)
    from virtc.lookup.resolve import end_at_once

    fast = _UserWildcards(ix, engine)
    candidates.difference_update(fast.differing(with_pct))
    eng: Engine | None = None
    proof: PlainlyRedundant | None = None
    theirs_end: Callable[[str], Final | None] | None = None
    settled: AbstractSet[int] = frozenset()
    get: Callable[[str], str | None] | None = None
    wildcards = _DomainAny(ix.probe_named)
    exact = sorted(candidates.intersection(with_pct))  # (the values with '%N' left)
    if exact:
        eng = engine()
        theirs_end = lru_cache(maxsize=10_000)(partial(end_at_once, domains=eng.domains, literal=True))
        apart, settled = exact_verdicts(ix, exact, eng.domains, theirs_end, ctx.checkpoint)
        candidates.difference_update(apart)
    for i, stored, value in _with_texts(ix, sorted(candidates), ctx.checkpoint):
        user, at, name = stored.rpartition("@")
        p = doms.position(name)
        if p is None or doms.catch_alls[p] == NO_CATCH_ALL or not at:
            continue  # (a key without '@' is never looked up: VT104's, not a domain's)
        ca = doms.catch_alls[p]
        # '+*@d' giving everyone what the catch-all gives (then any test below says "may equal")
        alike = user == "+*" and "%" in value and wildcards.alike(value, values[ca], name)
        # Same words as the catch-all's value (after its %N for this user)?
        if "%" in value and not alike:
            verdict: bool | None
            if i in settled:
                verdict = True
            elif "+" not in user and "@" not in user and not name.endswith("."):
                # An exact key: the catch-all is the next key its address meets (as
                # may_equal_fixed finds through lookup_keys, per entry: #18, 400k at 1M).
                assert eng is not None and theirs_end is not None  # (made for the values with '%')
                verdict = exact_verdict(stored, value, values[ca], eng.domains, theirs_end)
            else:
                verdict = fast.may_equal_fixed(i, value, stored)
                if verdict is None:
                    eng = eng or engine()
                    verdict = fast.domain_wildcard(value, stored, eng.domains)
            if verdict is None:
                eng = eng or engine()
                get = get or lru_cache(maxsize=4096)(eng.table.get)  # (a user's keys, asked per tag)
                verdict = may_equal_fixed(value, stored, get, eng.domains)
            if not verdict:
                continue  # what answers without it differs, whatever the detail
            provable = True
        elif not alike:
            expected = ca_value = values[ca]
            if "%" in ca_value:
                expected = substitute(ca_value, ("@" + name, user))
            if value.split() != expected.split():
                continue
            provable = value == expected
        else:
            provable = False
        provable = provable and i not in ix.shadowed_by_duplicate
        wild = _domain_wildcards(ix, p, name, user) if provable else None
        if wild is not None:
            proof = proof or PlainlyRedundant(engine().domains, fast.detail_keys, engine().table)
            proven = proof(stored, value, values[ca], wild)
            if proven is not None:
                if proven:
                    yield _finding(ix, i, ca, value)
                continue
        if i in ix.shadowed_by_duplicate:
            continue  # VT103
        # The engine decides: every address reaching the entry resolves the same without it.
        eng = eng or engine()
        if name not in eng.domains:
            continue  # never looked up at all (VT106)
        key = Key.parse(stored)
        if key.kind is KeyKind.ADDRESS and "+" in key.user and "%" in value and \
                same_as_next(stored, value, get or eng.table.get, eng.domains):
            yield _finding(ix, i, ca, value)  # (#18: 11k 'u+tag@d  lo%3' beside 'u@d  lo', 60 us each)
            continue
        if alike and wildcards.found_first(eng, key, stored, value):
            yield _finding(ix, i, ca, value)  # (#18: 100k '+*@d  %1+%2@store' beside '@d  %1%3@store')
            continue
        dom = doms.at(p, name)
        probes = _probes(key, eng.probe(key), dom.has(KeyKind.USER_PLUS) or dom.has(KeyKind.DOMAIN_PLUS))
        with_it = [eng.resolve(p) for p in probes]
        if not with_it[0].chain or with_it[0].chain[0] != stored:
            continue  # its probe does not reach it (VT107 / VT104 cases)
        hidden = eng.hiding(stored)
        # A probe that does not reach the entry resolves the same without it: no need to ask.
        if all(stored not in a.chain or _outcome(a) == _outcome(eng.resolve(p, hidden))
               for a, p in zip_strict(with_it, probes)):
            yield _finding(ix, i, ca, value)


def same_as_next(stored: str, value: str, get: Callable[[str], str | None], local: AbstractSet[str]) -> bool:
    """Whether the exact key ``stored`` (``user+detail@d``, a plain address in a local domain:
    only that address reaches it) gives, after its %N, the very text the next key its
    address meets gives (``get``: the map): then everything after goes the same way with
    or without it, as the engine finds asking both."""
    from virtc.lookup import lookup_keys, substitute
    from virtc.lookup.resolve import not_found_marker, quick_hop

    if not quick_hop(stored, local):
        return False
    tried = lookup_keys(stored)
    mine = substitute(value, tried[0].args)
    for later in tried[1:]:
        other = get(later.key)
        if other is not None:
            return not not_found_marker(other) and substitute(other, later.args) == mine
    return False


def exact_verdict(stored: str, value: str, catch_all: str, local: AbstractSet[str],
                  theirs_end: Callable[[str], Final | None]) -> bool:
    """For the exact key ``stored`` (``user@d``, no '+') with a ``%N`` value, in a domain whose
    catch-all's value is ``catch_all``: False when the two, after their ``%N``, provably lead
    elsewhere (see :func:`texts_alike`); True when they may lead to the same place."""
    from virtc.lookup import substitute

    if catch_all.strip(BLANKS) == "@":
        return True  # ("not found": the engine decides)
    user, _, name = stored.rpartition("@")
    mine, theirs = substitute(value, (stored, user)), substitute(catch_all, (f"@{name}", user))
    # (Two different plain addresses relayed elsewhere end apart: texts_alike's answer
    # without its two ends; #18: 300k 'u@d  uN%3@store' beside '@d  %1%3@store'.)
    if mine != theirs and relayed(mine, local) and relayed(theirs, local):
        return False
    return errors_alike(stored, mine, theirs, local) and texts_alike(mine, theirs, local, theirs_end)


def errors_alike(address: str, mine: str, theirs: str, local: AbstractSet[str]) -> bool:
    """False when ``address`` ends in two different errors with the key's text ``mine`` and
    the next key's ``theirs`` (each after its %N) as its first hit (#18: 100k
    ``u@d  error:...552 full (100% of quota)`` beside another reject went to the engine,
    two resolutions each: the '%' is no %N, and texts_alike leaves a '%' to the engine)."""
    if mine == theirs or not mine.lstrip(BLANKS)[:5].lower() == "error" == theirs.lstrip(BLANKS)[:5].lower():
        return True
    from virtc.lookup.resolve import hit_errors_differ

    return not hit_errors_differ(address, mine, theirs, local)


def exact_verdicts(ix: TableIndex, entries: Sequence[int], local: AbstractSet[str],
                   theirs_end: Callable[[str], Final | None],
                   checkpoint: Callable[[], None] = lambda: None) -> tuple[list[int], set[int]]:
    """:func:`exact_verdict` of each exact key ``user@d`` (no '+') of ``entries`` (values
    with ``%N``) in a domain with a catch-all, a batch at a time: (the False ones, the True
    ones) (#18: 300k ``u@d  x%3@store`` beside ``@d  %1%3@store`` or
    ``@d  error:...``, 12 us each there). ``checkpoint``: called before each batch."""
    from virtc.lookup.keys import substitute_users
    from virtc.lookup.resolve import final_kinds

    doms, values = ix.domains, ix.values
    apart: list[int] = []
    alike: set[int] = set()
    for _, chunk in batches(entries):
        checkpoint()
        # The loop's tests, a column at a time (in C): an exact key in a domain with a catch-all.
        keys, texts = ix.stored_keys.take(chunk), values.take(chunk)
        ok = list(map(truth, map(_EXACT_KEY.fullmatch, keys)))
        chosen, keys, texts = kept(ok, chunk, keys, texts)
        at = list(map(doms.position, map(itemgetter(2), map(str.rpartition, keys, repeat("@")))))
        ok = list(map(is_not, at, repeat(None)))
        chosen, keys, texts, found = kept(ok, chosen, keys, texts, at)
        cas = list(map(doms.catch_alls.__getitem__, found))
        ok = list(map(ne, cas, repeat(NO_CATCH_ALL)))
        chosen, keys, texts, cas = kept(ok, chosen, keys, texts, cas)
        theirs_raw = values.take(cas)
        marker = list(map(eq, map(str.strip, theirs_raw, repeat(BLANKS)), repeat("@")))
        alike.update(compress(chosen, marker))  # ('not found': the engine decides)
        chosen, keys, texts, theirs_raw = kept(list(map(not_, marker)), chosen, keys, texts, theirs_raw)
        users = list(map(itemgetter(0), map(str.rpartition, keys, repeat("@"))))
        ats = list(map(str.__getitem__, keys, map(slice, map(len, users), repeat(None))))  # ('@d')
        mine, theirs = substitute_users(texts, keys, users), substitute_users(theirs_raw, ats, users)
        kinds = zip_strict(final_kinds(mine, local), final_kinds(theirs, local))
        for i, stored, a, b, (ka, kb) in zip_strict(chosen, keys, mine, theirs, kinds):
            if a == b:
                alike.add(i)  # (texts_alike of equal texts)
            elif ends_apart(a, b, ka, kb) or not errors_alike(stored, a, b, local) or \
                    not texts_alike(a, b, local, theirs_end):
                apart.append(i)
            else:
                alike.add(i)
    return apart, alike


_EXACT_KEY = re.compile(r"[^+@]*@[^@]*[^.@]")
"""A stored key ``user@d`` of :func:`exact_verdict`: no '+' (an exact key), a domain not
ending in '.'."""
def ends_apart(mine: str, theirs: str, mine_kind: Kind | None, theirs_kind: Kind | None) -> bool:
    """Whether two texts that each end at once (their :func:`~virtc.lookup.resolve.final_kind`)
    end apart: kinds that differ, two different addresses relayed as written, or two local
    names that differ but for case (:func:`texts_alike`'s False without making their two
    ends; #18: 75k ``u@d  u.d`` beside ``@d  %1%3.d``, whose ``+detail`` the catch-all
    keeps)."""
    if mine_kind is None or theirs_kind is None:
        return False
    if mine_kind != theirs_kind:
        return True
    if mine_kind == "remote":
        return mine != theirs
    return mine_kind == "local" and mine.lower() != theirs.lower()


def own_at(catch_all: str) -> bool:
    """Whether ``catch_all``'s own text (not what its ``%N`` puts in) holds an '@'."""
    return "@" in _ARG.sub("", catch_all)


def _last_letters(template: str) -> str:
    """The end of every text ``template`` gives, whatever its ``%N`` put in, and so of a
    value with the same words: its text after the last ``%N`` when that is one word without
    '%' (else '', which every value ends with)."""
    rest = _ARG.split(template)[-1].rstrip()
    return rest if rest.split() == [rest] and "%" not in rest else ""


def template_keys(ix: TableIndex, templates: dict[str, str]) -> Sequence[int]:
    """The keys of the domains of ``templates`` (name -> its catch-all's text, with ``%N``)
    whose value may have the words the catch-all gives: it ends as every text of the
    catch-all does, whatever its %N put in (#18: 440k forwards ``user@d  u@gmail.com``
    beside ``@d  %1%3@mx.d`` substituted for nothing)."""
    ending = {name: _last_letters(text) for name, text in templates.items()}
    domains = map(itemgetter(2), map(str.rpartition, ix.stored_keys, repeat("@")))
    # ('\n' for any other domain: no value ends with it; an array: 4 bytes an entry)
    return array("I", compress(count(), map(str.endswith, map(str.rstrip, ix.values),
                                            map(ending.get, domains, repeat("\n")))))


def template_words(ix: TableIndex, entries: Sequence[int], templates: dict[str, str],
                   local: Callable[[], AbstractSet[str]], checkpoint: Callable[[], None] = lambda: None
                   ) -> tuple[Sequence[int], Sequence[int], list[tuple[int, int]]]:
    """Of ``entries`` (keys of domains whose catch-all has ``%N``: ``templates``, name ->
    its text; ``local``: gives the local domains, when asked), those whose value has no
    '%' and the words the catch-all gives the key's user, the loop's first test of such a
    value: (those :func:`detail_apart` does not settle; those it finds needed; those it
    finds redundant, each with its catch-all), a batch at a time in C (#18: 300k
    ``user@d  x@remote`` beside ``@d  %1@d.mx``). Where the catch-all's own text holds an
    '@', a value without one never has its words (#18: 300k ``user@d  box`` beside
    ``@d  %1%3@store``). (Values with '%' are candidates anyway.) ``checkpoint``: called
    before each batch."""
    from virtc.lookup.keys import substitute_users

    with_at = {name for name, text in templates.items() if own_at(text)}
    # (a key spells the detail: PlainlyRedundant leaves it to the engine)
    apart: array[int] | None = None if ix.stored_keys.contains(_PLUS_DETAIL) else array("I")
    words = array("I")  # (arrays: 4 bytes an entry, where a list holds an int object each)
    redundant: list[tuple[int, int]] = []
    for _, chunk in batches(entries):
        checkpoint()
        texts = ix.values.take(chunk)
        chunk, texts = kept(list(map(not_, map(str.__contains__, texts, repeat("%")))), chunk, texts)
        parts = list(map(str.rpartition, ix.stored_keys.take(chunk), repeat("@")))
        names = list(map(itemgetter(2), parts))
        if with_at:
            free = map(not_, map(with_at.__contains__, names))
            maybe = list(map(or_, free, map(str.__contains__, texts, repeat("@"))))
            chunk, texts, parts, names = kept(maybe, chunk, texts, parts, names)
        users = list(map(itemgetter(0), parts))
        expected = substitute_users(list(map(templates.__getitem__, names)), ["@" + n for n in names], users)
        exact = list(map(eq, texts, expected))
        same = exact.copy()  # (the same words: most are the same text)
        for j in compress(count(), map(not_, exact)):
            same[j] = texts[j].split() == expected[j].split()
        chunk, texts, users, names, exact = kept(same, chunk, texts, users, names, exact)
        if apart is not None and chunk:
            rows, values, row_users, row_names = kept(exact, chunk, texts, users, names)
            needed, alike = detail_apart(ix, rows, values, row_users, row_names, templates, local())
            apart.extend(needed)
            redundant += alike
            settled = {*needed, *map(itemgetter(0), alike)}
            chunk = list(filterfalse(settled.__contains__, chunk))
        words.extend(chunk)
    return words, apart if apart is not None else array("I"), redundant


def detail_apart(ix: TableIndex, entries: list[int], texts: list[str], users: list[str], names: list[str],
                 templates: dict[str, str], local: AbstractSet[str]
                 ) -> tuple[list[int], list[tuple[int, int]]]:
    """Of ``entries`` (of :func:`template_words`, with their values, users and domains: each
    value, to the letter, what the catch-all gives the user), (those
    :class:`PlainlyRedundant` finds needed, those it finds redundant, each with its
    domain's catch-all entry): an exact key without
    '+' (its own value, no wildcard key in its domain) whose ``user+detail@d`` the
    catch-all hands on elsewhere (``%1%3@mx.d``: another address than the value's, both
    relayed at once; #18: 250k ``user@d  user@mx.d`` beside ``@d  %1%3@mx.d``, 15 us each
    there), or to the value itself, with a detail and with an empty one (``d-%1``: #18,
    75k ``user@d  d-user``, 20 us each). No key may spell the detail (the caller's test)."""
    from virtc.lookup.keys import substitute_users
    from virtc.lookup.resolve import MAX_ADDRESS, final_kinds, quick_hops

    doms, shadowed = ix.domains, ix.shadowed_by_duplicate
    # (no wildcard key in the domain, no '+' in the user, not a later duplicate; each name a
    # domain with a catch-all, so with a position)
    places = list(map(cast("Callable[[str], int]", doms.position), names))
    wild = map(doms.kinds.__getitem__, places)
    plain = map(not_, map(or_, map(truth, wild), map(str.__contains__, users, repeat("+"))))
    ok = list(map(and_, plain, map(not_, map(shadowed.__contains__, entries))))
    entries, texts, users, names, places = kept(ok, entries, texts, users, names, places)
    ats = ["@" + n for n in names]
    used = list(map(templates.__getitem__, names))
    theirs = substitute_users(used, ats, users, _DETAIL)  # (what the catch-all makes of user+detail@d)
    ends = zip_strict(final_kinds(texts, local), final_kinds(theirs, local))
    # (user+detail@d is a quick hop with user@d: no '+' in user, room for the detail)
    keys = list(map(str.__add__, users, ats))
    room = map(le, map(len, keys), repeat(MAX_ADDRESS - len(_PLUS_DETAIL)))
    hops = list(map(and_, quick_hops(keys, local, local=doms.all_local(local)), room))  # (doms' names)
    needed = [i for i, a, b, (ka, kb), hop in zip_strict(entries, texts, theirs, ends, hops)
              if hop and ends_apart(a, b, ka, kb)]
    # (the value for the address, with a detail and with an empty one: PlainlyRedundant's True)
    alike = list(compress(count(), map(and_, map(eq, texts, theirs), hops)))
    empty = substitute_users([used[j] for j in alike], [ats[j] for j in alike], [users[j] for j in alike], "")
    return needed, [(entries[j], doms.catch_alls[places[j]]) for j, text in zip_strict(alike, empty)
                    if texts[j] == text]


def relayed(text: str, local: AbstractSet[str]) -> bool:
    """Whether ``text`` (a value after substitution) is a plain address outside ``local``,
    which :func:`~virtc.lookup.resolve.end_at_once` says ends there, relayed as written."""
    from virtc.lookup.resolve import final_kind

    return final_kind(text, local) == "remote"


def _finding(ix: TableIndex, i: int, ca: int, value: str) -> Finding:
    table = ix.table  # (from the columns: no Entry for each of 64k findings)
    keys = table.keys
    return Finding(
        *key_span_at(table, i),
        f"'{keys[i]}' resolves exactly as the catch-all '{keys[ca]}' (line {table.lines[ca]}) "
        f"would ('{shown(value)}'): the entry changes nothing",
        help="delete it, or give it the value that was meant",
    )


class PlainlyRedundant:
    """Whether a plain key ``user@d`` (no '+'; no wildcard key of the user answers before it,
    see :func:`_domain_wildcards`) is redundant without asking the engine: what its value
    makes of the engine's probes (``user@d``, ``user+detail@d``, ``user+@d``) is, to the
    letter, what the key sendmail would try next without it (``++@d``, ``+*@d`` or the
    catch-all) makes of them, and no key spells the probe's detail (nothing else
    answers them first). The probes then go on from the same text with or without the entry.
    False asks the engine (#18: 100k domains whose every entry is what ``@d  %1-N@host``
    gives took 16 s; 50k ``user@d  user%3@host`` beside ``@d  %1%3@host``, 12 s)."""

    def __init__(self, local: AbstractSet[str], detail_keys: bool, table: LookupTable | None = None) -> None:
        """``table``: the lookups of the run, to follow texts that are local addresses
        (None: such texts leave it to the engine)."""
        from virtc.lookup import substitute
        from virtc.lookup.resolve import end_at_once, quick_hop, quick_path

        self.local, self.table = local, table
        self.substitute, self.quick_hop, self.detail_keys = substitute, quick_hop, detail_keys
        self.end_at_once, self.quick_path = end_at_once, quick_path
        self._end_of = lru_cache(maxsize=10_000)(self._end)  # (the catch-all's texts repeat)

    def __call__(self, stored: str, value: str, catch_all: str,
                 wildcards: tuple[str | None, str | None] | Literal["own"] = (None, None)) -> bool | None:
        """True: redundant; False: provably not; None: the engine decides. ``wildcards``: the
        values of the domain's ``++@`` and ``+*@`` keys (None: no such key), which answer a
        '+detail' address before the catch-all once the entry is gone; "own": the user's own
        ``user+*@`` key answers every '+detail' address, so only ``user@d`` reaches the entry
        (see :func:`_domain_wildcards`)."""
        user, _, name = stored.rpartition("@")
        if self.detail_keys or "+" in user:
            return None
        quick_hop, local, substitute = self.quick_hop, self.local, self.substitute
        if not (quick_hop(stored, local) and quick_hop(f"{user}{_PLUS_DETAIL}@{name}", local)):
            return None
        if wildcards == "own":
            pair = substitute(value, (stored, user)), substitute(catch_all, (f"@{name}", user))
            return True if pair[0] == pair[1] else self._same_ends([pair], user, name)
        plus, star = wildcards
        if any(v is not None and says_not_found(v) for v in wildcards):
            return None  # (a "not found" marker: the engine follows what comes after it)

        def after(detail: str) -> tuple[str, str]:
            """The key and value answering user+detail@name without the entry (lookup_keys'
            rows 5, 6, 7: after 'user@name', row 4)."""
            if detail and plus is not None:
                return f"++@{name}", plus
            return (f"+*@{name}", star) if star is not None else (f"@{name}", catch_all)

        # user@name meets the catch-all next (row 8): no '+', no wildcard row.
        nexts = [((user,), f"@{name}", catch_all), *(((user, d, "+" + d), *after(d)) for d in (_DETAIL, ""))]
        pairs = [(substitute(value, (stored, *args)), substitute(theirs, (key, *args)))
                 for args, key, theirs in nexts]
        if all(mine == theirs for mine, theirs in pairs):
            return True
        # The probe user+detail@name reaches the entry (nothing before it): if what follows
        # ends at once, and otherwise, the entry is needed (#18: 'user@d  user%3@store' in a
        # domain whose '++@d  %1@store' drops the detail).
        if not texts_alike(*pairs[1], local):
            return False
        return self._same_ends(pairs, user, name)

    def _same_ends(self, pairs: list[tuple[str, str]], user: str, name: str) -> bool | None:
        """Whether each probe ends the same with the entry's text and the next key's, when
        both ends are found in a few lookups that never meet a key of ``user@name`` (#18:
        50k 'u@d  %1@d2' beside '@d  error:...', the catch-all of d2 rejecting alike)."""
        if self.table is None:
            return None
        ends = []
        mine = (fold(user), fold(name))
        for text in chain.from_iterable(pairs):
            found = self._end_of(text)
            if found is None:
                return None
            end, keys = found
            if mine in keys:
                return None  # (through the entry's own key: the engine decides)
            ends.append(end)
        return ends[0::2] == ends[1::2]

    def _end(self, text: str) -> tuple[Final, set[tuple[str, str]]] | None:
        """How ``text`` ends, and (user without '+detail', domain) of each address looked up
        on the way; None when that takes the engine."""
        end = self.end_at_once(text, self.local)
        if end is not None:
            return end, set()
        assert self.table is not None
        found = self.quick_path(text, self.table, self.local)
        if found is None:
            return None
        end, looked = found
        keys = set()
        for address in looked:
            local_part, _, domain = fold(address).rpartition("@")
            keys.add((local_part.split("+")[0], domain))
        return end, keys


def alike_for_everyone(value: str, catch_all: str, name: str) -> bool:
    """Whether a ``+*@name`` key's ``value`` gives every address that reaches it the text
    the catch-all (value ``catch_all``), the next key, gives it: the same text with the user
    and the detail as symbols no value holds, so for any user and detail. Then deleting it
    changes no address's path."""
    from virtc.lookup import substitute

    if says_not_found(catch_all):
        return False  # (a "not found" marker: what follows is not the catch-all's text)
    user, detail = "\u0101", "\u0100"  # (a value holds Latin-1 only)
    args = (user, detail, "+" + detail)
    return substitute(value, (f"+*@{name}", *args)) == substitute(catch_all, (f"@{name}", *args))


class _DomainAny:
    """For a ``+*@d`` key, :func:`alike_for_everyone` and whether the engine's probe finds it
    first, kept per value where the domain does not count: in neither, unless a value holds
    ``%0`` (the key itself) or a key names the probe's user (#18: 100k ``+*@d  %1+%2@store``
    beside ``@d  %1%3@store``, 25 us each)."""

    def __init__(self, probe_named: bool) -> None:
        self.probe_named = probe_named
        self._alike: dict[tuple[str, str], bool] = {}
        self._first: dict[str, bool] = {}

    def alike(self, value: str, catch_all: str, name: str) -> bool:
        if "%0" in value or "%0" in catch_all:
            return alike_for_everyone(value, catch_all, name)
        found = self._alike.get((value, catch_all))
        if found is None:
            if len(self._alike) > 10_000:
                self._alike.clear()  # (a table of as many templates as domains)
            found = self._alike[(value, catch_all)] = alike_for_everyone(value, catch_all, name)
        return found

    def found_first(self, eng: Engine, key: Key, stored: str, value: str) -> bool:
        """Whether :func:`~virtc.lookup.resolve.first_key` of the engine's probe of ``key``
        (stored ``stored``, value ``value``: the one makemap keeps) is ``stored``. With no key
        naming the probe's user, the probe (``virtc-probe+@d``) meets ``+*@d`` first: whether
        its value, after ``%N``, is a "not found" marker that sends it on is the same in every
        domain whose probe is looked up at all (:func:`~virtc.lookup.resolve.quick_hop`)."""
        from virtc.lookup.resolve import first_key, quick_hop

        probe = eng.probe(key)
        if self.probe_named or "%0" in value or len(stored) >= MAXNAME:
            return first_key(probe, eng.table, eng.domains) == stored
        if not quick_hop(probe, eng.domains):
            return False  # (first_key's False)
        found = self._first.get(value)
        if found is None:
            if len(self._first) > 10_000:
                self._first.clear()
            found = self._first[value] = first_key(probe, eng.table, eng.domains) == stored
        return found


def _domain_wildcards(ix: TableIndex, p: int, name: str,
                      user: str) -> tuple[str | None, str | None] | Literal["own"] | None:
    """The values of the ``++@name`` and ``+*@name`` keys (None for none) that answer
    ``user+detail@name`` when ``user@name`` is gone; "own" when the user's own ``user+*@name``
    key answers every ``user+detail@name`` and ``user+@name`` first (lookup_keys' row 3, before
    ``user@name``: only ``user@name`` reaches the entry; #18: 10k such users, 4 resolutions
    each); None when a ``user++@`` key alone, or a "not found" marker, does (the engine
    decides then)."""
    if not ix.domains.kinds[p]:
        return None, None
    dom = ix.domains.at(p, name)
    mine = ix.find(dom, _USER_ANY, user)
    if mine is not None:
        return None if says_not_found(ix.values[mine]) else "own"
    if ix.find(dom, _USER_PLUS, user) is not None:
        return None
    plus, star = ix.find(dom, KeyKind.DOMAIN_PLUS), ix.find(dom, KeyKind.DOMAIN_ANY)
    return None if plus is None else ix.values[plus], None if star is None else ix.values[star]


def _with_texts(ix: TableIndex, entries: list[int],
                checkpoint: Callable[[], None]) -> Iterator[tuple[int, str, str]]:
    """(entry, stored key, value) of ``entries``, the texts taken a batch at a time
    (``checkpoint`` called before each)."""
    for _, chunk in batches(entries):
        checkpoint()
        yield from zip_strict(chunk, ix.stored_keys.take(chunk), ix.values.take(chunk))


_DETAIL = "virtcdetail"
_PLUS_DETAIL = "+" + _DETAIL
_PROBE_USER = "virtcuser"
# (Module constants: an Enum member's attribute lookup costs 0.2 us, and this runs per entry.)
_ADDRESS, _CATCH_ALL = KeyKind.ADDRESS, KeyKind.CATCH_ALL
_USER_ANY, _USER_PLUS = KeyKind.USER_ANY, KeyKind.USER_PLUS
_HACK = re.compile("[@!%]")


def may_equal_fixed(value: str, stored: str, get: Callable[[str], str | None],
                    local: AbstractSet[str] | None = None) -> bool:
    """Whether deleting the key ``stored`` (value ``value``) may leave its addresses where they
    are. For a value naming a local user (no ``@``, ``!`` or ``%`` hack): compare, for an
    address that reaches the key with a symbolic detail, what the key gives with what the
    next key sendmail would try gives (through ``get``, the map). Different words: not
    redundant, whatever the detail. Two texts that end at once (``local``: the local
    domains; :func:`~virtc.lookup.resolve.end_at_once`), differently: not redundant.
    Anything else: the engine decides. A cheap test that spares the engine every
    ``user+*@d  user+%2`` of a table, and every ``++@d  %1@host`` beside ``+*@d
    %1+%2@host`` (#18)."""
    from virtc.lookup import lookup_keys

    key = Key.parse(stored)
    if key.kind is KeyKind.ADDRESS:
        probes = [stored]
    elif key.kind in (KeyKind.USER_ANY, KeyKind.USER_PLUS):
        probes = [f"{key.user}+{_DETAIL}@{key.domain}"]
    else:  # (with local domains known, also an empty detail: past a '++@d' key to '+*@d')
        probes = [f"{_PROBE_USER}+{_DETAIL}@{key.domain}"]
        if local is not None:
            probes.append(f"{_PROBE_USER}+@{key.domain}")
    for probe in probes:
        tried = lookup_keys(probe)
        at = next((n for n, lk in enumerate(tried) if lk.key.lower() == stored), None)
        if at is not None and all(get(lk.key) is None for lk in tried[:at]):
            return _next_key_alike(value, tried, at, get, local)
    return True  # (those addresses stop earlier: only others reach the key)


def _next_key_alike(value: str, tried: list[LookupKey], at: int, get: Callable[[str], str | None],
                    local: AbstractSet[str] | None) -> bool:
    """:func:`may_equal_fixed` for the address whose keys are ``tried``, of which the one at
    ``at`` (value ``value``) is the first found."""
    from virtc.lookup import substitute

    mine = substitute(value, tried[at].args)
    for later in tried[at + 1:]:
        other = get(later.key)
        if other is None or other.strip(BLANKS) == "@":
            continue
        return texts_alike(mine, substitute(other, later.args), local)
    return True


def texts_alike(mine: str, theirs: str, local: AbstractSet[str] | None,
                theirs_end: Callable[[str], Final | None] | None = None) -> bool:
    """Whether what the key gives (``mine``) and what the next key gives (``theirs``), each
    after its %N (a '%' left is a character), may lead to the same place: the same words
    for names; for addresses, False only when both end at once, differently (``local``:
    the local domains; None: not asked). ``theirs_end``:
    :func:`~virtc.lookup.resolve.end_at_once` for ``local`` and a literal text, remembering
    (a catch-all's text is the next key's for each of its domain's entries)."""
    if any(c in text for text in (mine, theirs) for c in "@!%"):
        if local is not None:  # both end at once (a remote address, a reject, a name) otherwise?
            from virtc.lookup.resolve import end_at_once

            end = end_at_once(theirs, local, True) if theirs_end is None else theirs_end(theirs)
            if end is not None:
                mine_end = end_at_once(mine, local, True)
                if mine_end is not None and mine_end != end:
                    return False
        return True
    return mine.lower().split() == theirs.lower().split()


class _UserWildcards:
    """:func:`may_equal_fixed` for the ``user++@d`` and ``user+*@d`` keys of a table at once
    (a table may give every mailbox one, ``user+*@d  box+%2``): the domain's wildcard and
    catch-all keys come from the shared domain facts, and each ``user@d`` key from the key
    index (no engine). (A hash join of every such address against the stored keys took as
    long, and 50 MB more on a table of 240k wildcards.)"""

    def __init__(self, ix: TableIndex, engine: Callable[[], Engine] | None = None) -> None:
        """``engine``: the run's lookup engine, for :meth:`may_end_alike` (None: never asked)."""
        from virtc.lookup import substitute  # (the engine: not for a table without %N)
        from virtc.lookup.resolve import end_at_once, quick_end

        self.substitute, self.domains, self.values = substitute, ix.domains, ix.values
        self.engine, self.end_at_once, self.quick_end = engine, end_at_once, quick_end
        self.stored_keys, self.first = ix.stored_keys, ix.table.key_index.first
        self.pairs, self.find, self.own_wildcards = ix.wildcard_pairs, ix.find, ix.own_wildcards
        self.detail_keys = ix.stored_keys.contains(f"+{_DETAIL}@")
        """Some key spells the probe's detail: its exact key may answer first (not handled)."""
        self.probe_keys = ix.stored_keys.contains(_PROBE_USER)
        """Some key spells the domain wildcards' probe user (not handled)."""
        self.alike: dict[tuple[str, str, str], bool] = {}

    def differing(self, with_pct: Sequence[int]) -> list[int]:
        """The usual wildcards, ``user+*@d  box+%2`` beside ``user@d  box``, for which
        :meth:`may_equal_fixed` is False, found without substituting: the value has one
        ``%2`` or ``%3`` and nothing sendmail reads an address from, so what it gives
        holds the probe's detail; the key sendmail tries next is ``user@d``, whose value
        has neither the detail nor a ``%``: other words, whatever the detail."""
        if self.detail_keys or not with_pct:
            return []
        domains, get, values, keys = self.domains, self.first, self.values, self.stored_keys
        # ('user+*@d' beside 'user++@d': the one tried first decides; not handled here)
        both = {f"{user}@{name}" for i, _ in self.pairs
                for _, user, name in [wildcard_parts(keys[i])] if user}
        longest = MAXNAME - len(_DETAIL)
        out: list[int] = []
        for _, chunk in batches(with_pct):
            chosen = list(compress(chunk, map(_ONE_DETAIL.fullmatch, values.take(chunk))))
            entries, later = [], []
            for i, m in zip_strict(chosen, map(_USER_WILDCARD.fullmatch, keys.take(chosen))):
                if m is None or m.end() > longest:
                    continue
                user, _, name = m.groups()
                if name not in domains or name.endswith("."):
                    continue
                address = f"{user}@{name}"
                j = get(address)
                if j is not None and address not in both:
                    entries.append(i)
                    later.append(j)
            theirs = values.take(later)
            ok = map(all, zip_strict(map(_NO_HACK.fullmatch, theirs), map(_no_detail, theirs)))
            out += compress(entries, ok)
        return out

    def may_equal_fixed(self, i: int, value: str, stored: str) -> bool | None:
        """:func:`may_equal_fixed` for entry ``i`` (``value``, stored key ``stored``), or None
        for a key this does not handle."""
        m = _USER_WILDCARD.fullmatch(stored)
        if m is None or self.detail_keys or len(stored) + len(_DETAIL) > MAXNAME:
            return None
        user, wild, name = m.groups()
        dom = self.domains.get(name)
        if dom is None or name.endswith("."):
            return None
        if wild == "*" and self.find(dom, _USER_PLUS, user) is not None:
            return True  # (that address stops earlier: only others reach the key)
        for kind, shape in _LATER[wild]:
            if kind is _ADDRESS:
                key = f"{user}@{name}"
                j = self.first(key)
            elif kind is _CATCH_ALL:
                key, j = f"@{name}", dom.catch_all
            else:
                mine_too = kind is _USER_ANY
                key = f"{user if mine_too else ''}{shape}{name}"
                j = self.find(dom, kind, user if mine_too else "")
            if j is None:
                continue
            other = self.values[j]
            if other.strip(BLANKS) == "@":
                continue
            mine = self.substitute(value, (stored, user, _DETAIL, _PLUS_DETAIL))
            theirs = self.substitute(other, (key, user, _DETAIL, _PLUS_DETAIL))
            if _HACK.search(mine) or _HACK.search(theirs):
                return self.may_end_alike(mine, theirs)
            return mine.lower().split() == theirs.lower().split()
        return True

    def domain_wildcard(self, value: str, stored: str, local: AbstractSet[str]) -> bool | None:
        """:func:`may_equal_fixed` for a ``++@d`` or ``+*@d`` key (``local``: the local
        domains), from the domain's keys: no key spells the probes' user or detail, so the
        first key their addresses meet is one of the domain's. The comparison is kept per
        pair of texts without ``%0`` (a table's domains share a few templates: #18, 100k
        ``+*@d  %1@xN`` beside ``@d  error:...``). None for any other key."""
        if self.detail_keys or self.probe_keys or not stored.startswith(("++@", "+*@")):
            return None
        name = stored[3:]
        p = self.domains.position(name)
        if p is None or name.endswith(".") or len(name) + len(f"{_PROBE_USER}{_PLUS_DETAIL}@") > MAXNAME:
            return None
        plus, star = self.own_wildcards(p)
        ca = self.domains.catch_alls[p]
        keys = ((f"++@{name}", plus), (f"+*@{name}", star),
                (f"@{name}", None if ca == NO_CATCH_ALL else ca))  # (lookup_keys rows 5, 6, 7)
        for detail in (_DETAIL, ""):
            tried = keys if detail else keys[1:]  # (an empty detail skips '++@d')
            names = [key for key, _ in tried]
            if stored not in names:
                continue
            at = names.index(stored)
            if any(j is not None for _, j in tried[:at]):
                continue  # (this probe stops at an earlier key)
            nexts = [(key, self.values[j]) for key, j in tried[at + 1:] if j is not None]
            nexts = [(key, text) for key, text in nexts if text.strip(BLANKS) != "@"]  # ('@': not found)
            if not nexts:
                return True
            key, later = nexts[0]
            memo = "%0" not in value and "%0" not in later
            found = self.alike.get((value, later, detail)) if memo else None
            if found is None:
                args = (_PROBE_USER, detail, "+" + detail)
                found = texts_alike(self.substitute(value, (stored, *args)),
                                    self.substitute(later, (key, *args)), local)
                if memo:
                    if len(self.alike) > 10_000:
                        self.alike.clear()  # (a table of as many templates as domains)
                    self.alike[(value, later, detail)] = found
            return found
        return True

    def may_end_alike(self, mine: str, theirs: str) -> bool:
        """False when the probe provably ends otherwise with the key than without it: what
        the key gives (``mine``) ends as :func:`~virtc.lookup.resolve.quick_end` says (a
        path of plain hops, none revisited: no loop through the key), what the next key
        gives (``theirs``) ends by itself (no lookup that the deleted key could answer; an
        address relayed elsewhere, :func:`~virtc.lookup.resolve.relayed_end`, too), and the
        two ends differ (#18: 140k ``user+*@d  user+%2@mailstore`` went to the
        engine). True: the engine decides."""
        if self.engine is None:
            return True
        eng = self.engine()
        without = self.end_at_once(theirs, eng.domains)
        if without is None:
            return True
        with_it = self.end_at_once(mine, eng.domains) or self.quick_end(mine, eng.table, eng.domains)
        return with_it is None or with_it == without


_LATER = {wild: (*([(KeyKind.USER_ANY, "+*@")] if wild == "+" else []), (KeyKind.ADDRESS, "@"),
                 (KeyKind.DOMAIN_PLUS, "++@"), (KeyKind.DOMAIN_ANY, "+*@"), (KeyKind.CATCH_ALL, "@"))
          for wild in "+*"}
"""The keys sendmail tries after a ``user++@d`` / ``user+*@d`` key, in order (kind, shape)."""
_ONE_DETAIL = re.compile(r"[^%@!]*%[23][^%@!]*")
"""A value with one ``%2`` or ``%3``, and no other ``%``, ``@`` or ``!``."""
_NO_HACK = re.compile(r"[^%@!]*")


def _no_detail(value: str) -> bool:
    return _DETAIL not in value.lower()


_USER_WILDCARD = re.compile(r"([^+][^+]*)\+([+*])@([^@]*)")
"""A stored ``user++@d`` or ``user+*@d`` key (Key.parse's USER_PLUS and USER_ANY, whose
domain holds no '@')."""


def _probes(key: Key, first: str, plus_keys: bool) -> list[str]:
    """Addresses reaching ``key``: its own, and plussed ones that may fall back to it.

    An empty detail (``user+@d``) takes another path only past ``++`` keys. The detail is
    one no key spells (:data:`_DETAIL`): with ``+x`` an exact ``user+x@d`` key answered the
    probe first, and a ``user+*`` entry that changes every other detail was called redundant.
    """
    local, _, dom = first.rpartition("@")
    if key.kind is KeyKind.ADDRESS and "+" not in key.user:
        return [first, f"{local}+{_DETAIL}@{dom}", *([f"{local}+@{dom}"] if plus_keys else [])]
    if key.kind is KeyKind.DOMAIN_ANY:
        return [first, f"{local[:-1]}+{_DETAIL}@{dom}"]
    if key.kind is KeyKind.USER_ANY:
        return [first, f"{local}{_DETAIL}@{dom}"]
    return [first]
