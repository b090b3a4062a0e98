"""Entries for a domain sendmail does not treat as local (needs ``--local-domains``).

What it does
    With ``--local-domains FILE`` (the domains of class ``$=w``), reports each
    domain of the table that the file does not list, once, at its first
    entry, with the number of entries that are dead.

Why is this bad
    sendmail consults the virtusertable only for recipients whose domain is in
    ``$=w`` (or ``VIRTUSER_DOMAIN``); mail to any other domain is routed by DNS
    and never looked up. The entries look active but do nothing, usually
    because the domain was never added to ``local-host-names`` or was removed
    from it.

Example
    ```
    # local-host-names lists example.com only
    info@example.org   alice
    ```

Use instead
    Add ``example.org`` to ``local-host-names`` (or ``VIRTUSER_DOMAIN_FILE``), or
    delete the domain's entries.
"""

from __future__ import annotations

from collections.abc import Iterator

from virtc.diagnostics import Severity
from virtc.lint.facts import index, key_span
from virtc.lint.rule import Finding, LintContext
from virtc.lint.shared import under_entire_domain
from virtc.table import Table

CODE = "VT106"
NAME = "dead-entry"
SEVERITY = Severity.WARNING


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    local = ctx.local_domains
    if local is None:
        return
    ix = index(table, ctx)
    for dom in ix.domains.values():
        if dom.name in local or under_entire_domain(dom.name, ctx.entire_domain):
            continue  # (virtuser_entire_domain: subdomains of a VirtHost domain are looked up)
        extent = ix.extent(dom.name)
        first = ix.entries[extent.first]
        n = extent.entries
        more = f" (and {n - 1} more entr{'ies' if n > 2 else 'y'} of this domain)" if n > 1 else ""
        yield Finding(
            *key_span(first),
            f"domain '{dom.name}' is not in the local domains: sendmail never looks up "
            f"'{first.key_text}'{more}, mail to it is routed by DNS",
        )
