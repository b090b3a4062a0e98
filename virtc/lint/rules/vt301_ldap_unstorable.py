"""A key or value a directory cannot hold, when the map is served from LDAP.

What it does
    With the map served from LDAP (the sendmail.cf's virtuser K line is ``ldap``, or
    ``--target ldap``, as ``virtc export ldif`` and ``virtc ldap sync`` lint), reports
    keys and values that are not UTF-8, and keys longer than the schema's 256
    characters (a warning from 231: slapd's mdb backend refused those under a short
    base DN).

Why is this bad
    sendmail's schema declares ``sendmailMTAKey`` and ``sendmailMTAMapValue`` as
    DirectoryStrings: UTF-8, which slapd enforces (``value #0 invalid per syntax``).
    A sync stops at the first entry the server refuses, leaving the table half
    loaded; an LDIF import stops there too.

Example
    ```
    jos\\xe9@example.com     jose          (Latin-1 bytes)
    ```

Use instead
    ```
    josé@example.com        jose          (the file saved as UTF-8)
    ```
"""

from __future__ import annotations

from collections.abc import Iterator

from virtc.diagnostics import Severity
from virtc.lint.facts import key_span, shown, value_span
from virtc.lint.rule import Finding, LintContext
from virtc.source.reader import encode
from virtc.table import Table

CODE = "VT301"
NAME = "ldap-unstorable"
SEVERITY = Severity.ERROR

KEY_LIMIT = 256
"""``sendmailMTAKey``'s bound in sendmail.schema."""
MDB_KEY_LIMIT = 230
"""The longest key slapd 2.5's mdb backend took under ``dc=example,dc=com`` (test_ldap_oracle)."""


def _utf8(text: str) -> bool:
    try:
        encode(text).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    if not ctx.ldap:
        return
    keys_ascii, values_ascii = table.keys.isascii(), table.values.isascii()
    for e in table.entries:
        if not keys_ascii and not _utf8(e.key_text):
            yield Finding(*key_span(e), f"key '{shown(e.key_text)}' is not UTF-8: slapd refuses it "
                          "(sendmailMTAKey is a DirectoryString)", help="save the table as UTF-8")
        elif len(e.key_text) > MDB_KEY_LIMIT:
            over = len(e.key_text) > KEY_LIMIT
            why = (f"over the schema's {KEY_LIMIT}: the directory cannot hold it" if over
                   else f"over {MDB_KEY_LIMIT}: slapd's mdb backend refused keys that long in our tests")
            yield Finding(*key_span(e), f"key of {len(e.key_text)} characters, {why}",
                          severity=None if over else Severity.WARNING)
        if not values_ascii and not _utf8(e.value_text):
            yield Finding(*value_span(e), f"value '{shown(e.value_text)}' is not UTF-8: slapd refuses it "
                          "(sendmailMTAMapValue is a DirectoryString)", help="save the table as UTF-8")
