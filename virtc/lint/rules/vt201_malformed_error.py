"""An ``error:`` value sendmail misreads.

What it does
    Checks every ``error:`` value the way sendmail's ``error`` mailer reads it:
    ``error:D.S.N:NNN text`` or ``error:STATUS NNN text`` with ``STATUS`` one of
    ``usage nouser nohost unavailable software tempfail protocol config``.
    Reports an unknown status name, a number in the status slot, a malformed
    DSN, a DSN whose class differs from the reply code's, a missing text, and
    values meant as a reject that sendmail does not read as ``error:`` at all
    (``"error:..."`` in quotes, ``error 550 ...``, access-map actions such as
    ``REJECT``). A text that does not start with a 3-digit reply code is a
    warning: the address is still rejected, but as ``553 5.3.0``.

Why is this bad
    A misspelt reject either rejects with the wrong code and text (senders
    and their tools act on the code) or is not a reject at all: a quoted or
    space-separated ``error`` is a local user name, so the mail is accepted.

Example
    ```
    a@example.com   error:nouser No such user
    b@example.com   error:550 Mailbox disabled
    c@example.com   "error:5.1.1:550 User unknown"
    d@example.com   error:5.1.1 550 User unknown
    ```

Use instead
    ```
    a@example.com   error:5.1.1:550 No such user
    b@example.com   error:5.2.1:550 Mailbox disabled
    c@example.com   error:5.1.1:550 User unknown
    d@example.com   error:5.1.1:550 User unknown
    ```
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import filterfalse

from virtc.diagnostics import Severity
from virtc.lint.facts import PLAIN_REJECT, index, shown, value_span_at
from virtc.lint.rule import Finding, LintContext
from virtc.lint.shared import ACCESS_ACTION, ERROR_WORD_AT, REPLY, misspelt_error
from virtc.model import ErrorValue
from virtc.table import Table

CODE = "VT201"
NAME = "malformed-error"
SEVERITY = Severity.ERROR

STATUS_NAMES = frozenset({"usage", "nouser", "nohost", "unavailable", "software", "tempfail", "protocol",
                          "config"})
"""sendmail's ``ErrorCodes[]`` (parseaddr.c); any other name silently means EX_UNAVAILABLE."""

MISSPELT_SCAN = re.compile(f"\n(?!{PLAIN_REJECT}){ERROR_WORD_AT}")
"""Values :func:`misspelt_error` may object to, less the well-formed rejects: found in the
whole column at once."""


def problems(err: ErrorValue) -> Iterator[tuple[str, Severity | None]]:
    """(message, severity or None for the rule's default) for each fault of an error value."""
    status, text = err.status, err.text
    if err.dsn_form:
        cls = status[0]
        if cls not in "45":
            m = REPLY.match(text)
            sent = f": sendmail ignores it and replies '{m[1]} {m[1][0]}.0.0'" if m else ""
            yield f"DSN '{status}' has class {cls}: a reject needs 4.x.x or 5.x.x{sent}", None
            return
    elif status.isdigit():
        yield (f"'{status}' in the status slot is a numeric exit status, not a reply code: sendmail "
               f"replies '553 5.3.0'; write 'error:5.x.x:{status} ...'"), None
        return
    elif "." in status:
        yield (f"malformed DSN '{status}': sendmail takes only '{status.split('.')[0]}' as the status "
               f"and rejects with a garbled '553 5.3.0' reply; write 'error:D.S.N:NNN text' (three "
               f"numbers, then ':')"), None
        return
    elif status.lower() not in STATUS_NAMES:
        yield (f"unknown status '{status}': sendmail silently uses 'unavailable' (DSN 5.0.0); known: "
               f"{', '.join(sorted(STATUS_NAMES))}"), None
    if not text:
        yield ("no text after the status: sendmail still rejects the address, but with a garbled "
               "'553 5.3.0' reply built from the address itself ('<a@dom>... >a<@dom.'); write "
               "'error:5.1.1:550 User unknown'"), None
        return

    m = REPLY.match(text)
    if m is None:
        yield (f"text '{text}' does not start with a 3-digit reply code and a space: sendmail "
               f"rejects with '553 5.3.0 {text}'"), Severity.WARNING
        return
    code, rest = m[1], text[m.end():]
    dsn = status if err.dsn_form else f"{code[0]}.0.0"
    if not rest.isascii():
        from virtc.lookup.prescan import seven_bits  # (the lookup modules: only for 8-bit text)

        sent = seven_bits(rest)
        yield (f"8-bit text: SMTP replies are 7-bit, sendmail clears the top bit of each byte and "
               f"sends '{code} {dsn} {sent}'; write the text in ASCII"), Severity.WARNING
    if code[0] == "2":
        yield (f"reply code {code} is not a failure: sendmail accepts the recipient "
               f"(it replies '{code} {dsn} {rest}') instead of rejecting it"), None
    elif code[0] in "13":
        sent = f": sendmail replies '{code} {dsn} {rest}'" if err.dsn_form else ""
        yield f"reply code {code} is not a failure code (4xx or 5xx){sent}, which confuses the client", None
    elif code[0] in "6789":
        yield (f"reply code {code} is not an SMTP code: sendmail replies "
               f"'550 {status if err.dsn_form else '5.0.0'} {rest}'"), None
    elif err.dsn_form and code[0] != status[0]:
        yield (f"DSN class {status[0]} ('{status}') differs from the reply code {code}: sendmail sends "
               f"'{code} {status}' as written"), None


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    ix = index(table, ctx)
    for i, v in ix.error_values:
        assert v.error is not None
        for msg, sev in problems(v.error):
            yield Finding(*value_span_at(table, i), f"'{shown(v.text)}': {msg}", severity=sev)
    errors = {i for i, _ in ix.error_values}
    for i in filterfalse(errors.__contains__, ix.values.matching(ACCESS_ACTION, MISSPELT_SCAN)):
        text = ix.values[i]
        if "@" not in text and (why := misspelt_error(text)) is not None:
            yield Finding(*value_span_at(table, i), f"'{shown(text)}' is not an error value: {why}")
