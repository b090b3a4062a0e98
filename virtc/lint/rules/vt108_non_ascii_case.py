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
from collections.abc import Iterator, Sequence
from itertools import compress, repeat
from operator import and_, ne, or_

from virtc.diagnostics import Severity
from virtc.lint.facts import batches, index, key_span_at
from virtc.lint.rule import Finding, LintContext
from virtc.model import fold
from virtc.table import Table

CODE = "VT108"
NAME = "non-ascii-case"
SEVERITY = Severity.WARNING


_NON_ASCII = re.compile("[^\x00-\x7f][^\n]*")
"""A key's first non-ASCII character and the rest of it: one match a key."""
_ESCAPED = re.compile("[\udc80-\udcff]")
"""A byte that is not UTF-8, as ``surrogateescape`` decodes it."""


def _utf8(text: str) -> str | None:
    """The key as UTF-8 text (it is Latin-1 decoded bytes), or None if it is not UTF-8."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return None


def _lower_changes(chunk: Sequence[int], texts: list[str]) -> Iterator[int]:
    """The entries of ``chunk`` (keys ``texts``) whose lower case differs beyond ASCII, read
    as UTF-8 or else as Latin-1 (``bytes.lower`` folds ASCII only, as makemap): in C, for
    the whole chunk at once when none does (#18: 100k UTF-8 keys, none reported, cost
    5 us each one at a time)."""
    raw = "\n".join(texts).encode("latin-1")
    decoded = raw.decode("utf-8", "surrogateescape")
    if decoded.lower() == raw.lower().decode("utf-8", "surrogateescape") and not _ESCAPED.search(decoded):
        return iter(())
    raws = list(map(str.encode, texts, repeat("latin-1")))
    folded = list(map(bytes.lower, raws))
    keys = list(map(bytes.decode, raws, repeat("utf-8"), repeat("surrogateescape")))
    changed = map(ne, map(str.lower, keys),
                  map(bytes.decode, folded, repeat("utf-8"), repeat("surrogateescape")))
    not_utf8 = map(bool, map(_ESCAPED.search, keys))
    changed_latin1 = map(ne, map(str.lower, texts), map(bytes.decode, folded, repeat("latin-1")))
    return compress(chunk, map(or_, changed, map(and_, not_utf8, changed_latin1)))


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    ix = index(table, ctx)
    if ix.keys.isascii():
        return  # decided in C, faster than the scan
    for _, chunk in batches(ix.keys.matching(_NON_ASCII)):
        for i in _lower_changes(chunk, ix.keys.take(chunk)):
            text = ix.keys[i]
            key = _utf8(text)
            stored = _utf8(fold(text))
            latin1 = key is None
            if latin1:  # not UTF-8: one character per byte, as a Latin-1 mail client writes it
                key, stored = text, fold(text)
            if key is None or stored is None or stored == key.lower():
                continue
            what = " (Latin-1 bytes)" if latin1 else ""
            yield Finding(
                *key_span_at(table, i),
                f"key '{key}'{what} is stored as '{stored}' (only ASCII letters are lower-cased): mail to "
                f"'{key.lower()}' does not match it",
                help=f"write the key in lower case: '{key.lower()}'",
            )
