"""A catch-all that forwards instead of rejecting.

What it does
    Reports a ``@domain`` catch-all whose value is an address or local user
    rather than an ``error:`` reject. This is sometimes intended (a domain
    forwarded as a whole, ``%1@elsewhere``), hence only ``info``.

Why is this bad
    Every address in the domain is accepted at RCPT, including typos,
    dictionary attacks and spam to made-up names; what the target cannot
    deliver bounces later to forged senders (backscatter).

Example
    ```
    @example.com   alice
    ```

Use instead
    ```
    @example.com   error:5.1.1:550 User unknown
    ```
"""

from __future__ import annotations

from collections.abc import Iterator

from virtc.compat import zip_strict
from virtc.diagnostics import Severity
from virtc.lint.facts import batches, index, shown, value_span
from virtc.lint.rule import Finding, LintContext
from virtc.model import Value, ValueKind
from virtc.table import Table

CODE = "VT207"
NAME = "catch-all-accepts-all"
SEVERITY = Severity.INFO


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    ix = index(table, ctx)
    domains = [dom for dom in ix.domains.values() if dom.catch_all is not None]
    entries = [i for dom in domains if (i := dom.catch_all) is not None]
    for positions, chunk in batches(entries):  # (a batch of texts at a time: 300k domains on tiny)
        mine = domains[positions.start:positions.stop]
        for dom, i, text in zip_strict(mine, chunk, ix.values.take(chunk)):
            if text[:5].lower() == "error":
                continue  # a reject (or VT201's business)
            e = ix.entries[i]
            v = Value.parse(e.value_text)
            if v.kind in (ValueKind.LOCAL, ValueKind.ADDRESS):
                yield Finding(
                    *value_span(e),
                    f"catch-all '{e.key_text}' forwards every other address in '{dom.name}' to "
                    f"'{shown(v.text)}': sendmail accepts any recipient there, typos and spam included",
                    help=f"if that is not intended, reject instead: '{e.key_text}\t{ctx.config.catch_all}'",
                )
