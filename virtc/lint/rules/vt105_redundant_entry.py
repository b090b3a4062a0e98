"""An entry that resolves exactly as the domain's catch-all would.

What it does
    Reports an entry when deleting it would change nothing: every address that
    reaches it resolves to the same result through the ``@domain`` catch-all
    (or, for a ``++@`` / ``+*@`` key, through the catch-all's plussed lookup).
    Typical: ``info@example.com  error:5.1.1:550 User unknown`` beside the same
    catch-all, or ``alice@example.com  alice@example.net`` beside
    ``@example.com  %1@example.net``.

Why is this bad
    Redundant entries make a table longer and hide the real exceptions; when the
    catch-all changes later, they silently keep the old behaviour for some
    addresses. It often means a mailbox was meant to exist and does not.

Example
    ```
    alice@example.com   alice@example.net
    @example.com        %1@example.net
    ```

Use instead
    ```
    @example.com        %1@example.net
    ```
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from itertools import compress, count
from typing import TYPE_CHECKING

from virtc.compat import zip_strict
from virtc.diagnostics import Severity
from virtc.lint.facts import FEW_TEXTS, any_of, index, key_span, shown
from virtc.lint.rule import Finding, LintContext
from virtc.model import BLANKS, Key, KeyKind
from virtc.table import Table

if TYPE_CHECKING:
    from virtc.lookup import Resolution

CODE = "VT105"
NAME = "redundant-entry"
SEVERITY = Severity.WARNING
LOOKUPS = True

_PERCENT = re.compile("%")


def _outcome(r: Resolution) -> tuple[object, ...]:
    return r.kind, r.result, r.status, r.text


def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
    ix = index(table, ctx)
    catch_alls = {name: dom.catch_all for name, dom in ix.domains.items() if dom.catch_all is not None}
    if not catch_alls:
        return
    values, stored_keys = ix.values, ix.stored_keys
    # Cheap pre-filter: a value equal to some catch-all's, or in a domain whose catch-all
    # uses %N (compared after substitution below), or with %N itself.
    plain = {values[ca].rstrip(BLANKS) for ca in catch_alls.values()}
    pct = {name for name, ca in catch_alls.items() if "%" in values[ca]}
    if len(plain) <= FEW_TEXTS:  # the usual table: a few reject texts, found by one scan
        candidates = set(values.matching(re.compile(f"\n{any_of(plain)}(?=\n)")))
    else:
        candidates = set(compress(count(), map(plain.__contains__, values)))  # in C
    candidates.update(ix.values.matching(_PERCENT))
    candidates.update(i for i in ix.ends_blank if values[i].rstrip(BLANKS) in plain)
    if pct:
        candidates.update(i for i, k in enumerate(stored_keys) if k[k.rfind("@") + 1:] in pct)
    eng = None
    for i in sorted(candidates):
        stored = stored_keys[i]
        user, _, name = stored.rpartition("@")
        ca = catch_alls.get(name)
        if ca is None or ca == i:
            continue
        # Same words as the catch-all's value (after its %N for this user)?
        value, ca_value = values[i], values[ca]
        if "%" in value:
            from virtc.lint.engine import shared_engine  # (the lookup engine: only here)
            eng = eng or shared_engine(table, ctx)
            if not may_equal_fixed(value, stored, eng.table.get):
                continue  # what answers without it differs, whatever the detail
        else:
            expected = ca_value
            if "%" in ca_value:
                from virtc.lookup import substitute  # (the engine: not for a table without %N)

                expected = substitute(ca_value, ("@" + name, user))
            if value.split() != expected.split():
                continue
        if i in ix.shadowed_by_duplicate:
            continue  # VT103
        # The engine decides: every address reaching the entry resolves the same without it.
        from virtc.lint.engine import shared_engine
        eng = eng or shared_engine(table, ctx)
        if name not in eng.domains:
            continue  # never looked up at all (VT106)
        key = Key.parse(stored)
        probes = _probes(key, eng.probe(key), KeyKind.USER_PLUS in ix.domains[name].special
                         or KeyKind.DOMAIN_PLUS in ix.domains[name].special)
        with_it = [eng.resolve(p) for p in probes]
        if not with_it[0].chain or with_it[0].chain[0] != stored:
            continue  # its probe does not reach it (VT107 / VT104 cases)
        hidden = eng.hiding(stored)
        # A probe that does not reach the entry resolves the same without it: no need to ask.
        if all(stored not in a.chain or _outcome(a) == _outcome(eng.resolve(p, hidden))
               for a, p in zip_strict(with_it, probes)):
            e, c = ix.entries[i], ix.entries[ca]
            yield Finding(
                *key_span(e),
                f"'{e.key_text}' resolves exactly as the catch-all '{c.key_text}' (line {c.line}) "
                f"would ('{shown(value)}'): the entry changes nothing",
                help="delete it, or give it the value that was meant",
            )


_DETAIL = "virtcdetail"


def may_equal_fixed(value: str, stored: str, get: Callable[[str], str | None]) -> bool:
    """Whether deleting the key ``stored`` (value ``value``) may leave its addresses where they
    are. For a value naming a local user (no ``@``, ``!`` or ``%`` hack): compare, for an
    address that reaches the key with a symbolic detail, what the key gives with what the
    next key sendmail would try gives (through ``get``, the map). Different words: not
    redundant, whatever the detail. Anything else: the engine decides. A cheap test that
    spares the engine every ``user+*@d  user+%2`` of a table (#18)."""
    from virtc.lookup import lookup_keys, substitute

    key = Key.parse(stored)
    if key.kind is KeyKind.ADDRESS:
        probe = stored
    elif key.kind in (KeyKind.USER_ANY, KeyKind.USER_PLUS):
        probe = f"{key.user}+{_DETAIL}@{key.domain}"
    else:
        probe = f"virtcuser+{_DETAIL}@{key.domain}"
    tried = lookup_keys(probe)
    at = next((n for n, lk in enumerate(tried) if lk.key.lower() == stored), None)
    if at is None or any(get(lk.key) is not None for lk in tried[:at]):
        return True  # (that address stops earlier: only others reach the key)
    mine = substitute(value, tried[at].args)
    for later in tried[at + 1:]:
        other = get(later.key)
        if other is None or other.strip(BLANKS) == "@":
            continue
        theirs = substitute(other, later.args)
        if any(c in text for text in (mine, theirs) for c in "@!%"):
            return True
        return mine.lower().split() == theirs.lower().split()
    return True


def _probes(key: Key, first: str, plus_keys: bool) -> list[str]:
    """Addresses reaching ``key``: its own, and plussed ones that may fall back to it.

    An empty detail (``user+@d``) takes another path only past ``++`` keys. The detail is
    one no key spells (:data:`_DETAIL`): with ``+x`` an exact ``user+x@d`` key answered the
    probe first, and a ``user+*`` entry that changes every other detail was called redundant.
    """
    local, _, dom = first.rpartition("@")
    if key.kind is KeyKind.ADDRESS and "+" not in key.user:
        return [first, f"{local}+{_DETAIL}@{dom}", *([f"{local}+@{dom}"] if plus_keys else [])]
    if key.kind is KeyKind.DOMAIN_ANY:
        return [first, f"{local[:-1]}+{_DETAIL}@{dom}"]
    if key.kind is KeyKind.USER_ANY:
        return [first, f"{local}{_DETAIL}@{dom}"]
    return [first]
