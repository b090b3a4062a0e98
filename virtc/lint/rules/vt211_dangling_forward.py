"""A forward to an address of a local domain that sendmail rejects.

What it does
    Follows each value that is an address in a local domain through the table
    (as sendmail does) and reports it when that address has no entry of its
    own and its domain's catch-all (or wildcard) rejects it with ``error:``.

Why is this bad
    Mail to the entry is rejected at RCPT with the target domain's
    ``User unknown``: the forward points at a mailbox that does not exist,
    typically after a rename or a typo (``bob@`` for ``bobby@``).

Example
    ```
    sales@example.com   bob@example.net
    carol@example.net   carol
    @example.net        error:5.1.1:550 User unknown
    ```

Use instead
    ```
    sales@example.com   carol@example.net
    carol@example.net   carol
    @example.net        error:5.1.1:550 User unknown
    ```
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterator, Sequence
from itertools import compress, count
from operator import and_, not_
from typing import TYPE_CHECKING, Literal

from virtc.compat import zip_strict
from virtc.diagnostics import Severity
from virtc.lint.facts import (
    NO_CATCH_ALL,
    RELAYED,
    TableIndex,
    batches,
    entry_mask,
    index,
    shown,
    stripped_and_folded,
    value_span,
)
from virtc.lint.rule import Finding, LintContext
from virtc.lint.shared import LOCAL_USER
from virtc.model import MAXNAME, Entry
from virtc.table import Table

if TYPE_CHECKING:
    from virtc.lint.engine import Engine
    from virtc.lookup import Resolution

CODE = "VT211"
NAME = "dangling-forward"
SEVERITY = Severity.ERROR
HEAVY = True

_PLAIN = re.compile(r"[^%<>\"() \t,;:\\@]+@[^%<>\"() \t,;:\\@]+")


def _plain_forwards(ix: TableIndex, candidates: Sequence[int],
                    positions: Sequence[int]) -> Iterator[tuple[int, int, str, str]]:
    """(position in ``candidates``, entry, value without blanks, the value folded) of the
    candidates at ``positions``, a chunk at a time in C."""
    for _, chosen in batches(positions):
        chunk = list(map(candidates.__getitem__, chosen))
        yield from zip_strict(chosen, chunk, *stripped_and_folded(ix.values.take(chunk)))


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    ix = index(table, ctx)
    candidates = ix.forwards
    if not candidates:
        return
    from virtc.lint.engine import shared_engine  # (the lookup engine: only here)
    eng = shared_engine(table, ctx)
    skip = ix.shadowed_by_duplicate
    outcome: dict[str, Resolution | None] = {}  # target -> its resolution if rejected, else None

    # Forwards whose target VT205 found an entry for (when it ran in this process) are fine,
    # and so are those it followed through a domain alias or a '+' key to a plain local user.
    for p, i, value, target in _plain_forwards(ix, candidates, _open(ix)):
        if i in skip or _PLAIN.fullmatch(value) is None:
            continue  # not stored (VT103), or not a plain address (VT202, %N forms)
        target = target.rstrip(".")
        if target.rpartition("@")[2] not in eng.domains:
            continue  # a remote address
        if len(target) > MAXNAME:
            has_entry = target[:MAXNAME] in eng.table.values  # (sendmail looks up a truncated key)
        else:
            has_entry = ix.target_entry(p, target) is not None  # (VT205 has looked most up already)
        if has_entry:
            continue  # an address with an entry of its own
        known = without_engine(ix, eng, target)
        if isinstance(known, tuple):
            yield _finding(ix.entries[i], value, *known)
        if known is not None:
            continue
        if target not in outcome:
            r = eng.resolve(target)
            outcome[target] = r if r.kind == "error" and r.chain and r.chain[0] != target else None
        rejected = outcome[target]
        if rejected is None:
            continue
        yield _finding(ix.entries[i], value, rejected.chain[0], rejected.text)


def without_engine(ix: TableIndex, eng: Engine,
                   target: str) -> tuple[str, str | None] | Literal[False] | None:
    """For ``target`` without a key of its own: (owner, reply) when its domain's catch-all
    rejects it, False when it is delivered, None when the engine must decide. A user
    without '+detail' meets only the catch-all: one naming nothing and no %N answers every
    such user alike (:meth:`~virtc.lint.engine.Engine.by_catch_all`); a domain alias
    '%1@other' delivers to a plain local user at 'user@other' (#18: 40k forwards into
    alias domains). So does 'user+detail' that none of the domain's '+' wildcard keys
    and 'user@' answers; one they answer with a local user is delivered (#18: 100k
    forwards to 'user+tag@D' each went to the engine); so is an address no key answers
    (a domain without catch-all, a local domain without keys: 'user@localhost')."""
    values = ix.values
    user, _, name = target.rpartition("@")
    p = ix.domains.position(name)
    plus = user.find("+", 1)
    if p is None:  # (a local domain without keys, as the domains fact reads them)
        return False if plus < 0 and ix.table.key_index.first(f"@{name}") is None else None
    if plus >= 0:
        user, detail = user[:plus], user[plus + 1:]
        if "+" in user:
            return None  # ('+a+b@D': its keys are no wildcards)
        j = ix.plus_hit(p, user, detail, name)
        if j is not None:  # a '+' wildcard or 'user@D' answers it
            return False if LOCAL_USER.fullmatch(values[j]) else None
    if ix.domains.catch_alls[p] == NO_CATCH_ALL:
        return False  # (no key answers it: the local user of its name)
    ca = values[ix.domains.catch_alls[p]]
    other = ix.aliases.get(name)
    if other is not None:
        if other not in eng.domains:
            return False  # (relayed to 'user@other' or 'user+detail@other')
        if plus >= 0:
            return None  # ('%1%3@other' keeps the detail: the engine's)
        aliased = f"{user}@{other}"
        j = ix.first(aliased, other) if len(aliased) <= MAXNAME else None
        return False if j is not None and LOCAL_USER.fullmatch(values[j]) else None
    if "%" in ca and plus < 0:  # ('owner+%1': what it makes of this user, if that ends there)
        from virtc.lookup import substitute
        from virtc.lookup.resolve import final_target

        end = final_target(substitute(ca, (f"@{name}", user)), eng.domains)
        if end is None:
            return None
        return (f"@{name}", end.text) if end.kind == "error" else False
    r = eng.by_catch_all(user, name, ca)
    if r is None:
        return None
    return (f"@{name}", r.text) if r.kind == "error" else False


_OPEN = range(RELAYED + 1, 0)
"""Forward hits left open: no entry found, or not looked up (not :data:`RELAYED`: ends)."""


def _open(ix: TableIndex) -> array[int]:
    """Positions of the forwards VT205 did not find an entry for or relayed (all when it did
    not run in this process), less those it followed through a domain alias or a '+' key to
    a plain local user, and those whose value has a '%' (no plain address: #18, 500k on
    templates): a batch at a time, kept in an array (a table may have 400k such forwards)."""
    alias_hits, values = ix.alias_hits, ix.values
    out = array("I")
    percent = entry_mask(len(values), ix.with_percent)
    plain = map(not_, map(percent.__getitem__, ix.forwards))
    looked = map(and_, map(_OPEN.__contains__, ix.forward_hits), plain)
    for _, chunk in batches(array("I", compress(count(), looked))):
        aliased = [p for p in chunk if alias_hits[p] >= 0]
        targets = values.take([alias_hits[p] for p in aliased])
        delivered = set(compress(aliased, map(LOCAL_USER.fullmatch, targets)))
        out.extend(p for p in chunk if p not in delivered)
    return out


def _finding(e: Entry, value: str, owner: str, text: str | None) -> Finding:
    return Finding(
        *value_span(e),
        f"'{e.key_text}' forwards to '{shown(value)}', which has no entry: its domain's "
        f"'{owner}' rejects it, so sendmail rejects mail to '{e.key_text}' with '{text}'",
        help="point the entry at an address that exists",
    )
