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
from virtc.lint.facts import BATCH, index, key_span_at, wildcard_parts
from virtc.lint.rule import Finding, LintContext
from virtc.table import Table

CODE = "VT107"
NAME = "shadowed-entry"
SEVERITY = Severity.WARNING
HEAVY = True


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    ix = index(table, ctx)
    stored = ix.stored_keys
    if not ix.wildcard_pairs:
        return
    # Ask the engine which key a plussed address reaches (precedence is its business).
    from virtc.lint.engine import shared_engine  # (the lookup engine: only here)
    from virtc.lookup.resolve import first_key, hit, quick_hop

    eng = shared_engine(table, ctx)
    # No key spells the probes' detail, nor (for a domain's pair) the user 'anyone': the keys
    # tried before the '++' one are not in the table (#18: 61k '++@d' / '+*@d' pairs, five
    # lookups each).
    unnamed = not stored.contains("+detail@"), not stored.contains("anyone")
    keys, lines, values, pairs = table.keys, table.lines, ix.values, ix.wildcard_pairs
    for at in range(0, len(pairs), BATCH):  # (the texts a batch at a time, from the columns)
        ctx.checkpoint()
        shadowed, shadows = zip(*pairs[at:at + BATCH])
        for i, j, wild, shadow, value in zip(shadowed, shadows, stored.take(shadowed), stored.take(shadows),
                                             values.take(shadows)):
            _, user, name = wildcard_parts(wild)
            local = user or "anyone"
            address = f"{local}+detail@{name}"
            if _before_unnamed(unnamed, user) and quick_hop(address, eng.domains):
                # (the shadow is the stored key j, shorter than the address quick_hop took:
                # sendmail looks it up whole and finds j's value)
                stops = hit(value, (shadow, local, "detail", "+detail"))
                first: str | bool | None = shadow if stops else None
            else:
                first = first_key(address, eng.table, eng.domains)
                if first is False:
                    r = eng.resolve(address)
                    first = r.chain[0] if r.chain else None
            if first != shadow:
                continue
            key = keys[i]
            yield Finding(
                *key_span_at(table, i),
                f"'{key}' is reached only by '{local}+@{name}' (an empty detail): "
                f"sendmail tries '{keys[j]}' (line {lines[j]}) first, and it matches every "
                f"'{local}+detail@{name}'",
                help=f"if '{key}' is meant for '{local}@{name}' itself, write "
                     f"'{local}@{name}'" if user else None,
            )


def _before_unnamed(unnamed: tuple[bool, bool], user: str) -> bool:
    """Whether the keys sendmail tries for ``user+detail@d`` (``anyone+detail@d`` for a
    domain's pair) before the '++' key are not in the table, by ``unnamed``: (no key holds
    '+detail@', no key holds 'anyone')."""
    return unnamed[0] and (bool(user) or unnamed[1])
