"""Work the rules share, computed once per run and kept in ``ctx.cache``.

Parsing every key and value is the expensive part of linting a large table, so
it is done here once; rules then walk these lists (one pass, small per-domain
state). The rules' shared facts API: a rule reads the table through these.
"""

from __future__ import annotations

import re
from array import array
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from functools import cached_property
from itertools import compress, count, filterfalse, islice, repeat
from operator import add, and_, eq, is_not, itemgetter, ne, not_, sub
from typing import Any, NamedTuple, TypeVar, cast

from virtc.compat import zip_strict
from virtc.lint.rule import LintContext
from virtc.lint.shared import DOMAIN_ALIAS
from virtc.model import BLANKS, Entry, KeyKind, Value, fold
from virtc.speed.column import SCAN_BLOCK, Column
from virtc.speed.keyindex import KeyIndexParts
from virtc.table import Table

T = TypeVar("T")

_WILD_BITS = {KeyKind.DOMAIN_PLUS: 1, KeyKind.DOMAIN_ANY: 2, KeyKind.USER_PLUS: 4, KeyKind.USER_ANY: 8}
"""A bit for each ``+`` wildcard kind, in :attr:`Domain.kinds`."""
_DOMAIN_PLUS, _DOMAIN_ANY, _USER_PLUS, _USER_ANY = (
    _WILD_BITS[k] for k in (KeyKind.DOMAIN_PLUS, KeyKind.DOMAIN_ANY, KeyKind.USER_PLUS, KeyKind.USER_ANY))
_WILD_SHAPES = {KeyKind.DOMAIN_PLUS: "++@", KeyKind.DOMAIN_ANY: "+*@", KeyKind.USER_PLUS: "++@",
                KeyKind.USER_ANY: "+*@"}
_USER_KINDS = frozenset({KeyKind.USER_PLUS, KeyKind.USER_ANY})


class Domain(NamedTuple):
    """One (folded) domain's facts (a snapshot of :class:`Domains`' arrays): its catch-all and
    which ``+`` wildcard keys it has (where its entries are: :meth:`TableIndex.extent`; its
    wildcard keys: :meth:`TableIndex.find`)."""

    name: str
    keys: int
    """How many keys end in ``@name``, repeats included."""
    catch_all: int | None
    """The entry of the ``@domain`` key."""
    kinds: int
    """Which of the kinds ``user++@``, ``user+*@``, ``++@``, ``+*@`` it has keys of, a bit
    each (:meth:`has`): the keys themselves are in :attr:`TableIndex.wildcards`."""

    def has(self, kind: KeyKind) -> bool:
        """Whether the domain has a key of the ``+`` wildcard ``kind``."""
        return bool(self.kinds & _WILD_BITS[kind])


PROBE = "virtc-probe"
"""The user of the lookup engine's made-up probes (:meth:`virtc.lint.engine.Engine.probe`)."""

NO_CATCH_ALL = -1
"""In :attr:`Domains.catch_alls`: the domain has no ``@domain`` key."""


class Domains:
    """The folded domains of a table's keys (in order of first appearance), their facts in
    arrays by position: no object per domain. After the lint's fork both processes walk
    every domain, and an object's reference count is written when it is read: 300k domain
    objects (tiny shape, #18) were copied into each process, 57 MB apiece. Read as a mapping
    name -> :class:`Domain` (made when asked), or by position (:meth:`position`) in the
    arrays, which rules that walk every domain do."""

    def __init__(self, names: Column, at: dict[str, int], keys: array[int], catch_alls: array[int],
                 kinds: bytearray) -> None:
        """``at``: name -> position (its names are not read again: shared pages stay shared)."""
        self.names = names
        """Position -> name (a fresh string each time: none is kept per domain)."""
        self.key_counts = keys
        """Position -> how many keys end in ``@name``, repeats included."""
        self.catch_alls = catch_alls
        """Position -> the entry of its ``@domain`` key, or :data:`NO_CATCH_ALL`."""
        self.kinds = kinds
        """Position -> :attr:`Domain.kinds`."""
        self._at = at
        self._keys = at.keys()
        self.position = self._at.get
        """Name (folded) -> its position, None for no domain of the table."""

    def __len__(self) -> int:
        return len(self.key_counts)

    def __contains__(self, name: object) -> bool:
        return name in self._at

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)  # (split a block at a time: not 300k strings at once)

    def __getitem__(self, name: str) -> Domain:
        return self.at(self._at[name], name)

    def get(self, name: str) -> Domain | None:
        p = self._at.get(name)
        return None if p is None else self.at(p, name)

    def at(self, p: int, name: str | None = None) -> Domain:
        """The domain at position ``p`` (``name``: its name, if the caller has it)."""
        ca = self.catch_alls[p]
        return Domain(self.names[p] if name is None else name, self.key_counts[p],
                      None if ca == NO_CATCH_ALL else ca, self.kinds[p])

    def keys(self) -> AbstractSet[str]:
        """The names, as a set (C speed membership: the lookup engine's local domains), the
        same object each time (see :meth:`all_local`)."""
        return self._keys

    def all_local(self, local: AbstractSet[str]) -> bool:
        """Whether ``local`` (the run's local domains) is these names as :meth:`keys` gives
        them (the engine's default): then every domain of the table is local, and a rule
        need not look a domain's name up to know it."""
        return local is self._keys

    def values(self) -> Iterator[Domain]:
        return map(self.at, range(len(self)), self.names)

    def items(self) -> Iterator[tuple[str, Domain]]:
        return ((dom.name, dom) for dom in self.values())

    def with_catch_all(self) -> array[int]:
        """Positions (ascending) of the domains that have a catch-all (an array: a list of
        300k positions holds an int object each, 40 bytes, where this has 8)."""
        return array("l", compress(range(len(self)), map(ne, self.catch_alls, repeat(NO_CATCH_ALL))))

    def catch_all_entries(self, without: KeyKind | None = None) -> array[int]:
        """The entries of the domains' catch-alls (of those without a key of the ``+``
        wildcard kind ``without``, if given)."""
        bit = 0 if without is None else _WILD_BITS[without]
        have = map(ne, self.catch_alls, repeat(NO_CATCH_ALL))
        plain = map(not_, map(and_, self.kinds, repeat(bit)))
        return array("l", compress(self.catch_alls, map(and_, have, plain)))

    def without_catch_all(self) -> array[int]:
        """Positions (ascending) of the domains that have none."""
        return array("l", compress(range(len(self)), map(eq, self.catch_alls, repeat(NO_CATCH_ALL))))

    def may_have_keys(self, p: int | None) -> bool:
        """:func:`may_have_keys` of the domain at ``p`` (None: no domain of the table)."""
        return p is None or self.key_counts[p] > 1 or self.catch_alls[p] == NO_CATCH_ALL


