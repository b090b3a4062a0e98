"""A ``%n`` substitution that is empty, or drops the ``+detail``.

What it does
    Checks the ``%0``-``%9`` substitutions in values: ``%0`` (the whole lookup
    key), ``%4``-``%9`` (always empty), ``%2``/``%3`` on a key that plussed
    addresses never reach with a detail (an exact address, or a key that a
    ``+*`` wildcard of the same user or domain always answers first), and
    ``%1`` without ``%3`` on a ``@domain`` catch-all, which drops ``+detail``.

Why is this bad
    For virtusertable lookups sendmail passes ``%1`` = the user (without
    ``+detail``), ``%2`` = the detail and ``%3`` = ``+detail``, and only when
    the address has a ``+`` and the key is not the exact address. ``%0`` is
    the lookup key itself (``user@domain``), so ``%0@host`` gives a route
    address sendmail rejects. Empty substitutions build the wrong address.
    ``user@dom  %0.VIRTMAIL`` (the address routed to a mailertable pseudo-domain) is
    right for an exact key; on a wildcard ``%0`` is the key (``@dom``), so the
    route is written ``%1%3@dom.VIRTMAIL``.

Example
    ```
    @example.com        %1@mail.example.net
    list@example.com    list-%2
    ```

Use instead
    ```
    @example.com        %1%3@mail.example.net
    list+*@example.com  list-%2
    ```
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from itertools import compress, repeat
from operator import and_, not_, truth

from virtc.compat import zip_strict
from virtc.diagnostics import Severity
from virtc.lint.facts import Domain, TableIndex, entry_mask, index, shown, wildcard_parts
from virtc.lint.rule import Finding, LintContext
from virtc.model import Key, KeyKind, fold
from virtc.table import Table

CODE = "VT206"
NAME = "suspicious-substitution"
SEVERITY = Severity.WARNING
LOOKUPS = True  # (TableIndex.find)

_SUBST = re.compile(r"%(.)", re.S)


def substitutions(value: str) -> list[tuple[int, str]]:
    """(offset, digit) of each ``%digit`` as sendmail's map_rewrite reads it (``%%`` is a literal %)."""
    return [(m.start(), m[1]) for m in _SUBST.finditer(value) if m[1].isdigit()]


def detail_never_passed(ix: TableIndex, key: Key, dom: Domain | None) -> str | None:
    """Why lookups that hit ``key`` never carry a detail (%2/%3 empty), or None."""
    if key.kind is KeyKind.ADDRESS:
        if "+" in key.user:
            return f"'{key.text}' matches only that exact address, which sendmail looks up without arguments"
        if dom is not None and ix.find(dom, KeyKind.USER_ANY, fold(key.user)) is not None:
            return f"every '{key.user}+detail' address matches '{key.user}+*@{key.domain}' first"
    elif key.kind is KeyKind.CATCH_ALL and dom is not None and dom.has(KeyKind.DOMAIN_ANY):
        return f"every plussed address matches '+*@{key.domain}' first"
    return None


