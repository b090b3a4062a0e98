"""The same key twice (after makemap's ASCII case folding).

What it does
    Reports every key that an earlier line already defined, comparing keys the
    way makemap stores them (ASCII letters lower-cased), and names the line
    whose value makemap keeps. When both lines have the same value the fix
    deletes the later line (the map does not change).

Why is this bad
    makemap keeps the first value, prints ``duplicate key`` and exits 65 while
    still installing the map (``-r`` keeps the last one instead). The later
    line, usually the one somebody just added, silently has no effect.

Example
    ```
    bob@example.com   bob
    Bob@Example.com   robert
    ```

Use instead
    ```
    bob@example.com   robert
    ```
"""

from __future__ import annotations

from collections.abc import Iterator

from virtc.diagnostics import Fix, Severity
from virtc.lint.facts import index, key_span, my_share
from virtc.lint.rule import Finding, LintContext
from virtc.source.rejections import duplicate_message
from virtc.table import Table

CODE = "VT103"
NAME = "duplicate-key"
SEVERITY = Severity.ERROR
FIX = "safe"
SPLIT = True


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    ix = index(table, ctx)
    entries = ix.entries
    for j, i in my_share(ctx, ix.duplicates):
        first, later = entries[j], entries[i]
        fix = None
        if later.value_text == first.value_text and later.column == 1:
            fix = Fix(later.line, later.line, "", f"delete line {later.line}, a repeat of line {first.line}")
        yield Finding(
            *key_span(later),
            duplicate_message(first, later) + f"; line {later.line} has no effect",
            fix=fix,
        )