def may_have_keys(dom: Domain | None) -> bool:
    """Whether an address ``user@D`` (``dom``: D's facts, None for a domain without keys) may
    have a key of its own: not when D's one key is its catch-all (a domain alias, where a
    table's forwards often point: no lookup needed)."""
    return dom is None or dom.keys > 1 or dom.catch_all is None


class Extent(NamedTuple):
    """Where a domain's stored entries are (indices into ``table.entries``)."""

    first: int
    entries: int
    last: int
    """In file order: a missing catch-all goes after it."""


_PLUS_KEY = re.compile(r"\+[+*]@[^@\n]*(?=\n)")
_PLUS_KINDS = {(False, "+"): KeyKind.DOMAIN_PLUS, (False, "*"): KeyKind.DOMAIN_ANY,
               (True, "+"): KeyKind.USER_PLUS, (True, "*"): KeyKind.USER_ANY}
"""(has a user part, the key's last character before '@') -> kind, for keys ``_PLUS_KEY`` finds."""
_PLUS_BITS = {shape: _WILD_BITS[kind] for shape, kind in _PLUS_KINDS.items()}
"""The same -> the kind's bit (an enum member hashes in Python: 120k keys on templates)."""
_ERROR = re.compile(r"(?i)\nerror")
PLAIN_REJECT = (r"(?i:error)[ \t]*:[ \t]*5[0-9]*[ \t]*\.[ \t]*[0-9]+[ \t]*\.[ \t]*[0-9]+[ \t]*:"
                r"[ \t]*5[0-9]{2} [ ]*[!-~][ -~]*(?=\n)")
"""A value (after its newline in a column) that is ``error:5.x.x:5xx text`` in printable
ASCII: a well-formed permanent reject. Most ``error:`` values of a table are, and no rule
has anything to say about them, so scans skip them instead of parsing each."""
_ERROR_NOT_PLAIN = re.compile(f"\n(?!{PLAIN_REJECT})(?i:error)")
_PERCENT = re.compile("%")
_AT = re.compile("@")
ENDS_BLANK = re.compile(f"[{BLANKS}](?=\n)")
"""A value that ends in a blank (makemap stores it: VT105, VT203)."""
_NOT_LOOKED_UP = -2
RELAYED = -3
"""In :attr:`TableIndex.forward_hits`: a plain target outside the local domains, not looked up."""
IMPLAUSIBLE_DOMAIN = re.compile(r"(?<=\n)[.\n]|[{}<>%$*]|[.:]\n")
"""Domains no address has, in a column of names: empty, '.x', 'x.', 'x:', template debris
(see VT104)."""
_IMPLAUSIBLE_PARTS = ("\n.", "\n\n", ".\n", ":\n", *"{}<>%$*")
"""What ``IMPLAUSIBLE_DOMAIN`` needs in a column's text to match (each found by memchr)."""


def implausible_domains(names: Column) -> Sequence[int]:
    """Indices of the names ``IMPLAUSIBLE_DOMAIN`` finds something in; a few substring tests
    first, since the regex (no literal to look for) scans a character at a time."""
    if not any(map(names.text.__contains__, _IMPLAUSIBLE_PARTS)):
        return []
    return names.matching(IMPLAUSIBLE_DOMAIN)