def worth_a_look(ix: TableIndex) -> list[int]:
    """Entries whose value has a ``%``, less those that cannot get a finding, when the value
    has no ``%0`` or ``%4``-``%9``: a ``user++@``, ``user+*@``, ``++@`` or ``+*@`` key
    (sendmail passes it %1-%3; a table may give every mailbox one: ``user+*@d  box+%2``), and
    a catch-all that keeps the detail (``%2``/``%3``, no ``%%``) in a domain without ``+*@``
    (a domain alias, ``@a  %1%3@b``: a table may have tens of thousands), and an exact key
    without '+' whose user has no ``user+*@`` key."""
    n = len(ix.values)
    fine = entry_mask(n, ix.wildcards)  # (byte masks, not sets: a million parked domains, #18)
    # (the catch-alls' texts with '%' tested, not a search of every value: a templates
    # table has 500k values with '%2' or '%3')
    without_any = entry_mask(n, ix.domains.catch_all_entries(without=KeyKind.DOMAIN_ANY))
    aliases = list(compress(ix.percent_catch_alls, map(without_any.__getitem__, ix.percent_catch_alls)))
    del without_any
    texts = ix.values.take(aliases)
    keep = compress(aliases, map(and_, map(truth, map(_DETAIL_DIGIT.search, texts)),
                                 map(not_, map(str.__contains__, texts, repeat("%%")))))
    deque(map(fine.__setitem__, keep, repeat(1)), maxlen=0)
    del texts
    odd = set(ix.values.matching(_ODD_DIGIT))
    deque(map(fine.__setitem__, odd, repeat(0)), maxlen=0)
    # And an exact key without '+' whose user has no 'user+*@' key: %1-%3 are what they
    # should be (#18: 'user@d  box%3@store', 150k on the templates shape).
    stored = ix.stored_keys
    user_any = {f"{user}@{name}" for kind, user, name in map(wildcard_parts, stored.take(ix.wildcards))
                if kind is KeyKind.USER_ANY}
    percent = list(compress(ix.with_percent, map(not_, map(fine.__getitem__, ix.with_percent))))
    return [i for i, key in zip_strict(percent, stored.take(percent)) if
            i in odd or _PLAIN_EXACT.fullmatch(key) is None or key in user_any]


_PLAIN_EXACT = re.compile(r"[^+]+@[^@]+")
"""A stored key :meth:`Key.parse` reads as an address without '+'."""
_ODD_DIGIT = re.compile("%[04-9]")
_DETAIL_DIGIT = re.compile("%[23]")


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    ix = index(table, ctx)
    domains = ix.domains
    # (from the columns, no Entry each: 54k findings on the templates shape)
    keys, values, lines, columns = table.keys, ix.values, table.lines, table.value_columns
    for i in worth_a_look(ix):
        text = values[i]
        subs = substitutions(text)
        if not subs:
            continue
        k = Key.parse(keys[i])
        digits = {d for _, d in subs}
        value = shown(text)
        line = lines[i]
        for off, d in subs:
            col = columns[i] + off
            span = (line, col, line, col + 2)
            if d == "0":
                route = text[off + 2:].rstrip()
                if route.startswith(".") and "@" not in route:
                    # '%0.VIRTMAIL': the address routed to a mailertable pseudo-domain. Right for
                    # an exact key (%0 is the address); for a wildcard %0 is the key itself.
                    if k.kind is KeyKind.ADDRESS:
                        continue
                    yield Finding(*span, f"'%0' in '{value}' is the key '{k.text}' here, not the "
                                         f"address: sendmail rejects '{k.text}{route}' with '553 5.1.3 "
                                         f"User address required'; to route the address to "
                                         f"'{route}' write '%1%3@{k.domain}{route}'")
                    continue
                then = ""
                if text[off + 2:off + 3] == "@":
                    then = ": '%0@...' is a route address, which sendmail rejects " \
                        "('553 5.1.3 Invalid route address')"
                yield Finding(*span, f"'%0' in '{value}' is the whole lookup key (such as "
                                     f"'{k.text if k.kind is KeyKind.ADDRESS else 'user@' + k.domain}'), "
                                     f"not the user; write '%1'{then}")
            elif d in "456789":
                yield Finding(*span, f"'%{d}' in '{value}' is always empty: sendmail passes only %1 (user), "
                                     f"%2 (detail) and %3 (+detail)")
            elif d in "23":
                why = detail_never_passed(ix, k, domains.get(fold(k.domain)))
                if why is not None:
                    yield Finding(*span, f"'%{d}' in '{value}' is always empty here: {why}")
        if k.kind is KeyKind.CATCH_ALL and "1" in digits and not digits & {"2", "3"}:
            dom = domains.get(fold(k.domain))
            if dom is None or not dom.has(KeyKind.DOMAIN_ANY):
                off = next(o for o, d in subs if d == "1")
                col = columns[i] + off
                yield Finding(
                    line, col, line, col + 2,
                    f"catch-all '{keys[i]}' maps 'user+detail@{k.domain}' to '{value}' with %1 = 'user': "
                    f"the '+detail' is dropped",
                    help="write '%1%3' to keep it",
                )
