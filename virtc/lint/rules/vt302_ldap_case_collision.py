"""Two keys a directory sees as one, when the map is served from LDAP.

What it does
    With the map served from LDAP, reports keys that makemap stores apart but that
    LDAP's ``caseIgnoreMatch`` compares equal: they differ only in the case of
    non-ASCII letters (makemap and sendmail fold ASCII letters only).

Why is this bad
    Each key is the DN of its entry, so the directory refuses the second one
    (``Already exists``): a sync stops there. Loaded any other way, a lookup finds
    two entries, and sendmail's ldap map (``-1``) treats two matches as none: the
    address falls through to the catch-all.

Example
    ```
    Ünï@example.com     uni
    ünï@example.com     uni2
    ```

Use instead
    ```
    ünï@example.com     uni
    ```
"""

from __future__ import annotations

from collections.abc import Iterator

from virtc.diagnostics import Severity
from virtc.lint.facts import key_span
from virtc.lint.rule import Finding, LintContext
from virtc.source.reader import encode
from virtc.table import Table

CODE = "VT302"
NAME = "ldap-case-collision"
SEVERITY = Severity.ERROR


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    if not ctx.ldap or table.keys.isascii():
        return
    first: dict[str, tuple[str, int, str]] = {}
    for e in table.entries:
        if e.key_text.isascii():
            continue
        stored = e.stored_key
        try:
            folded = encode(stored).decode("utf-8").casefold()
        except UnicodeDecodeError:
            continue  # VT301
        seen = first.setdefault(folded, (stored, e.line, e.key_text))
        if seen[0] != stored:
            # Both keys are UTF-8 here: the formatter shows them as written.
            yield Finding(*key_span(e), f"key '{e.key_text}' is the same LDAP entry as "
                          f"'{seen[2]}' on line {seen[1]} (caseIgnoreMatch): the directory holds "
                          "only one of them", help="keep one spelling of the address")