_NO_AT = re.compile(r"\n[^@\n]*(?=\n)")
_ODD_END = re.compile("[^A-Za-z0-9]")
_ODD_DOMAIN_END = re.compile("[^A-Za-z0-9\n]\n")
"""In a column of domain parts: one that ends in no ASCII letter or digit."""
_DOMAIN_PART = re.compile("@([^@\n]*)(?=\n)")
"""In a column of keys: the part after each key's last '@'."""
_CATCH_ALL_DOMAIN = re.compile("\n@([^\n]*)(?=\n)")
"""In a column of keys: what follows the '@' each key starting with one starts with."""
_NOT_AT_OR_NEWLINE = bytes(b for b in range(256) if b not in b"@\n")


def _one_at_each(text: str, n: int) -> bool:
    """Whether each of the ``n`` texts of a column's ``text`` holds exactly one '@'.

    Its '@'s and newlines alone must read ``"\\n@\\n@...\\n"``: deleted a block at a time,
    in C (faster than a regex looking for a key without, or with two).
    """
    skeleton = b"".join(text[i:i + SCAN_BLOCK].encode("latin-1").translate(None, _NOT_AT_OR_NEWLINE)
                        for i in range(0, len(text), SCAN_BLOCK))
    return skeleton == b"\n@" * n + b"\n"


class DomainAliases(Mapping[str, str]):
    """:attr:`TableIndex.aliases`: the target of each domain alias by domain position, an
    index into the distinct targets' names (4 bytes a domain, where a dict of names costs
    some 150: #18, a million parked domains)."""

    def __init__(self, domains: Domains, targets: array[int], names: list[str]) -> None:
        self._position, self._domains = domains.position, domains
        self.targets = targets
        """Domain position -> its target's number in :attr:`names`, -1 for no alias."""
        self.names = names

    def get(self, name: str, default: Any = None) -> Any:
        p = self._position(name)
        if p is None:
            return default
        k = self.targets[p]
        return default if k < 0 else self.names[k]

    def __getitem__(self, name: str) -> str:
        found = self.get(name)
        if found is None:
            raise KeyError(name)
        return cast(str, found)

    def at(self, p: int) -> str | None:
        """The target of the domain at position ``p``, None if it is no alias."""
        k = self.targets[p]
        return None if k < 0 else self.names[k]

    def positions(self) -> Iterator[int]:
        """The positions of the aliases, ascending."""
        return compress(count(), map(ne, self.targets, repeat(-1)))

    def __iter__(self) -> Iterator[str]:
        return iter(self._domains.names.take(list(self.positions())))

    def __len__(self) -> int:
        return len(self.targets) - self.targets.count(-1)


def entry_mask(n: int, indices: Iterable[int]) -> bytearray:
    """1 at each of ``indices``, 0 at the other of ``n`` entries: a membership test of a byte
    an entry, set in C (a set of the indices costs some 50 bytes each)."""
    mask = bytearray(n)
    deque(map(mask.__setitem__, indices, repeat(1)), maxlen=0)
    return mask


def _plus_twin(stored: str) -> str:
    """The ``++@`` key of a stored ``+*@`` wildcard key (its user holds no '+': the first
    ``+*@`` is the wildcard's)."""
    return stored.replace("+*@", "++@", 1)


def wildcard_parts(stored: str) -> tuple[KeyKind, str, str]:
    """(kind, user, domain) of a stored key of :attr:`TableIndex.wildcards` (``user`` '' for
    ``++@``, ``+*@``)."""
    local, _, domain = stored.rpartition("@")
    user = local[:-2]
    return _PLUS_KINDS[bool(user), local[-1]], user, domain


