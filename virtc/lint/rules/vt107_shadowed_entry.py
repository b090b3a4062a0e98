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
from virtc.lint.facts import index, key_span
from virtc.lint.rule import Finding, LintContext
from virtc.model import KeyKind
from virtc.table import Table

CODE = "VT107"
NAME = "shadowed-entry"
SEVERITY = Severity.WARNING
HEAVY = True

_PAIRS = ((KeyKind.USER_ANY, KeyKind.USER_PLUS), (KeyKind.DOMAIN_ANY, KeyKind.DOMAIN_PLUS))


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    ix = index(table, ctx)
    for dom in ix.domains.values():
        special = dom.special
        if len(special) < 2:
            continue  # (a pair takes two kinds; most domains have none)
        for any_kind, plus_kind in _PAIRS:
            wild = special.get(any_kind)
            plus = special.get(plus_kind)
            if not wild or not plus:
                continue
            for user, i in wild.items():
                j = plus.get(user)
                if j is None:
                    continue
                e, s = ix.entries[i], ix.entries[j]
                # Ask the engine which key a plussed address reaches (precedence is its business).
                from virtc.lint.engine import shared_engine  # (the lookup engine: only here)
                eng = shared_engine(table, ctx)
                local = user or "anyone"
                r = eng.resolve(f"{local}+detail@{dom.name}")
                if not r.chain or r.chain[0] != ix.stored_keys[j]:
                    continue
                yield Finding(
                    *key_span(e),
                    f"'{e.key_text}' is reached only by '{local}+@{dom.name}' (an empty detail): "
                    f"sendmail tries '{s.key_text}' (line {s.line}) first, and it matches every "
                    f"'{local}+detail@{dom.name}'",
                    help=f"if '{e.key_text}' is meant for '{local}@{dom.name}' itself, write "
                         f"'{local}@{dom.name}'" if user else None,
                )
