"""A key with non-ASCII capital letters, which makemap and sendmail do not lower-case.

What it does
    Reports keys that contain capital letters outside ASCII (in UTF-8, e.g.
    ``JÖRG@example.com``) and names the address that will not match.

Why is this bad
    makemap lower-cases only the ASCII letters of a key, and sendmail only
    the ASCII letters of the address it looks up (builds without ``USE_EAI``,
    such as Debian's): ``JÖRG@example.com`` is stored as ``jÖrg@example.com``,
    so mail to ``jörg@example.com`` does not match it and goes to the
    catch-all. Mail to ``JÖRG@...`` is refused as an 8-bit address by SMTP.

Example
    ```
    JÖRG@example.com   joerg
    ```

Use instead
    ```
    jörg@example.com   joerg
    ```
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from virtc.diagnostics import Severity
from virtc.lint.facts import index, key_span
from virtc.lint.rule import Finding, LintContext
from virtc.model import fold
from virtc.table import Table

CODE = "VT108"
NAME = "non-ascii-case"
SEVERITY = Severity.WARNING


_NON_ASCII = re.compile("[^\x00-\x7f]")


def _utf8(text: str) -> str | None:
    """The key as UTF-8 text (it is Latin-1 decoded bytes), or None if it is not UTF-8."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return None


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    ix = index(table, ctx)
    if ix.keys.isascii():
        return  # decided in C, faster than the scan
    for i in ix.keys.matching(_NON_ASCII):
        e = ix.entries[i]
        key = _utf8(e.key_text)
        stored = _utf8(fold(e.key_text))
        latin1 = key is None
        if latin1:  # not UTF-8: one character per byte, as a Latin-1 mail client writes it
            key, stored = e.key_text, fold(e.key_text)
        if key is None or stored is None or stored == key.lower():
            continue
        what = " (Latin-1 bytes)" if latin1 else ""
        yield Finding(
            *key_span(e),
            f"key '{key}'{what} is stored as '{stored}' (only ASCII letters are lower-cased): mail to "
            f"'{key.lower()}' does not match it",
            help=f"write the key in lower case: '{key.lower()}'",
        )