class TableIndex:
    """What rules share about a table: its columns, stored keys, duplicates, domains.

    Built with whole-column string operations and regexes (C speed): parsing every
    key and value into model objects would cost seconds on a 1M-entry table, so
    rules parse only the entries such a scan selects.
    """

    def __init__(self, table: Table) -> None:
        self.table = table
        self._odd_ending = True
        """Whether a part after the last '@' ends in no ASCII letter or digit (set with the domains)."""
        self.entries = table.entries
        self.keys = table.keys
        """The keys as written."""
        self.values = table.values
        """The values as stored."""

    @property
    def stored_keys(self) -> Column:
        """Keys as makemap stores them (ASCII-folded), parallel to ``entries``."""
        return self.table.stored_keys

    @property
    def duplicates(self) -> list[tuple[int, int]]:
        """(first, later) entry indices for every key makemap already stored (it keeps the first)."""
        return self.table.key_index.duplicates

    @property
    def shadowed_by_duplicate(self) -> frozenset[int]:
        """Indices of later duplicates: entries makemap does not store."""
        return self.table.key_index.later

    @cached_property
    def probe_named(self) -> bool:
        """Whether some key holds ``virtc-probe``, the user of the engine's made-up probes:
        rules that stand in for such a probe (VT205, VT207) leave it to the engine then."""
        return self.stored_keys.contains(PROBE)

    @cached_property
    def one_at_each(self) -> bool:
        """Whether every key holds exactly one '@' (the usual table: VT104 need not look closer)."""
        keys = self.stored_keys
        return _one_at_each(keys.text, len(keys))

    @cached_property
    def no_at(self) -> Sequence[int]:
        """Indices of keys without an '@' (VT104)."""
        return [] if self.one_at_each else self.stored_keys.matching(_NO_AT)

    def prepare(self, key_index: Callable[[], KeyIndexParts],
                helped: tuple[Iterable[int], Callable[[], dict[str, object]]] | None = None) -> None:
        """Build what every rule needs while a helper process builds the key index
        (``key_index`` waits for it). ``helped``: the numbers of the :data:`COLUMN_FACTS`
        to find here (those the helper has not claimed), and a function waiting for the
        helper's (name -> value); else :attr:`forwards` is found here."""
        _ = self.domains
        if helped is None:
            _ = self.forwards  # (in the time the helper still takes)
        else:
            self.column_facts(helped[0])  # (those the helper has not claimed, meanwhile)
            self.__dict__.update(helped[1]())
        if not self.table.has_key_index:
            self.table.adopt_key_index(key_index())

    def column_facts(self, numbers: Iterable[int]) -> dict[str, object]:
        """The :data:`COLUMN_FACTS` of ``numbers``, by name (a helper's, for :meth:`prepare`)."""
        return {COLUMN_FACTS[k]: getattr(self, COLUMN_FACTS[k]) for k in numbers}

    def drop_lookups(self, ctx: LintContext) -> None:
        """Free what only rules with ``LOOKUPS`` use (the key index's lookups, the engine,
        the forwards' targets), once they have run."""
        self.table.key_index.drop_lookups()
        ctx.cache.pop("engine", None)
        for name in ("forwards", "forward_hits", "alias_hits"):
            self.__dict__.pop(name, None)

    @cached_property
    def domains(self) -> Domains:
        """Folded domain -> its stored entries (keys with an '@' and a plausible domain only).

        Found without the key index: a later duplicate has the domain of the key it repeats,
        and the first of equal keys is the stored one.
        """
        stored = self.stored_keys
        found: Counter[str] = Counter()  # in order of first appearance
        for names in stored.findall(_DOMAIN_PART):
            found.update(names)
        candidates = Column.of(found)
        odd = implausible_domains(candidates)
        self._odd_ending = "\n\n" in candidates.text or _ODD_DOMAIN_END.search(candidates.text) is not None
        if len(odd):
            for name in candidates.take(odd):
                del found[name]
            candidates = Column.of(found)
        n, counts = len(found), array("l", found.values())
        del found
        # The names again, made one after another (dense), for the lookup dict: found's are
        # scattered among the freed repeats, whose free slots a forked helper's allocations
        # would then fill, copying those pages.
        doms = Domains(candidates, dict(zip_strict(candidates, range(n))), counts,
                       array("l", [NO_CATCH_ALL]) * n, bytearray(n))
        # Folding changes no '@', '+', '*' or newline: the written keys' column finds the same.
        # '@' + domain and nothing else (no Key.parse); set backwards, so the first one counts.
        catch_alls = self.keys.starting_with("@")
        at: list[int | None] = []
        for names in stored.findall(_CATCH_ALL_DOMAIN):  # (in order: one for each of catch_alls)
            at += map(doms.position, names)
        known = list(map(is_not, reversed(at), repeat(None)))
        found_at: Iterator[int] = compress(reversed(at), known)  # type: ignore[arg-type]
        deque(map(doms.catch_alls.__setitem__, found_at, compress(reversed(catch_alls), known)), maxlen=0)
        del at, known
        # 'user++@', 'user+*@', '++@' and '+*@' keys (Key.parse's kinds, without a Key each:
        # a table may have tens of thousands): the user part must hold no other '+'.
        plus = self.keys.matching(_PLUS_KEY)
        wild, stars, star_pairs, pluses = array("I"), array("I"), array("q"), set()
        kinds, position = doms.kinds, doms.position
        for i, text in zip_strict(plus, stored.take(plus)):
            local, _, name = text.rpartition("@")
            p = position(name)
            if p is None:
                continue
            user = local[:-2]
            if "+" not in user:  # else an address: 'a+b++@' is no wildcard key
                kinds[p] |= _PLUS_BITS[bool(user), local[-1]]
                wild.append(i)
                # (for wildcard_pairs: a '+*@' key's '++@' twin, by hash; '++@' keys' hashes)
                if local[-1] == "*":
                    stars.append(i)
                    star_pairs.append(hash(_plus_twin(text)))
                else:
                    pluses.add(hash(text))
        self._wild = wild
        twins = pluses.intersection(star_pairs)
        self._pair_candidates = array("I", compress(stars, map(twins.__contains__, star_pairs)))
        return doms

    @cached_property
    def wildcards(self) -> array[int]:
        """The entries of the ``user++@``, ``user+*@``, ``++@`` and ``+*@`` keys of :attr:`domains`
        (their kinds: :func:`wildcard_parts`), repeats left out: an array, where a dict per
        domain cost 150 bytes a key (#18: 240k on the plus shape)."""
        _ = self.domains  # (which finds them)
        later = self.shadowed_by_duplicate
        return array("I", filterfalse(later.__contains__, self._wild)) if later else self._wild

    def find(self, dom: Domain, kind: KeyKind, user: str = "") -> int | None:
        """The entry of ``dom``'s ``user++@``, ``user+*@``, ``++@``, ``+*@`` or ``@`` key (not
        ADDRESS; ``user`` folded, '' for the domain-wide kinds), the first of repeats: a key
        lookup (for rules with ``LOOKUPS``)."""
        if kind is KeyKind.CATCH_ALL:
            return dom.catch_all if not user else None
        if not dom.kinds & _WILD_BITS[kind] or bool(user) != (kind in _USER_KINDS) or "+" in user:
            return None
        if not user:  # (a domain's own '++@d' or '+*@d': rules ask it per entry of the domain)
            p = self.domains.position(dom.name)
            return None if p is None else self.own_wildcards(p)[kind is KeyKind.DOMAIN_ANY]
        return self.table.key_index.first(f"{user}{_WILD_SHAPES[kind]}{dom.name}")

    def own_wildcards(self, p: int) -> tuple[int | None, int | None]:
        """The entries of the ``++@d`` and ``+*@d`` keys of the domain at position ``p`` (None
        for none): :meth:`find`'s, without a :class:`Domain` (#18: VT105 asks per such key)."""
        plus, star = self._domain_wildcards[0][p], self._domain_wildcards[1][p]
        return None if plus < 0 else plus, None if star < 0 else star

    @cached_property
    def _domain_wildcards(self) -> tuple[array[int], array[int]]:
        """Per domain position, the entry of its ``++@`` key and of its ``+*@`` key (-1 for
        none): those of :attr:`wildcards` (a repeat is not stored, each domain is one of
        :attr:`domains`); #18, 190k lookups of them on the templates shape."""
        n = len(self.domains)
        out = (array("l", [-1]) * n, array("l", [-1]) * n)
        position = self.domains.position
        for i, key in zip_strict(self.wildcards, self.stored_keys.take(self.wildcards)):
            kind, user, name = wildcard_parts(key)
            if not user:
                out[kind is KeyKind.DOMAIN_ANY][cast(int, position(name))] = i
        return out

    def plus_hit(self, p: int, user: str, detail: str, name: str) -> int | None:
        """For ``user+detail@name`` (folded, no key of its own, ``user`` without '+'; ``name``
        the domain at position ``p``): the entry of the first key sendmail finds among
        ``user++@``, ``user+*@``, ``user@``, ``++@`` and ``+*@`` (lookup steps 2-6, a
        ``++`` key only for a detail), None when the catch-all is next. Only the kinds
        of wildcard the domain has are looked up."""
        doms, first = self.domains, self.table.key_index.first
        kinds = doms.kinds[p]
        own = doms.key_counts[p] > 1 or doms.catch_alls[p] == NO_CATCH_ALL  # (may_have_keys)
        for wanted, who, shape in ((detail and kinds & _USER_PLUS, user, "++@"),
                                   (kinds & _USER_ANY, user, "+*@"), (own, user, "@"),
                                   (detail and kinds & _DOMAIN_PLUS, "", "++@"),
                                   (kinds & _DOMAIN_ANY, "", "+*@")):
            if wanted:
                j = first(f"{who}{shape}{name}")
                if j is not None:
                    return j
        return None

    @cached_property
    def wildcard_pairs(self) -> list[tuple[int, int]]:
        """(``user+*@d``, ``user++@d``) and (``+*@d``, ``++@d``) entries: the keys of one user
        (or domain) with both kinds of wildcard (VT105, VT107). :attr:`domains` finds the
        candidates by hash; each is then looked up (for rules with ``LOOKUPS``)."""
        _ = self.domains  # (which finds the candidates)
        stored, first, later = self.stored_keys, self.table.key_index.first, self.shadowed_by_duplicate
        out = []
        for i in filterfalse(later.__contains__, self._pair_candidates):
            j = first(_plus_twin(stored[i]))
            if j is not None:
                out.append((i, j))
        return out

    @cached_property
    def aliases(self) -> DomainAliases:
        """Folded domain -> the domain it is an alias of: its catch-all is ``%1@other`` or
        ``%1%3@other`` (``other`` lower-cased), for the domain aliases of :attr:`domains`."""
        # Only the catch-alls with '%' are matched: not every catch-all's text (a table may
        # have 300k domains, a few with '%'), nor every value starting with '%1' (templates:
        # 400k others). By position, in C: a table of parked domains has a million aliases.
        doms, values = self.domains, self.values
        pct = entry_mask(len(values) + 1, self.percent_catch_alls)  # (the last byte: NO_CATCH_ALL's)
        places = array("l", compress(range(len(doms)), map(pct.__getitem__, doms.catch_alls)))
        del pct
        targets, named = array("i", [-1]) * len(doms), dict[str, int]()
        for _, chunk in batches(places):
            texts = values.take(list(map(doms.catch_alls.__getitem__, chunk)))
            found = list(map(DOMAIN_ALIAS.fullmatch, texts))
            others = [named.setdefault(m[1].lower(), len(named)) for m in found if m is not None]
            deque(map(targets.__setitem__, compress(chunk, found), others), maxlen=0)
        return DomainAliases(doms, targets, list(named))

    def keys_in(self, name: str) -> int:
        """How many keys end in ``@name`` (``name`` folded), repeats included (0 for no
        domain of :attr:`domains`): for rules that skip a domain with one key only."""
        doms = self.domains
        p = doms.position(name)
        return 0 if p is None else doms.key_counts[p]

    @cached_property
    def _extents(self) -> tuple[array[int], array[int], array[int]]:
        """Per domain position: its first stored entry, how many, its last (-1, 0, -1 for
        none). Arrays, not dicts by name, whose keys and numbers are objects (#18: 285k open
        domains, in each process that reports one)."""
        doms = self.domains
        n = len(doms)  # (position n: the entries of no domain)
        names = map(itemgetter(2), map(str.rpartition, self.stored_keys, repeat("@")))
        where = array("l", map(doms.position, names, repeat(n)))
        for i in self.no_at:
            where[i] = n  # (no domain's: a key without '@', whatever its text)
        counts = array("l", doms.key_counts)  # (every key with its '@', repeats included)
        counts.append(0)
        for i in self.shadowed_by_duplicate:  # (a repeat makemap does not store)
            counts[where[i]] -= 1  # (at position n, no domain's: never read)
            where[i] = n
        first, last = array("l", [-1]) * (n + 1), array("l", [-1]) * (n + 1)
        deque(map(first.__setitem__, reversed(where), range(len(where) - 1, -1, -1)), maxlen=0)
        deque(map(last.__setitem__, where, range(len(where))), maxlen=0)
        return first, counts, last

    def extent(self, name: str) -> Extent:
        """Where the stored entries of the domain ``name`` (one of :attr:`domains`) are:
        computed for all domains the first time a rule asks (only rules that report a
        domain do)."""
        p = self.domains.position(name)
        first, counts, last = self._extents
        if p is None or first[p] < 0:
            raise KeyError(name)
        return Extent(first[p], counts[p], last[p])

    def last_line(self, name: str) -> int:
        """The line after which a new entry of the domain ``name`` goes: its last entry,
        counting the repeats makemap does not store (so a catch-all never lands between a
        line and its duplicate)."""
        last = self.table.lines[self.extent(name).last]
        return max(last, self._last_repeats.get(name, last))

    def extents_at(self, positions: Sequence[int]) -> tuple[list[int], list[int], list[int]]:
        """For the domains at ``positions``: the first stored entry, the number of entries
        (:meth:`extent`) and :meth:`last_line`, at once from the arrays (#18: 285k open
        domains, each looked up by name twice)."""
        first, counts, last = self._extents
        firsts = list(map(first.__getitem__, positions))
        lines = list(map(self.table.lines.__getitem__, map(last.__getitem__, positions)))
        if self._last_repeats:
            names = self.domains.names.take(positions)
            lines = list(map(max, lines, map(self._last_repeats.get, names, lines)))
        return firsts, list(map(counts.__getitem__, positions)), lines

    @cached_property
    def _last_repeats(self) -> dict[str, int]:
        """Domain -> the line of its last repeated key (a repeat has its domain's name)."""
        out: dict[str, int] = {}
        stored, lines = self.stored_keys, self.table.lines
        for _, i in self.duplicates:
            name = stored[i].rpartition("@")[2]
            out[name] = max(out.get(name, 0), lines[i])
        return out

    @cached_property
    def odd_ending_keys(self) -> list[int]:
        """Keys whose last character is no ASCII letter or digit (VT104): found in one
        string of every key's last character, whatever the number of domains that end so
        (none when no domain does)."""
        _ = self.domains  # (which finds whether any does)
        if not self._odd_ending:
            return []
        return [m.start() for m in _ODD_END.finditer("".join(map(itemgetter(-1), self.keys)))]

    @cached_property
    def forwards(self) -> array[int]:
        """Indices of values with an '@' that are not ``error:`` (VT205, VT211)."""
        values = self.values
        if values.text.count("@") * 4 > len(values):  # (most values forward: a gateway, %N tables)
            return forwards_split(values)
        return forwards_found(values)

    @cached_property
    def forward_hits(self) -> array[int]:
        """Per forward (by its position in :attr:`forwards`): the entry whose key is its plain
        target (see :meth:`target_entry`), -1 for none, -2 while nobody has looked, or
        :data:`RELAYED` (VT205 found it outside the local domains: it ends there)."""
        return array("i", [_NOT_LOOKED_UP]) * len(self.forwards)

    @cached_property
    def alias_hits(self) -> array[int]:
        """Per forward (as :attr:`forward_hits`): the entry VT205 found for its keyless plain
        target ``user@A`` one domain alias on (``@A  %1@B``: the key ``user@B``), or that a
        ``user+detail@A`` target meets first (:meth:`plus_hit`), else -2. VT211 asks the
        same when both rules run in one process."""
        return array("i", [_NOT_LOOKED_UP]) * len(self.forwards)

    def first(self, address: str, domain: str) -> int | None:
        """``KeyIndex.first(address)`` for ``user@domain`` (``domain`` folded, the part after
        the last '@'), without the lookup when ``domain``'s only key is its catch-all: a
        domain alias, where a table's forwards often point (#18: the aliases shape)."""
        doms = self.domains
        if not doms.may_have_keys(doms.position(domain)):
            return None
        return self.table.key_index.first(address)

    def target_entry(self, position: int, target: str) -> int | None:
        """``KeyIndex.first(target)`` for the forward at ``position`` in :attr:`forwards`, where
        ``target`` is its value stripped of blanks, folded and without trailing dots.

        VT205 and VT211 both look up nearly every forward's target (200k+ at 1M entries):
        the second rule finds the first one's answers here.
        """
        hit = self.forward_hits[position]
        if hit <= _NOT_LOOKED_UP:  # (or RELAYED: not looked up either)
            found = self.first(target, target.rpartition("@")[2])
            self.forward_hits[position] = -1 if found is None else found
            return found
        return None if hit < 0 else hit

    def named(self, local: str) -> Iterator[tuple[list[int], list[int]]]:
        """(positions in :attr:`domains`, entries): each domain that has a key ``local@domain``
        (``local`` folded, without '@') with that key's stored entry, a batch at a time: one
        scan of the keys for every domain at once, not a lookup each."""
        found = self.stored_keys.matching(re.compile(f"\n{re.escape(local)}@[^@\n]*(?=\n)"))
        later = self.shadowed_by_duplicate  # (the first of equal keys is the one makemap stores)
        if later:
            found = array("l", filterfalse(later.__contains__, found))
        get, after = self.domains.position, slice(len(local) + 1, None)
        for _, chunk in batches(found):
            at = list(map(get, map(str.__getitem__, self.stored_keys.take(chunk), repeat(after))))
            known = list(map(is_not, at, repeat(None)))
            yield list(compress(at, known)), list(compress(chunk, known))  # type: ignore[arg-type]

    @cached_property
    def ends_blank(self) -> Sequence[int]:
        """Indices of values that end in a blank, which makemap stores (VT105, VT203)."""
        return self.values.matching(ENDS_BLANK)

    @cached_property
    def with_percent(self) -> Sequence[int]:
        """Indices of values with a '%' (%N, '%' hacks), which several rules look at (a
        template-heavy table has 500k: each search of the column takes a fifth of a second)."""
        return self.values.matching(_PERCENT)

    @cached_property
    def percent_catch_alls(self) -> array[int]:
        """The domains' catch-all entries (ascending) whose value has a '%': those that may be
        domain aliases or templates, picked from :attr:`with_percent` by a byte mask (a
        templates table has 400k other values with '%')."""
        catch_all = entry_mask(len(self.values), filterfalse(NO_CATCH_ALL.__eq__, self.domains.catch_alls))
        return array("I", compress(self.with_percent, map(catch_all.__getitem__, self.with_percent)))

    @cached_property
    def error_like(self) -> Sequence[int]:
        """Indices of values starting with 'error' in any case (``error:`` or a misspelling)."""
        return self.values.matching(_ERROR)

    @cached_property
    def maybe_errors(self) -> Sequence[int]:
        """Indices of the values :attr:`error_values` parses: like ``error:``, no plain reject."""
        return self.values.matching(_ERROR_NOT_PLAIN)

    @cached_property
    def error_values(self) -> list[tuple[int, Value]]:
        """(index, parsed value) of every value sendmail reads as ``error:``, except the
        plain rejects (:data:`PLAIN_REJECT`)."""
        texts = self.values
        seen: dict[str, Value] = {}  # the same few reject texts recur in every domain
        out = []
        for i in self.maybe_errors:
            text = texts[i]
            value = seen.get(text)
            if value is None:
                value = seen[text] = Value.parse(text)
            if value.error is not None:
                out.append((i, value))
        return out


