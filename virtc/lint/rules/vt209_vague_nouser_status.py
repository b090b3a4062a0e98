"""``error:nouser 550 ...``: a reject with the vague DSN 5.0.0.

What it does
    Reports ``error:nouser`` values with a 5xx reply code and no enhanced
    status code in the text, and suggests the ``error:5.1.1:550 ...`` form.

Why is this bad
    sendmail's status names only set the exit status: ``error:nouser 550 No
    such user`` replies ``550 5.0.0 ... No such user``. The enhanced status
    code 5.0.0 means "other undefined status"; 5.1.1 ("bad destination
    mailbox address") tells the sending system and its user what is wrong.

Example
    ```
    @example.com   error:nouser 550 No such user
    ```

Use instead
    ```
    @example.com   error:5.1.1:550 No such user
    ```
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from virtc.diagnostics import Severity
from virtc.lint.facts import index, shown, value_span_at
from virtc.lint.rule import Finding, LintContext
from virtc.table import Table

CODE = "VT209"
NAME = "vague-nouser-status"
SEVERITY = Severity.INFO

_REPLY_5XX = re.compile(r"(5[0-9]{2}) (?![0-9]\.[0-9]{1,3}\.[0-9]{1,3}\b)(.*)", re.S)


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    ix = index(table, ctx)
    for i, v in ix.error_values:
        err = v.error
        if err is None or err.dsn_form or err.status.lower() != "nouser":
            continue
        m = _REPLY_5XX.match(err.text)
        if m is not None:
            better = f"error:5.1.1:{m[1]} {m[2]}"
            yield Finding(
                *value_span_at(table, i),
                f"'{shown(v.text)}' rejects with the vague DSN 5.0.0: write '{shown(better)}' for "
                f"'{m[1]} 5.1.1' (bad destination mailbox)",
                help=f"use '{shown(better)}'",
            )
