"""A local domain without an ``@domain`` catch-all (needs ``--local-domains``).

What it does
    With ``--local-domains FILE`` (sendmail's ``local-host-names`` format: the
    domains of class ``$=w``), reports every listed domain that has no
    ``@domain`` key in the table, whether or not it has other entries. The fix
    adds the configured catch-all (after the domain's entries, or at the end).

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


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    if not ctx.local_domains:
        return
    ix = index(table, ctx)
    fixer = catch_all_fixer(table, ctx)
    # The last physical line with content: where a catch-all for an entry-less domain goes.
    lines = table.text.split("\n")
    end = len(lines) - 1 if lines[-1] == "" else len(lines)
    for name in sorted(ctx.local_domains - ctx.host_names):
        dom = ix.domains.get(name)
        if dom is None:
            fix, help_text = fixer.fix(name, end)
            yield Finding(
                max(end, 1), 1, max(end, 1), 1,
                f"local domain '{name}' (in --local-domains) has no '@{name}' catch-all: sendmail "
                f"delivers any address in it to the local user or alias of that name",
                fix=fix,
                help=help_text,
            )
        elif dom.catch_all is None:
            first = ix.entries[dom.first]
            last = ix.entries[dom.last].line
            fix, help_text = fixer.fix(name, last)
            yield Finding(
                *key_span(first),
                f"local domain '{name}' (in --local-domains) has entries but no '@{name}' catch-all: "
                f"sendmail delivers any other address in it to the local user or alias of that name",
                fix=fix,
                help=help_text,
            )