COLUMN_FACTS = ("forwards", "with_percent", "ends_blank", "maybe_errors", "one_at_each")
"""Facts found from the columns alone that the rules of a large lint ask for: the helper
that builds the key index finds those it gets to before this process has the domains (small
arrays and a flag, sent back), this process the rest; once, before the fork (after it, those
that rules in both processes ask for were found twice)."""


def stripped_and_folded(values: list[str]) -> tuple[list[str], list[str]]:
    """``values`` without the blanks around them, and the same folded: all at once, in C
    (values never hold a newline, so one fold of the joined texts splits back exactly)."""
    if not values:
        return [], []
    stripped = list(map(str.strip, values, repeat(BLANKS)))
    return stripped, fold("\n".join(stripped)).split("\n")


BATCH = 1 << 15
"""Entries whose texts a rule holds at once (memory on tables of a million entries)."""


def my_share(ctx: LintContext, items: Iterable[T]) -> Iterator[T]:
    """The items a ``SPLIT`` rule checks in this run (all of them, unless the rule's work is
    shared out between processes: every n-th item from the k-th of ``ctx.share``)."""
    k, n = ctx.share
    return islice(items, k, None, n)


def batches(indices: Sequence[int], *, backwards: bool = False) -> Iterator[tuple[range, Sequence[int]]]:
    """``indices`` in consecutive slices of :data:`BATCH`, each with its positions in
    ``indices`` (the last slice first if ``backwards``)."""
    starts = range(0, len(indices), BATCH)
    for start in reversed(starts) if backwards else starts:
        chunk = indices[start:start + BATCH]
        yield range(start, start + len(chunk)), chunk


