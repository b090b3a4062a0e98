"""Find the rules: every module in virtc.lint.rules is one rule."""

from __future__ import annotations

import functools
import importlib
import pkgutil

from virtc.lint import rules as rules_package
from virtc.lint.rule import Rule


@functools.cache
def all_rules() -> tuple[Rule, ...]:
    """Every rule, ordered by code."""
    found = []
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
