"""``postmaster@`` of a domain of the table is rejected.

What it does
    Resolves ``postmaster@domain`` for every local domain of the table as sendmail
    does and reports the domains where it ends in an ``error:`` (usually the
    domain's catch-all reject). The (unsafe) fix adds ``postmaster@domain
    postmaster`` before the domain's catch-all.

Why is this bad
    RFC 5321 (4.5.1) requires every domain that accepts mail to accept mail for
    ``postmaster``: it is where other admins report problems (and blocklist
    operators check it). A catch-all reject silently takes it away.

Example
    ```
    alice@example.com   alice
    @example.com        error:5.1.1:550 User unknown
    ```

Use instead
    ```
    alice@example.com       alice
    postmaster@example.com  postmaster
    @example.com            error:5.1.1:550 User unknown
    ```
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Container, Iterator
from itertools import compress, repeat
from operator import and_, not_, or_
from typing import TYPE_CHECKING, NamedTuple

from virtc.diagnostics import Fix, Severity
from virtc.lint.facts import NO_CATCH_ALL, TableIndex, index, key_span
from virtc.lint.rule import Finding, LintContext
from virtc.lint.shared import LOCAL_USER
from virtc.model import Entry
from virtc.table import Table

if TYPE_CHECKING:
    from virtc.lookup.resolve import Final

CODE = "VT213"
NAME = "postmaster-rejected"
SEVERITY = Severity.WARNING
FIX = "unsafe"
LOOKUPS = True


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    ix = index(table, ctx)
    doms = ix.domains
    candidates = doms.with_catch_all()
    if not candidates:
        return
    from virtc.lint.engine import shared_engine

    eng = shared_engine(table, ctx)
    values, catch_alls = ix.values, doms.catch_alls
    # Domains with a postmaster entry, and those whose entry names a local user: delivered
    # (no engine needed). (A byte per domain position: 300k domains on tiny.)
    postmasters, delivered = bytearray(len(doms)), bytearray(len(doms))
    for at, entries in ix.named("postmaster"):
        deque(map(postmasters.__setitem__, at, repeat(1)), maxlen=0)
        named_users = compress(at, map(LOCAL_USER.fullmatch, values.take(entries)))
        deque(map(delivered.__setitem__, named_users, repeat(1)), maxlen=0)

    def delivered_in(name: str) -> bool:
        p = doms.position(name)
        return p is not None and delivered[p] == 1

    # postmaster@dom without a key of its own meets only '@dom' (no '+detail'), resolved once
    # per catch-all value that names nothing (Engine.by_catch_all); a domain alias
    # '@dom  %1@other' (other without a postmaster key) ends as other's catch-all does.

    def by_catch_all_value(name: str, ca: str) -> Final | None:
        other = ix.aliases.get(name)
        if other is not None:
            q = doms.position(other)
            if other == name or q is None or catch_alls[q] == NO_CATCH_ALL or postmasters[q] \
                    or other not in eng.domains:
                return None
            name, ca = other, values[catch_alls[q]]
        return eng.by_catch_all("postmaster", name, ca)

    from virtc.lookup.resolve import MAX_RECURSION, catch_all_kind, quick_hop

    ends: dict[str, _End] = {}

    def end(name: str, depth: int = 0) -> _End:
        """How postmaster@name resolves; for a domain alias '@name  %1@other' (no postmaster
        key of its own) as postmaster@other does, one step later (#18: chains of domain
        aliases sent every domain of the chain to the engine)."""
        known = ends.get(name)
        if known is None:
            other, p = ix.aliases.get(name), doms.position(name)
            if other is not None and other != name and other in eng.domains and depth < _HOPS and \
                    p is not None and not postmasters[p] and quick_hop(f"postmaster@{name}", eng.domains):
                kind, text, _, steps = end(other, depth + 1)
                # One step more ends alike while the chain stays inside sendmail's recursion
                # limit (steps bound the keys matched); a loop stays one (the limit comes a
                # step sooner, or the cycle is met). (#18: chains of ten domain aliases sent
                # each domain past eight steps to the engine, 300 us each.)
                if steps < MAX_RECURSION or kind == "loop":
                    known = ends[name] = _End(kind, text, f"@{name}", steps + 1)
                    return known
            r = eng.resolve(f"postmaster@{name}")
            known = ends[name] = _End(r.kind, r.text, r.chain[0] if r.chain else "", len(r.steps))
        return known

    # A domain alias whose target delivers postmaster@ (or is remote) needs no name: each
    # target asked once, the domains left picked in C (#18: a million parked domains).
    aliases = ix.aliases
    by_target = [delivered_by_alias(other, eng.domains, delivered_in) for other in aliases.names]
    aliased = map(aliases.targets.__getitem__, candidates)
    handed_on = [k >= 0 and by_target[k] for k in aliased]
    done = map(or_, map(delivered.__getitem__, candidates),
               map(and_, map(not_, map(postmasters.__getitem__, candidates)), handed_on))
    for p in compress(candidates, map(not_, done)):
        name = doms.names[p]
        if name not in eng.domains or name in ctx.host_names:
            continue
        i = catch_alls[p]
        ca = values[i]
        known = by_catch_all_value(name, ca) if not postmasters[p] else None
        if known is not None:  # (its chain names another domain: only kind and text count)
            if known.kind == "error":
                yield _finding(name, known.text, ix.entries[i], True)
            continue
        # (a template: '@D  %1-x@host' delivers or relays it; not the engine per domain. An
        # alias of a local domain hands postmaster on there: no end at once, end() follows it.)
        if not postmasters[p] and "%" in ca and ix.aliases.get(name) not in eng.domains and \
                catch_all_kind("postmaster", name, ca, eng.domains) in ("local", "remote"):
            continue
        r = end(name)
        if r.kind != "error":
            continue
        by_catch_all = r.first == f"@{name}"
        owner = ix.entries[i] if by_catch_all else _entry_of(ix, r.first)
        if owner is None:
            continue
        yield _finding(name, r.text, owner, by_catch_all)


class _End(NamedTuple):
    """How ``postmaster@D`` resolves: what VT213 needs of the engine's resolution."""

    kind: str
    text: str | None
    first: str
    """The first key found ('' for none)."""
    steps: int


