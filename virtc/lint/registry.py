"""Find the rules: every module in virtc.lint.rules is one rule, plus VT002 (unused-suppression)."""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Iterable

from virtc.lint import rules as rules_package
from virtc.lint import suppress
from virtc.lint.rule import Rule


@functools.cache
def all_rules() -> tuple[Rule, ...]:
    """Every rule, ordered by code."""
    found = [suppress.RULE]
    for info in pkgutil.iter_modules(rules_package.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{rules_package.__name__}.{info.name}")
        found.append(Rule.from_module(module))
    return tuple(sorted(found, key=lambda r: r.code))


def rule_by_id(ident: str) -> Rule | None:
    """Look a rule up by code (``VT101``) or name (``missing-catch-all``)."""
    ident_l = ident.lower()
    return next((r for r in all_rules() if ident_l in (r.code.lower(), r.name)), None)


def did_you_mean(ident: str) -> str:
    """``"; did you mean 'VT101'?"`` for the code or name closest to ``ident``, or ``""``."""
    import difflib

    names = [r.code for r in all_rules()] + [r.name for r in all_rules()]
    close = difflib.get_close_matches(ident.upper() if ident[:2].lower() == "vt" else ident.lower(),
                                      names, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def select_codes(selectors: Iterable[str]) -> frozenset[str]:
    """Codes for selectors: a code, a name, a code prefix (``VT1``) or ``ALL``.

    Raises ValueError naming the first selector that matches no rule.
    """
    codes: set[str] = set()
    for sel in selectors:
        s = sel.strip()
        if not s:
            continue
        if s.upper() == "ALL":
            codes.update(r.code for r in all_rules())
            continue
        rule = rule_by_id(s)
        matched = ({rule.code} if rule is not None
                   else {r.code for r in all_rules() if r.code.upper().startswith(s.upper())})
        if not matched:
            raise ValueError(f"unknown rule '{s}'{did_you_mean(s)} (see `virtc rule` for the list)")
        codes |= matched
    return frozenset(codes)
