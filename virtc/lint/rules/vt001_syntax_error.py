"""A line makemap rejects.

What it does
    Reports every line sendmail's ``makemap`` refuses: a line starting with
    whitespace (including whitespace-only lines and the ``\\r`` of a blank CRLF
    line), a key without a value, a line longer than 1022 bytes, a NUL byte.

Why is this bad
    makemap prints an error, skips the line and still installs the map, so the
    entry silently does not exist. There are no continuation lines: an indented
    Postfix-style continuation is lost. An over-long line is worse: makemap reads
    its remainder as a new, unintended entry.

Example
    ```
    info@example.com
      sales@example.com   carol
    ```

Use instead
    ```
    info@example.com      info
    sales@example.com     carol
    ```
"""

from __future__ import annotations

from collections.abc import Iterator

from virtc.diagnostics import Severity
from virtc.lint.rule import Finding, LintContext
from virtc.table import Table

CODE = "VT001"
NAME = "syntax-error"
SEVERITY = Severity.ERROR


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    for rej in table.rejected:
        yield Finding(rej.line, rej.column, rej.line, rej.end_column, rej.message)
