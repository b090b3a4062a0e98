"""Per-domain overview and reverse lookup, both read off the lookup engine.

:func:`domains` says, for each domain of a table, what sendmail does with an address the
table does not name there (its catch-all policy) and whether that accepts unknown users;
:func:`reverse` lists the keys whose addresses end at one local user or address.
Both resolve addresses exactly as ``virtc query`` does (checked against sendmail -bt).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Literal, NamedTuple

from virtc.lookup.resolve import quick_path, resolve
from virtc.lookup.table import LookupTable
from virtc.model import fold

CatchAll = Literal["reject", "forward", "none", "broken"]
PROBE = "virtc-unknown"
"""The local part of the address that stands for "a user the table does not name"."""


class DomainRow(NamedTuple):
    """One domain of the table, as sendmail treats it (a tuple: a table may have 300k)."""

    domain: str
    entries: int
    catch_all: CatchAll
    """``reject`` (an ``error:`` catch-all), ``forward`` (it delivers or relays every other
    address), ``none`` (no ``@domain`` key), ``broken`` (a catch-all sendmail cannot use:
    it answers with its own 5xx, e.g. a list value or a loop)."""
    outcome: str
    """The reply for reject and broken, the target for forward, '' for none."""
    forwards_out: int
    """Entries of this domain whose value is an address in another domain."""
    forwards_in: int
    """Entries of other domains whose value is an address in this one."""
    local: bool
    """Whether sendmail consults the table for this domain (class w or the given list)."""
    open: bool
    """Unknown users are accepted at RCPT (a local domain whose catch-all does not reject)."""
    probe: str
    """The unnamed address whose resolution decided ``catch_all`` and ``open``."""

    def to_json(self) -> dict[str, object]:
        return {"domain": self.domain, "entries": self.entries, "catch_all": self.catch_all,
                "outcome": self.outcome, "forwards_out": self.forwards_out,
                "forwards_in": self.forwards_in, "local": self.local, "open": self.open,
                "probe": self.probe}


def _target_domain(value: str) -> str | None:
    """The domain a forward goes to, for values that are one plain address."""
    text = value.strip()
    if not text or text.lower().startswith("error") or "," in text or "@" not in text:
        return None
    return fold(text.rpartition("@")[2]).rstrip(".") or None


def _probe(table: LookupTable, domain: str) -> str:
    """An address in ``domain`` whose local part no key names."""
    n = 0
    while table.get(f"{PROBE}{n or ''}@{domain}") is not None:
        n += 1
    return f"{PROBE}{n or ''}@{domain}"


def domains(table: LookupTable, local_domains: frozenset[str], *, virthost: bool = False,
            entire_domain: bool = False) -> list[DomainRow]:
    """One row per (folded) domain of the table's keys, in table order."""
    entries: Counter[str] = Counter()
    out: Counter[str] = Counter()
    into: Counter[str] = Counter()
    for key, value in table.values.items():
        _, at, dom = key.rpartition("@")
        if not at or not dom:
            continue
        dom = fold(dom)
        entries[dom] += 1
        target = _target_domain(value)
        if target is not None and target != dom:
            out[dom] += 1
            into[target] += 1
    rows = []
    for dom in table.domains:
        probe = _probe(table, dom)
        r = _unnamed(probe, table, local_domains, virthost, entire_domain)
        catch_all_value = table.get(f"@{dom}")
        catch_all, outcome = _policy(catch_all_value, r)
        local = dom in local_domains
        rows.append(DomainRow(dom, entries[dom], catch_all, outcome, out[dom], into[dom], local,
                              local and r.kind not in ("error", "loop"), probe))
    return rows


class _End(NamedTuple):
    """What :func:`_policy` reads of a resolution."""

    kind: str
    result: str | None
    text: str | None
    steps: int
    first_value: str | None
    """The first step's value after substitution."""


def _unnamed(probe: str, table: LookupTable, local_domains: frozenset[str], virthost: bool,
             entire_domain: bool) -> _End:
    """How the unnamed address ``probe`` resolves: by :func:`quick_path` where it can (a
    table of 300k domains: a resolution each was most of the time), else :func:`resolve`."""
    quick = None if virthost or entire_domain else quick_path(probe, table, local_domains)
    if quick is not None:
        end, path = quick
        return _End(end.kind, end.result, end.text, len(path) - 1, path[1])
    r = resolve(probe, table, local_domains, virthost=virthost, entire_domain=entire_domain)
    return _End(r.kind, r.result, r.text, len(r.steps), r.steps[0].substituted if r.steps else None)


def _policy(value: str | None, r: _End) -> tuple[CatchAll, str]:
    """The catch-all's kind and what it does, from the resolution of an unnamed address."""
    if value is None:
        return "none", ""
    if value.lstrip().lower().startswith("error"):
        return ("reject" if r.kind == "error" else "broken"), r.text or ""
    if r.kind == "loop" or (r.kind == "error" and r.steps == 1):
        return "broken", r.text or ""  # sendmail cannot use the value itself
    target = r.first_value or value
    if r.kind == "error":
        return "forward", f"{target}, which rejects: {r.text}"
    return "forward", target if r.result in (None, target) else f"{target} -> {r.result}"


@dataclass(frozen=True)
class Origin:
    """An address that ends at the user :func:`reverse` was asked about."""

    address: str
    """The address as sendmail sees it (the key itself, or one its wildcard matches)."""
    key: str
    """The stored key it first matches."""
    chain: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {"address": self.address, "key": self.key, "chain": list(self.chain)}


def _representative(key: str) -> str | None:
    """An address that reaches ``key`` first: the key itself for a plain address, one its
    pattern matches for ``@d``, ``user+*@d``, ``user++@d``, ``+*@d`` and ``++@d``."""
    local, at, dom = key.rpartition("@")
    if not at or not dom:
        return None
    if not local:
        return f"{PROBE}@{dom}"
    if local.endswith(("+*", "++")):
        return f"{local[:-2] or PROBE}+x@{dom}"
    return key


def reverse(table: LookupTable, target: str, local_domains: frozenset[str], *,
            virthost: bool = False, entire_domain: bool = False) -> list[Origin]:
    """Every key of the table whose addresses sendmail delivers to ``target`` (a local user,
    compared exactly, or an address, compared folded), with the chain that gets there."""
    wanted_address = "@" in target
    want = fold(target) if wanted_address else target
    found = []
    for key in table.values:
        address = _representative(key)
        if address is None:
            continue
        r = resolve(address, table, local_domains, virthost=virthost, entire_domain=entire_domain)
        if not r.chain or r.chain[0] != key or r.result is None or r.kind not in ("local", "remote"):
            continue
        got = fold(r.result) if wanted_address else r.result
        if got == want:
            found.append(Origin(address, key, r.chain))
    return found