def kept(selectors: list[bool], *columns: Sequence[Any]) -> Iterator[list[Any]]:
    """Each of ``columns`` (rows of one batch) without the rows ``selectors`` leaves out."""
    return (list(compress(column, selectors)) for column in columns)


def index(table: Table, ctx: LintContext) -> TableIndex:
    """The shared index of ``table`` (built on first use)."""
    ix = ctx.cache.get("index")
    if not isinstance(ix, TableIndex) or ix.table is not table:
        ix = TableIndex(table)
        ctx.cache["index"] = ix
    return ix


def key_span(e: Entry) -> tuple[int, int, int, int]:
    """(line, column, end_line, end_column) of an entry's key."""
    return e.line, e.column, e.line, e.column + len(e.key_text)


def forwards_found(values: Column) -> array[int]:
    """:attr:`TableIndex.forwards` from every '@' found by a literal search, less the
    error-like values (the first five characters of each, in C; a shorter value's run into
    the newline): twice as fast as one regex that tests each value's start and scans it for
    an '@', and the rejects without '@' (300k on tiny) are never looked at. An array (a
    seventh of a list's memory)."""
    at, text, starts = values.matching(_AT), values.text, values.starts
    begins = array("l", map(starts.__getitem__, at))
    heads = map(str.lower, map(text.__getitem__, map(slice, begins, map(add, begins, repeat(5)))))
    return array("I", compress(at, map(ne, heads, repeat("error"))))


