"""A key sendmail never looks up.

What it does
    Reports keys no address can match: no ``@`` (a bare ``user``, aliases
    style), an empty domain, a domain that starts or ends with ``.`` or ends
    with ``:``, a ``*`` anywhere but in the ``user+*@`` / ``+*@`` wildcards,
    a key longer than 256 bytes, a byte-order mark, or template debris
    (``<%=``, ``{{``, ``${``) left by a generator.

Why is this bad
    sendmail builds its lookup keys from the recipient address: ``user@domain``,
    ``user++@domain``, ``user+*@domain``, ``++@domain``, ``+*@domain`` and
    ``@domain``, with the domain canonical (no trailing dot) and the key cut to
    256 bytes. A key of any other shape is stored but never matched, so the
    address it was meant for falls through to the catch-all.

Example
    ```
    info                 alice
    *@example.com        alice
    sales@example.com.   carol
    ```

Use instead
    ```
    info@example.com     alice
    @example.com         alice
    sales@example.com    carol
    ```
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import compress
from operator import not_

from virtc.diagnostics import Severity
from virtc.lint.facts import TableIndex, index, key_span_at
from virtc.lint.rule import Finding, LintContext
from virtc.model import MAXNAME, Key, KeyKind
from virtc.table import Table

CODE = "VT104"
NAME = "unmatchable-key"
SEVERITY = Severity.ERROR

_BOM = "\xef\xbb\xbf"  # UTF-8 byte-order mark, Latin-1 decoded
MAX_ADDRESS = MAXNAME - 1
"""sendmail rejects longer addresses ("Address ... too long (255 bytes max)")."""
_ODD_CHARS = "{}<>%$\xef\ufeff"  # template debris, a BOM
_ODD_CHAR = re.compile(f"[{_ODD_CHARS}]")
_STAR = re.compile(r"\*")
_WILDCARD = re.compile(r"(?:[^+@*]+)?\+\*@[^@*]*")
"""The only keys a '*' belongs in: ``user+*@domain`` and ``+*@domain``, one '@', one '*'."""
_ODD_AT = re.compile(r"@[.\n]|@[^@\n]*@")  # '@.', '@' at the end, two '@'
_LONG = re.compile(r"\n[^\n]{" + str(MAX_ADDRESS + 1) + "}")


def suspects(ix: TableIndex) -> list[int]:
    """Keys worth a closer look (a superset of the unmatchable ones), found at C speed.

    Each scan runs only if a plain substring search says it can find something.
    """
    col = ix.keys
    found = set(col.matching(_LONG))
    if any(map(col.contains, _ODD_CHARS)):
        found.update(col.matching(_ODD_CHAR))
    if col.contains("*"):  # a table has thousands of wildcard keys: only the others are suspect
        stars = col.matching(_STAR)
        found.update(compress(stars, map(not_, map(_WILDCARD.fullmatch, col.take(stars)))))
    found.update(ix.no_at)
    two_at = not ix.one_at_each and col.count("@") != len(col) - len(ix.no_at)
    if col.contains("@.") or col.any_endswith("@") or two_at:
        found.update(col.matching(_ODD_AT))
    found.update(ix.odd_ending_keys)  # ending in anything but a letter or digit
    return sorted(found)


_DEBRIS = ("<%", "%>", "{{", "}}", "${")


def _no_at(text: str) -> str:
    if text.startswith("."):
        return (f"it has no '@': '{text}' is mailertable/access syntax for subdomains; a virtusertable "
                f"has no such wildcard (each domain needs its own '@domain' key)")
    if text.endswith(":"):
        return "it has no '@' and ends with ':' (aliases-file syntax): aliases belong in the aliases file"
    if "." in text:
        return f"it has no '@': for the catch-all of the domain '{text}' write '@{text}'"
    return "it has no '@': sendmail only looks up 'user@domain' and '@domain' keys (bare names " \
        "belong in the aliases file)"


def why_unmatchable(text: str, kind: KeyKind, domain: str, reason: str) -> str | None:
    """Why sendmail never looks this key up, or None when it can."""
    if text.startswith(_BOM) or "\ufeff" in text:
        return "it starts with a UTF-8 byte-order mark (saved by an editor), which is part of the key"
    for debris in _DEBRIS:
        if debris in text:
            return f"it contains template debris '{debris}' (an unexpanded placeholder)"
    if kind is KeyKind.UNMATCHABLE:
        if reason == "it has no '@'":
            return _no_at(text)
        return reason
    if len(text) > (MAX_ADDRESS if kind is KeyKind.ADDRESS else MAXNAME):
        return f"it is {len(text)} bytes long: sendmail refuses addresses over {MAX_ADDRESS} bytes " \
            f"and cuts lookup keys to {MAXNAME}"
    if "*" in text and not (kind in (KeyKind.USER_ANY, KeyKind.DOMAIN_ANY) and text.count("*") == 1):
        return "'*' is not a wildcard here (only in 'user+*@domain' and '+*@domain'): the key matches " \
            "only an address with a literal '*'"
    if domain.endswith("."):
        return f"its domain '{domain}' ends with '.': sendmail strips the trailing dot before the lookup"
    if domain.endswith(":"):
        return f"its domain '{domain}' ends with ':' (aliases-file syntax): the ':' is part of the key"
    if domain.startswith("."):
        return f"its domain '{domain}' starts with '.': no address has such a domain"
    return None


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    ix = index(table, ctx)
    # Cheap scan first: most keys are plain 'user@domain' ending in a letter or digit.
    odd = suspects(ix)
    for i in odd:
        text = ix.keys[i]
        k = Key.parse(text)
        why = why_unmatchable(text, k.kind, k.domain, k.reason)
        if why is not None:
            key = text.replace(_BOM, "<BOM>")
            yield Finding(*key_span_at(table, i), f"key '{key}' is never looked up by sendmail: {why}")
