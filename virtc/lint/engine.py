"""The lookup engine (:mod:`virtc.lookup`) as the rules use it.

Imported only when a rule follows a value through the table: a small table
without forwards is linted without loading the engine (start-up time).
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet

from virtc.lint.facts import PROBE, TableIndex, index
from virtc.lint.rule import LintContext
from virtc.lint.shared import NAMES_NOTHING
from virtc.lookup import LookupTable, Resolution, local_domain_set, resolve
from virtc.lookup.resolve import PLAIN_ADDRESS, Final, catch_all_end
from virtc.model import MAXNAME, Key, KeyKind, fold
from virtc.speed.keyindex import FirstValues
from virtc.table import Table


class HidingTable(LookupTable):
    """``base`` as if the entry with stored key ``hidden`` were deleted (no copy of the map)."""

    def __init__(self, base: LookupTable, hidden: str) -> None:
        super().__init__(base.values, base.entries, base.path)
        self.hidden = hidden

    def get(self, key: str) -> str | None:
        stored = fold(key)[:MAXNAME]
        return None if stored == self.hidden else self.values.get(stored)


class Engine:
    """The lookup engine (:mod:`virtc.lookup`) set up once per run for the rules.

    The local domains are ``--local-domains`` when given, else the table's own
    domains (what a virtual-hosting MX usually has in class w).
    """

    def __init__(self, ix: TableIndex, local_domains: frozenset[str] | None) -> None:
        self.source = ix.table
        # What makemap stores (the first of equal keys), from the table's key index.
        # (Its ``entries`` stay empty: rules point at entries through the index.)
        self.table = LookupTable(FirstValues(ix.table.key_index, ix.values), {}, ix.table.path)
        # (The index's domains are folded already.)
        self.domains: AbstractSet[str] = (local_domain_set(local_domains) if local_domains is not None
                                          else ix.domains.keys())
        self._by_value: dict[str, Final] = {}
        self._probe_named = ix.probe_named

    def by_catch_all(self, user: str, domain: str, value: str) -> Final | None:
        """How ``user@domain`` ends when only ``domain``'s catch-all (value ``value``) can
        answer it (no key of its own, no '+detail'), if that depends on ``value`` alone: it
        names no address and has no %N (an error, a local user). Found without lookups
        (:func:`~virtc.lookup.resolve.catch_all_end`) and kept per value for the whole run
        (#18: 100k domains rejecting with one text, or each with its own); None otherwise."""
        if NAMES_NOTHING.fullmatch(value) is None:
            return None
        end = self._by_value.get(value)
        if end is None:
            end = catch_all_end(f"{user}@{domain}", value, self.domains)
            if end is None:
                r = self.resolve(f"{user}@{domain}")
                if r.chain[:1] != (f"@{domain}",):
                    return None
                end = Final(r.kind, r.result, r.status, r.text)
            if len(self._by_value) > 10_000:
                self._by_value.clear()  # (a table of as many texts as domains)
            self._by_value[value] = end
        return end

    def unnamed(self, address: str) -> bool:
        """Whether no key answers ``address``'s first lookup (sendmail delivers it to the local
        user of its name). Without the engine for a plain address without '+' in a local
        domain when its exact key's value cannot be a not-found marker ('@', '!'), or when
        neither that key nor a catch-all is there: the catch-all fix asks for postmaster in
        every open domain (#18: 300k of them)."""
        folded = fold(address)
        user, _, domain = folded.rpartition("@")
        if "+" not in user and len(folded) < MAXNAME and PLAIN_ADDRESS.fullmatch(folded) and \
                domain in self.domains:
            stored = self.table.values  # (the keys are folded and short: table.get's work is done)
            value = stored.get(folded)
            if value is None:
                if stored.get(f"@{domain}") is None:
                    return True
            elif "@" not in value and "!" not in value:
                return False
        r = self.resolve(address)
        return bool(r.steps) and r.steps[0].key is None

    def resolve(self, address: str, table: LookupTable | None = None) -> Resolution:
        # self.domains is a prepared frozenset or keys view: resolve() uses it without re-folding.
        return resolve(address, table or self.table, self.domains)

    def hiding(self, stored: str) -> LookupTable:
        """The map as if the entry with stored key ``stored`` were deleted."""
        return HidingTable(self.table, stored)

    def probe(self, key: Key) -> str:
        """An address whose lookup reaches ``key`` (stored, folded) before any other key.

        For wildcard keys the user part is made up; it is changed until no exact
        key of the table would answer first.
        """
        kind = key.kind
        if kind is KeyKind.ADDRESS:
            return fold(key.text)
        dom, user = fold(key.domain), fold(key.user)
        made_up = PROBE
        n = 0
        # (no key holds the made-up user: nothing to look up)
        while self._probe_named and (self.table.get(f"{made_up}@{dom}") is not None or
                                     self.table.get(f"{made_up}+x@{dom}") is not None or
                                     self.table.get(f"{made_up}+@{dom}")):
            n += 1
            made_up = f"{PROBE}{n}"
        if kind is KeyKind.CATCH_ALL:
            return f"{made_up}@{dom}"
        if kind is KeyKind.USER_PLUS:
            return f"{user}+x@{dom}"
        if kind is KeyKind.USER_ANY:
            return f"{user}+@{dom}"
        if kind is KeyKind.DOMAIN_PLUS:
            return f"{made_up}+x@{dom}"
        if kind is KeyKind.DOMAIN_ANY:
            return f"{made_up}+@{dom}"
        return fold(key.text)


def shared_engine(table: Table, ctx: LintContext) -> Engine:
    """The shared :class:`~virtc.lint.engine.Engine` for ``table`` (built on first use)."""
    eng = ctx.cache.get("engine")
    if not isinstance(eng, Engine) or eng.source is not table:
        eng = Engine(index(table, ctx), ctx.local_domains)
        ctx.cache["engine"] = eng
    return eng