_HOPS = 8
"""Domain aliases followed in one go (a Python recursion each) before the engine decides; the
ends found are kept, so a longer chain in table order is followed a step at a time."""


def _finding(name: str, text: str | None, owner: Entry, by_catch_all: bool) -> Finding:
    at = owner.line
    return Finding(
        *key_span(owner),
        f"postmaster@{name} is rejected ('{text}'): RFC 5321 requires postmaster to "
        f"work in every domain that accepts mail",
        fix=Fix(at, at - 1, f"postmaster@{name}\tpostmaster\n",
                f"add 'postmaster@{name} postmaster' before line {at}", "unsafe")
        if by_catch_all else None,
        help=f"add 'postmaster@{name}\tpostmaster' before line {at}" if by_catch_all
        else "point postmaster at a mailbox someone reads",
    )


def delivered_by_alias(other: str | None, local: Container[str], delivered: Callable[[str], bool]) -> bool:
    """Whether a domain alias (``@dom  %1%3@other``; ``other`` None: no alias) delivers
    ``postmaster@dom`` without the engine: ``other`` is remote, or ``delivered(other)`` (its own
    postmaster entry names a local user; #18: the tiny shape has 35k alias domains at 1M
    entries)."""
    if other is None:
        return False
    return other not in local or delivered(other)  # (remote: relayed, not rejected here)


def _entry_of(ix: TableIndex, stored: str) -> Entry | None:
    """The entry makemap keeps for the stored key ``stored``."""
    i = ix.table.key_index.first(stored)
    return None if i is None else ix.entries[i]
