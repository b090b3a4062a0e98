"""Catch-all rejects vanish while the directory is down, when the map is served from LDAP.

What it does
    With the map served from LDAP, reports the table's first domain-wide reject
    (``@domain  error:...``) once, as a reminder of what an outage does.

Why is this bad
    When sendmail cannot reach the directory, the lookup is a temporary failure and
    RCPT TO gets ``250 2.1.5 ... Recipient ok (will queue)``: every address the
    catch-all rejects is accepted and queued, which is the dictionary-attack hole the
    catch-all closes. Neither the default spec nor a ``-T<TMPF>`` flag on the map
    changes that (checked with sendmail 8.17). Run a replica on each MX host
    (slapd with syncrepl, ``-H ldapi:///`` in ``confLDAP_DEFAULT_SPEC``) so an outage
    is the host's own, and probe every MX from monitoring (``virtc probe``).

Example
    ```
    @example.com    error:5.1.1:550 User unknown     (served by one central directory)
    ```

Use instead
    ```
    @example.com    error:5.1.1:550 User unknown     (a replica on each MX; virtc probe in monitoring)
    ```
    or ignore this rule (``ignore = ["VT303"]``) once that is in place.
"""

from __future__ import annotations

from collections.abc import Iterator

from virtc.diagnostics import Severity
from virtc.lint.facts import key_span
from virtc.lint.rule import Finding, LintContext
from virtc.model import KeyKind, ValueKind
from virtc.table import Table

CODE = "VT303"
NAME = "ldap-outage-accepts"
SEVERITY = Severity.WARNING


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    if not ctx.ldap:
        return
    for e in table.entries:
        if e.key_text.startswith("@") and e.key.kind is KeyKind.CATCH_ALL and e.value.kind is ValueKind.ERROR:
            yield Finding(*key_span(e), "served from LDAP: while sendmail cannot reach the directory, "
                          "RCPT gets '250 Recipient ok (will queue)' for every address this and the other "
                          "catch-alls reject", help="run a replica on each MX (-H ldapi:///) and watch every "
                          "MX with virtc probe; then ignore VT303")
            return
