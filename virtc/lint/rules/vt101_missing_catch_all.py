"""A domain with entries but no ``@domain`` catch-all.

What it does
    Reports every domain that has entries in the table but no ``@domain`` key.
    The fix adds ``@domain`` with the configured catch-all value (default
    ``error:5.1.1:550 User unknown``) after the domain's last entry.

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
    @example.org           error:5.1.1:550 User unknown
    ```
"""

from __future__ import annotations

from collections.abc import Iterator

from virtc.diagnostics import Severity
from virtc.lint.facts import index, key_span
from virtc.lint.rule import Finding, LintContext
from virtc.lint.shared import catch_all_fix
from virtc.table import Table

CODE = "VT101"
NAME = "missing-catch-all"
SEVERITY = Severity.ERROR


def reported_by_vt102(domain: str, ctx: LintContext) -> bool:
    """With --local-domains, VT102 reports listed domains (so each is reported once)."""
    return ctx.local_domains is not None and domain in ctx.local_domains and ctx.config.enabled("VT102")


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    ix = index(table, ctx)
    for dom in ix.domains.values():
        if dom.catch_all is not None or reported_by_vt102(dom.name, ctx):
            continue
        first = ix.entries[dom.first]
        last = ix.entries[dom.last].line
        n = dom.count
        yield Finding(
            *key_span(first),
            f"domain '{dom.name}' has {n} entr{'ies' if n != 1 else 'y'} but no '@{dom.name}' catch-all: "
            f"sendmail accepts every other address in it (a local user or alias of that name, "
            f"or relayed to the domain)",
            fix=catch_all_fix(dom.name, last, ctx),
            help=f"add '@{dom.name}\t{ctx.config.catch_all}' after line {last}",
        )
