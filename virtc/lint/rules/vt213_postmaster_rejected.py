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

import re
from collections.abc import Container, Iterator
from itertools import compress

from virtc.diagnostics import Fix, Severity
from virtc.lint.facts import TableIndex, index, key_span
from virtc.lint.rule import Finding, LintContext
from virtc.model import BLANKS, Entry
from virtc.table import Table

CODE = "VT213"
NAME = "postmaster-rejected"
SEVERITY = Severity.WARNING
FIX = "unsafe"
LOOKUPS = True


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    ix = index(table, ctx)
    candidates = [dom for dom in ix.domains.values() if dom.catch_all is not None]
    if not candidates:
        return
    from virtc.lint.engine import shared_engine

    eng = shared_engine(table, ctx)
    values = ix.values
    postmasters = ix.named("postmaster")
    # Domains whose own postmaster entry names a local user: delivered (no engine needed).
    delivered = set(compress(postmasters, map(_PLAIN_USER.fullmatch,
                                              values.take(list(postmasters.values())))))
    for dom in candidates:
        name = dom.name
        if name in delivered or name not in eng.domains or name in ctx.host_names:
            continue
        ca = values[dom.catch_all] if dom.catch_all is not None else ""
        if name not in postmasters and delivered_by_alias(ca, eng.domains, delivered):
            continue
        r = eng.resolve(f"postmaster@{dom.name}")
        if r.kind != "error":
            continue
        by_catch_all = bool(r.chain) and r.chain[0] == f"@{dom.name}"
        owner = ix.entries[dom.catch_all] if by_catch_all and dom.catch_all is not None \
            else _entry_of(ix, r.chain[0] if r.chain else "")
        if owner is None:
            continue
        at = owner.line
        yield Finding(
            *key_span(owner),
            f"postmaster@{dom.name} is rejected ('{r.text}'): RFC 5321 requires postmaster to "
            f"work in every domain that accepts mail",
            fix=Fix(at, at - 1, f"postmaster@{dom.name}\tpostmaster\n",
                    f"add 'postmaster@{dom.name} postmaster' before line {at}", "unsafe")
            if by_catch_all else None,
            help=f"add 'postmaster@{dom.name}\tpostmaster' before line {at}" if by_catch_all
            else "point postmaster at a mailbox someone reads",
        )


_PLAIN_USER = re.compile(f"[{BLANKS}]*(?!(?i:error)[{BLANKS}]*:)[^@%!:{BLANKS}\"<>(),;\\\\]+[{BLANKS}]*")


_ALIAS = re.compile(f"[{BLANKS}]*%1(?:%3)?@([A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*)[{BLANKS}]*")


def delivered_by_alias(catch_all: str, local: frozenset[str], delivered: Container[str]) -> bool:
    """Whether a domain alias (``@dom  %1%3@other``) delivers ``postmaster@dom`` without the
    engine: ``other`` is remote, or in ``delivered`` (its own postmaster entry names a local
    user; #18: the tiny shape has 35k alias domains at 1M entries)."""
    m = _ALIAS.fullmatch(catch_all)
    if m is None:
        return False
    other = m[1].lower()
    return other not in local or other in delivered  # (remote: relayed, not rejected here)


def _entry_of(ix: TableIndex, stored: str) -> Entry | None:
    """The entry makemap keeps for the stored key ``stored``."""
    i = ix.table.key_index.first(stored)
    return None if i is None else ix.entries[i]
