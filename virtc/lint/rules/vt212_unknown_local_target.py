"""An entry whose mail goes to a local user that no mailbox list names.

What it does
    When ``--users``, ``--aliases`` or ``--mailboxes`` (or the configuration's
    ``users``/``aliases``/``mailboxes``) name the server's local users, follows
    each entry as sendmail does and reports those whose mail ends at a local user
    that none of the lists holds (``user+detail`` counts as ``user``).

Why is this bad
    The address is accepted at RCPT and then cannot be delivered. With a local
    mailer that checks users (``F=w``, sendmail's default) sendmail rejects the
    recipient at RCPT with ``550 5.1.1 User unknown``, but the table still claims
    it; without ``F=w`` (LMTP to Cyrus or Dovecot) the mail is accepted, crosses
    the spam and virus filters and bounces later: the failure a catch-all exists
    to prevent.

Example
    ```
    # getent passwd has alice, not alicia
    sales@example.com   alicia
    ```

Use instead
    ```
    sales@example.com   alice
    ```
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet

from virtc.compat import zip_strict
from virtc.diagnostics import Severity
from virtc.lint.facts import batches, index, shown, value_span
from virtc.lint.rule import Finding, LintContext
from virtc.model import KeyKind
from virtc.table import Table

CODE = "VT212"
NAME = "unknown-local-target"
SEVERITY = Severity.ERROR
LOOKUPS = True
SPLIT = True


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    names = ctx.mailboxes
    if names is None:
        return
    from virtc.deploy.mailboxes import exists
    from virtc.lint.engine import shared_engine
    from virtc.lookup.resolve import quick_end

    ix = index(table, ctx)
    eng = shared_engine(table, ctx)
    skip = ix.shadowed_by_duplicate
    if ctx.local_checks_users is True:
        fate = "sendmail rejects it at RCPT (550 5.1.1 User unknown: the local mailer checks users)"
    elif ctx.local_checks_users is False:
        fate = ("sendmail accepts it at RCPT (the local mailer has no F=w) and the mailbox server "
                "bounces it later, after the filters ran")
    else:
        fate = ("sendmail rejects it at RCPT if its local mailer checks users (F=w), else accepts it "
                "and the delivery bounces later")
    errors = set(ix.error_like)
    local = eng.domains
    delivered = delivered_at_once(local, names)
    k, n = ctx.share
    for _, chunk in batches(range(k, len(ix.entries), n)):  # (its share of the entries)
        for i, stored, value in zip_strict(chunk, ix.stored_keys.take(chunk), ix.values.take(chunk)):
            if i in skip or i in errors:
                continue
            if delivered(stored, value):
                continue
            e = ix.entries[i]
            key = e.key
            if not key.domain or key.kind is KeyKind.UNMATCHABLE:
                continue
            probe = eng.probe(key)
            end = quick_end(probe, eng.table, local) or eng.resolve(probe)
            if end.kind != "local" or end.result is None or exists(end.result, names):
                continue
            yield Finding(
                *value_span(e),
                f"'{e.key_text}' goes to the local user '{shown(end.result)}', which no mailbox list names: "
                f"{fate}",
                help="point the entry at an existing user, or add the user to the lists",
            )


def delivered_at_once(local: AbstractSet[str], names: frozenset[str]) -> Callable[[str, str], bool]:
    """Whether the stored entry of a key (folded) and value ends without a lookup beyond its
    own, and not at an unlisted local user: a plain key in a local domain answers the address
    spelt like it first, and its value ends there (:func:`~virtc.lookup.resolve.quick_end`'s
    first step: a plain name, an address elsewhere, a plain error; #18: the engine for each of
    100k entries took 2 s)."""
    from virtc.deploy.mailboxes import exists
    from virtc.lookup.resolve import final_target, quick_hop

    def delivered(stored: str, value: str) -> bool:
        if not quick_hop(stored, local):
            return False
        end = final_target(value, local)
        return end is not None and (end.kind != "local" or end.result is None or exists(end.result, names))

    return delivered
