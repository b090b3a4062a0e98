"""A local domain without an ``@domain`` catch-all (needs the local domains).

What it does
    When the local domains are known (``--sendmail-cf``: class w and VirtHost, or
    ``--local-domains FILE`` in ``local-host-names`` format), reports every local
    domain that has no ``@domain`` key in the table, whether or not it has other
    entries; never ``localhost`` or the host's own names. The (unsafe) fix adds the
    configured catch-all after the domain's entries, or at the end, with the
    entries that keep ``postmaster@`` and every address the table forwards there
    working.

Why is this bad
    For a domain in ``$=w`` sendmail falls back to local delivery when no
    virtusertable key matches: ``root@domain``, ``postmaster@domain`` and every
    local account or alias answer in that domain, and mail to anything else
    is accepted or bounced by the local mailer instead of being refused at RCPT
    with the domain's own policy.

Example
    ```
    # local-host-names lists example.com and example.org
    alice@example.com   alice
    @example.com        error:5.1.1:550 User unknown
    ```

Use instead
    ```
    alice@example.com   alice
    @example.com        error:5.1.1:550 User unknown
    @example.org        error:5.1.1:550 User unknown
    ```
"""

from __future__ import annotations

from collections.abc import Iterator

from virtc.diagnostics import Severity
from virtc.lint.catch_all import catch_all_fixer
from virtc.lint.facts import index, key_span
from virtc.lint.rule import Finding, LintContext
from virtc.table import Table

CODE = "VT102"
NAME = "unprotected-local-domain"
SEVERITY = Severity.ERROR
FIX = "unsafe"
LOOKUPS = True


def _fate(name: str, ctx: LintContext, which: str) -> str:
    if name in ctx.virthost_only:
        return f"relays {which} address in it to the domain's MX (often this host again: a loop)"
    return f"delivers {which} address in it to the local user or alias of that name"


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    if not ctx.local_domains:
        return
    ix = index(table, ctx)
    fixer = catch_all_fixer(table, ctx)
    # The last physical line with content: where a catch-all for an entry-less domain goes.
    number, rest = table.last_line  # (known to the parser: the source is not read again)
    end = number - 1 if rest == "" else number
    for name in sorted(ctx.local_domains - ctx.host_names):
        dom = ix.domains.get(name)
        if dom is None:
            fix, help_text = fixer.fix(name, end)
            yield Finding(
                max(end, 1), 1, max(end, 1), 1,
                f"local domain '{name}' has no '@{name}' catch-all: sendmail {_fate(name, ctx, 'any')}",
                fix=fix,
                help=help_text,
            )
        elif dom.catch_all is None:
            first = ix.entries[ix.extent(name).first]
            last = ix.last_line(name)
            fix, help_text = fixer.fix(name, last)
            yield Finding(
                *key_span(first),
                f"local domain '{name}' has entries but no '@{name}' catch-all: "
                f"sendmail {_fate(name, ctx, 'any other')}",
                fix=fix,
                help=help_text,
            )
