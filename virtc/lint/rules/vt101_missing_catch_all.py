"""A domain with entries but no ``@domain`` catch-all.

What it does
    Reports every domain that has entries in the table but no ``@domain`` key
    (never ``localhost`` or the host's own names; with the local domains known, only
    local ones: VT102 reports those, VT106 the others). The fix (unsafe: it changes
    which mail is accepted) adds ``@domain`` with the configured catch-all value
    (default ``error:5.1.1:550 User unknown``) after the domain's last entry, and
    before it the entries that keep named addresses working: ``postmaster@domain``
    (and the configured ``keep-deliverable`` names) and every address the table
    forwards to in the domain without a key of its own.

Why is this bad
    sendmail looks up ``user@domain`` and then ``@domain``; when both miss, the
    address is not rejected. In a local (``$=w``) domain it goes to the local
    user or alias of that name, so ``root@``, ``postmaster@`` and every system
    account are reachable in every domain; in a ``VIRTUSER_DOMAIN`` it is relayed
    to the domain's MX, often this host again (loops, backscatter). Either way a
    typo'd or harvested address is accepted at RCPT instead of getting a 550.

Example
    ```
    info@example.org       info-org
    webmaster@example.org  alice
    ```

Use instead
    ```
    info@example.org       info-org
    webmaster@example.org  alice
    postmaster@example.org postmaster
    @example.org           error:5.1.1:550 User unknown
    ```
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import repeat
from operator import not_

from virtc.compat import zip_strict
from virtc.diagnostics import Severity
from virtc.lint.catch_all import catch_all_fixer
from virtc.lint.facts import index, kept, key_spans_at, my_share
from virtc.lint.rule import Finding, LintContext
from virtc.lint.shared import under_entire_domain
from virtc.table import Table

CODE = "VT101"
NAME = "missing-catch-all"
SEVERITY = Severity.ERROR
FIX = "unsafe"
LOOKUPS = True
SPLIT = True


def reported_elsewhere(domain: str, ctx: LintContext) -> bool:
    """With local domains known, VT102 reports the listed ones and VT106 the others (each
    domain gets one verdict); the host's own names never get a catch-all."""
    if domain in ctx.host_names:
        return True
    if ctx.local_domains is None:
        return False
    if domain not in ctx.local_domains:  # VT106's, unless virtuser_entire_domain looks it up
        return not under_entire_domain(domain, ctx.entire_domain)
    return ctx.config.enabled("VT102")


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    ix = index(table, ctx)
    doms = ix.domains
    positions = list(my_share(ctx, doms.without_catch_all()))
    names = doms.names.take(positions)
    reported = list(map(reported_elsewhere, names, repeat(ctx)))
    positions, names = kept(list(map(not_, reported)), positions, names)
    if not positions:
        return  # (the extents are found for every domain at once: not for none)
    firsts, counts, last_lines = ix.extents_at(positions)
    fixes = catch_all_fixer(table, ctx).fixes(names, last_lines)
    spans = key_spans_at(table, firsts)
    for name, n, (line, column, end_line, end), (fix, help_text) in zip_strict(names, counts, spans, fixes):
        yield Finding(
            line, column, end_line, end,
            f"domain '{name}' has {n} entr{'ies' if n != 1 else 'y'} but no '@{name}' catch-all: "
            f"sendmail accepts every other address in it (a local user or alias of that name, "
            f"or relayed to the domain)",
            fix=fix,
            help=help_text,
        )
