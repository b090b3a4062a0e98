"""A carriage return or trailing whitespace at the end of a value.

What it does
    Reports a value ending in ``\\r`` (a CRLF line ending) or in spaces or tabs. A
    warning: sendmail reads the value without them, so mail goes where it should. The
    (safe) fix strips them.

Why is this bad
    makemap strips only the ``\\n``: the ``\\r`` of a file saved with Windows
    line endings and any trailing blanks are stored in the map as part of the
    value. sendmail's address parser happens to ignore them, but every other
    reader of the map (``makemap -u``, ``praliases``-style tools, scripts, a
    later migration) sees ``alice\\r``; and in a CRLF file an entry with no
    value is not ``key`` but ``key\\r``, and a blank line is ``\\r``, which makemap
    rejects.

Example
    ```
    alice@example.com   alice\\r
    bob@example.com     bob␠␠
    ```

Use instead
    ```
    alice@example.com   alice
    bob@example.com     bob
    ```
"""

from __future__ import annotations

from collections.abc import Iterator

from virtc.diagnostics import Fix, Severity
from virtc.lint.facts import index, my_share, shown
from virtc.lint.rule import Finding, LintContext
from virtc.model import BLANKS
from virtc.table import Table

CODE = "VT203"
NAME = "stray-whitespace"
SEVERITY = Severity.WARNING
FIX = "safe"
SPLIT = True



def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    ix = index(table, ctx)
    for i in my_share(ctx, ix.ends_blank):
        e = ix.entries[i]
        value = e.value_text
        kept = value.rstrip(BLANKS)
        tail = value[len(kept):]
        cr = "\r" in tail
        fix = None
        if e.column == 1:
            line = table.source_line(e.line)
            if line.endswith(value):
                fix = Fix(e.line, e.line, line[: len(line) - len(tail)] + "\n",
                          "strip the carriage return" if tail == "\r" else "strip trailing whitespace")
        plural = "s" if len(tail) > 1 else ""
        what = "a carriage return (CRLF line ending)" if cr else f"{len(tail)} trailing blank{plural}"
        yield Finding(
            e.line, e.value_column + len(kept), e.line, e.end_column,
            f"value '{shown(kept)}' ends with {what}: makemap stores "
            f"'{kept.encode('unicode_escape').decode('ascii')}{tail.encode('unicode_escape').decode('ascii')}'"
            f" in the map",
            fix=fix,
        )
