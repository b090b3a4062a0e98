"""A wildcard entry that lookup precedence makes (nearly) unreachable.

What it does
    Reports ``user+*@domain`` when ``user++@domain`` exists, and ``+*@domain``
    when ``++@domain`` exists, and names the entry that shadows it.

Why is this bad
    sendmail tries ``user++@domain`` before ``user+*@domain`` (and ``++@domain``
    before ``+*@domain``), and the ``++`` form matches every non-empty
    ``+detail``. The ``+*`` entry is then reached only by an address with an
    empty detail, ``user+@domain``, which nobody uses: the entry looks like it
    handles plus-addresses but never does.

Example
    ```
    bob++@example.com   bob-lists
    bob+*@example.com   bob
    ```

Use instead
    ```
    bob++@example.com   bob-lists
    bob@example.com     bob
    ```
"""

from __future__ import annotations

from collections.abc import Iterator

from virtc.diagnostics import Severity
from virtc.lint.facts import BATCH, index, key_span, wildcard_parts
from virtc.lint.rule import Finding, LintContext
from virtc.table import Table

CODE = "VT107"
NAME = "shadowed-entry"
SEVERITY = Severity.WARNING
HEAVY = True


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    ix = index(table, ctx)
    stored = ix.stored_keys
    for n, (i, j) in enumerate(ix.wildcard_pairs):
        if not n % BATCH:
            ctx.checkpoint()
        _, user, name = wildcard_parts(stored[i])
        e, s = ix.entries[i], ix.entries[j]
        # Ask the engine which key a plussed address reaches (precedence is its business).
        from virtc.lint.engine import shared_engine  # (the lookup engine: only here)
        from virtc.lookup.resolve import first_key
        eng = shared_engine(table, ctx)
        local = user or "anyone"
        address = f"{local}+detail@{name}"
        first = first_key(address, eng.table, eng.domains)
        if first is False:
            r = eng.resolve(address)
            first = r.chain[0] if r.chain else None
        if first != ix.stored_keys[j]:
            continue
        yield Finding(
            *key_span(e),
            f"'{e.key_text}' is reached only by '{local}+@{name}' (an empty detail): "
            f"sendmail tries '{s.key_text}' (line {s.line}) first, and it matches every "
            f"'{local}+detail@{name}'",
            help=f"if '{e.key_text}' is meant for '{local}@{name}' itself, write "
                 f"'{local}@{name}'" if user else None,
        )
