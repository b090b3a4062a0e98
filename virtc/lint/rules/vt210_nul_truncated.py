"""A NUL byte in the last line of a file that does not end with a newline.

What it does
    Reports a NUL byte in a final, unterminated line. (A NUL in any other line
    makes makemap reject the line: that is VT001.)

Why is this bad
    makemap reads lines as C strings: on the last line, which it accepts
    without a newline, the NUL silently ends the line. Whatever follows it is
    dropped without a message, so the stored key or value is cut short. Such
    files usually come from a broken editor, a bad conversion (UTF-16) or a
    truncated copy.

Example
    ```
    alice@example.com   ali<NUL>ce      (no newline at the end of the file)
    ```

Use instead
    ```
    alice@example.com   alice
    ```
"""

from __future__ import annotations

from collections.abc import Iterator

from virtc.diagnostics import Severity
from virtc.lint.facts import shown
from virtc.lint.rule import Finding, LintContext
from virtc.table import Table

CODE = "VT210"
NAME = "nul-truncated"
SEVERITY = Severity.ERROR


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    line, last = table.last_line
    if "\0" not in last or len(last) > 1022:
        return  # terminated, clean, or too long (VT001 reports those)
    nul = last.index("\0")
    kept = last[:nul]
    yield Finding(
        line, nul + 1, line, len(last) + 1,
        f"NUL byte in the last line (no newline at the end of the file): makemap silently keeps only "
        f"'{shown(kept)}' and drops the {len(last) - nul} bytes from the NUL on",
        help="remove the NUL byte and end the file with a newline",
    )
