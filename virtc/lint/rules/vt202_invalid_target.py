"""A value sendmail cannot deliver to.

What it does
    Reports values that are not one address, local user or ``error:``: a
    comma-separated list, several words, a Postfix-style ``@otherdomain``,
    a program (``|cmd``), a file (``/path``), an ``:include:``, or a value
    that is only ``@`` or ``!``.

Why is this bad
    A virtusertable value is a single address. sendmail rejects lists with
    ``553 5.1.3 Invalid route address``, ``@otherdomain`` with ``553 5.1.3 User
    address required``, and programs, files and includes with ``550 5.7.1
    Cannot mail directly to ...``; several words are joined with ``.`` into one
    user name that does not exist. Mail meant for these entries bounces.

Example
    ```
    sales@example.com   carol@example.net, dave@example.net
    list@example.com    |/usr/bin/procmail
    ```

Use instead
    Point the entry at an alias and put the list or program in the aliases file:
    ```
    sales@example.com   sales-example
    list@example.com    list-example
    ```
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from virtc.diagnostics import Severity
from virtc.lint.facts import index, shown, value_span_at
from virtc.lint.rule import Finding, LintContext
from virtc.lint.shared import comment_start, misspelt_error
from virtc.model import BLANKS
from virtc.table import Table

CODE = "VT202"
NAME = "invalid-target"
SEVERITY = Severity.ERROR

_SPREAD = " \t,\x0b\x0c<>()\"\\"
_SPREAD_RE = re.escape(_SPREAD)
SUSPECTS = re.compile(f"\n(?!(?i:error))(?:[|/\"@!:]|[^\n]{{257}}|[^\n{_SPREAD_RE}]*[{_SPREAD_RE}])")
"""Values worth a closer look, found in one pass over the column (each value matched at
most once): not ``error...`` (VT201's), and a special first character, a token too long
for prescan, or one of :data:`_SPREAD` (a comma, blanks, what prescan treats specially)."""
_ALIAS_HINT = "put it in the aliases file and point this entry at the alias"


def why_invalid(text: str) -> str | None:
    """What sendmail does with a value it cannot deliver to, or None."""
    v = text.rstrip(BLANKS)
    low = v.lower()
    if not v:
        return "the value is empty: sendmail builds a garbage address from it"
    if v == "@":
        return "'@' alone is read as 'not found': sendmail goes on to the next key as if there were no entry"
    if v == "!":
        return ("'!' alone is read as 'not found' and ends the lookup: the catch-all is skipped and "
                "the address goes to the local user of that name")
    if v.startswith("|"):
        return f"a program: sendmail refuses it ('550 5.7.1 Cannot mail directly to programs'); " \
            f"{_ALIAS_HINT}"
    if v.startswith("/"):
        return f"a file: sendmail refuses it ('Cannot mail directly to files'); {_ALIAS_HINT}"
    if low.startswith(":include:"):
        return f"an include: sendmail refuses it ('Cannot mail directly to :include:s'); " \
            f"{_ALIAS_HINT}"
    if v.startswith("@") and ":" not in v:
        return f"'{v}' is Postfix syntax: sendmail rejects it with '553 5.1.3 User address required'; " \
            f"write '%1{v}' to keep the user part"
    from virtc.lookup.resolve import classify, needs_prescan, prescan_error  # (few values get here)

    if needs_prescan(v) or v.startswith("@"):
        # Brackets, quotes, comments, a source route: what sendmail's prescan and canonify do.
        refused = prescan_error(v)
        if refused is not None:
            return f"sendmail refuses the recipient at RCPT with '{refused.text}'"
        target = classify(v)
        if hasattr(target, "status"):
            return f"sendmail rejects it with '{getattr(target, 'text', '')}'"
        if v.endswith(","):
            return (f"a trailing comma: sendmail accepts the address at RCPT, then fails to deliver to "
                    f"the local user '{v.lower()}'; drop the comma")
        return None  # 'Name <addr>', '<addr>', '"user"', 'user (comment)', '@route:addr': followed
    if v.startswith('"'):
        return None  # a quoted local part: odd, but deliverable
    if "," in v:
        return f"a list: sendmail takes one address and rejects this with '553 5.1.3 Invalid route " \
            f"address'; {_ALIAS_HINT}"
    if v.startswith("@"):
        return f"'{v}' is Postfix syntax: sendmail rejects it with '553 5.1.3 User address required'; " \
            f"write '%1{v}' to keep the user part"
    words = v.split()
    if len(words) > 1:
        return f"several words: sendmail joins them into one user '{'.'.join(words)}', which does not exist"
    return None


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    ix = index(table, ctx)
    for i in ix.values.matching(SUSPECTS):
        text = ix.values[i]
        if misspelt_error(text) is not None or comment_start(text) is not None:
            continue  # VT201 / VT204 say what is wrong
        why = why_invalid(text)
        if why is not None:
            yield Finding(*value_span_at(table, i), f"'{shown(text)}' is not a deliverable target: {why}")