def forwards_split(values: Column) -> array[int]:
    """:func:`forwards_found` where most values have an '@' (#18: a gateway's 870k
    forwards): each block of texts split and tested, no match located in the column."""
    out = array("I")
    five = slice(0, 5)
    for base, texts in values.split_blocks():
        has = list(compress(count(base), map(str.__contains__, texts, repeat("@"))))
        heads = map(str.lower, map(str.__getitem__, map(texts.__getitem__, map(sub, has, repeat(base))),
                                   repeat(five)))
        out.extend(compress(has, map(ne, heads, repeat("error"))))
    return out


def key_span_at(table: Table, i: int) -> tuple[int, int, int, int]:
    """:func:`key_span` of entry ``i``, read from the table's columns (no Entry made: a rule
    may report 100k entries)."""
    line = table.lines[i]
    column = table.key_columns.get(i, 1)
    return line, column, line, column + len(table.keys[i])


def key_spans_at(table: Table, entries: Sequence[int]) -> Iterator[tuple[int, int, int, int]]:
    """:func:`key_span_at` of each of ``entries``, their keys taken a batch at a time."""
    lines, columns = table.lines, table.key_columns
    for _, chunk in batches(entries):
        for i, key in zip(chunk, table.keys.take(chunk)):
            line, column = lines[i], columns.get(i, 1)
            yield line, column, line, column + len(key)


def value_span_at(table: Table, i: int) -> tuple[int, int, int, int]:
    """:func:`value_span` of entry ``i``, read from the table's columns (no Entry made)."""
    line, column = table.lines[i], table.value_columns[i]
    return line, column, line, column + len(table.values[i].rstrip(BLANKS))


def value_span(e: Entry) -> tuple[int, int, int, int]:
    """(line, column, end_line, end_column) of an entry's value, trailing whitespace excluded."""
    return e.line, e.value_column, e.line, e.value_column + len(e.value_text.rstrip(BLANKS))


def shown(text: str) -> str:
    """A value for a message: trailing whitespace dropped, control characters escaped."""
    text = text.rstrip(BLANKS)
    return text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
