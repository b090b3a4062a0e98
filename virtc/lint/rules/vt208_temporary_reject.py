"""An ``error:`` value with a 4xx (temporary) reply code.

What it does
    Reports ``error:`` values whose text starts with a ``4xx`` reply code.

Why is this bad
    A 4xx reply tells the sender to try again later: sendmail marks the
    address as a temporary failure, and the sending server keeps the message in
    its queue and retries for days (typically 5) before giving up. For an
    address that does not exist or is closed for good, use a 5xx code so the
    sender learns at once.

Example
    ```
    old@example.com   error:4.2.1:450 Mailbox disabled
    ```

Use instead
    ```
    old@example.com   error:5.2.1:550 Mailbox disabled
    ```
"""

from __future__ import annotations

from collections.abc import Iterator

from virtc.diagnostics import Severity
from virtc.lint.facts import index, shown, value_span_at
from virtc.lint.rule import Finding, LintContext
from virtc.lint.shared import REPLY
from virtc.table import Table

CODE = "VT208"
NAME = "temporary-reject"
SEVERITY = Severity.WARNING


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    ix = index(table, ctx)
    for i, v in ix.error_values:
        if v.error is None:
            continue
        m = REPLY.match(v.error.text)
        if m is not None and m[1][0] == "4":
            yield Finding(
                *value_span_at(table, i),
                f"'{shown(v.text)}' is a temporary failure ({m[1]}): senders keep the mail queued and "
                f"retry for days instead of bouncing it",
                help="use a 5xx code (e.g. 'error:5.1.1:550 ...') if the address is gone for good",
            )
