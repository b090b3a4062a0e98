"""A ``#`` comment after a value.

What it does
    Reports a ``#`` that follows whitespace in a value.

Why is this bad
    makemap treats ``#`` as a comment only in the first column. Anything
    after the value, comment included, is stored as part of it: ``alice  # the
    webmaster`` maps to the value ``alice  # the webmaster``, which sendmail
    reads as several words (a user that does not exist), and an ``error:``
    text sends the comment to the sender.

Example
    ```
    webmaster@example.org   alice   # the webmaster
    ```

Use instead
    ```
    # the webmaster
    webmaster@example.org   alice
    ```
"""

from __future__ import annotations

from collections.abc import Iterator

from virtc.diagnostics import Severity
from virtc.lint.facts import index, shown
from virtc.lint.rule import Finding, LintContext
from virtc.lint.shared import INLINE_COMMENT, comment_start
from virtc.model import BLANKS
from virtc.table import Table

CODE = "VT204"
NAME = "inline-comment"
SEVERITY = Severity.ERROR

def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    ix = index(table, ctx)
    if not ix.values.contains("#"):
        return  # decided in C, faster than the scan
    for i in ix.values.matching(INLINE_COMMENT):
        e = ix.entries[i]
        start = comment_start(e.value_text)
        if start is None:
            continue
        kept = e.value_text[:start]
        comment = e.value_text[start:].strip(BLANKS)
        col = e.value_column + start + len(e.value_text[start:]) - len(e.value_text[start:].lstrip())
        yield Finding(
            e.line, col, e.line, e.value_column + len(e.value_text.rstrip(BLANKS)),
            f"'{shown(comment)}' is stored as part of the value (makemap has no inline comments): "
            f"sendmail sees '{shown(e.value_text)}', not '{shown(kept)}'",
            help="move the comment to a line of its own above the entry",
        )
