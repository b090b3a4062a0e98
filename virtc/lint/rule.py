"""What a lint rule is: one module per rule, in the spirit of yamllint and ruff.

Each module in :mod:`virtc.lint.rules` defines

* ``CODE`` (stable, e.g. ``"VT101"``), ``NAME`` (kebab case), ``SEVERITY`` (default),
* a module docstring: a one-line summary, then the sections ``What it does``,
  ``Why is this bad``, ``Example`` and ``Use instead`` (rendered by ``virtc rule``
  and ``docs/rules.md``),
* ``check(table, ctx)``: a generator of :class:`Finding` objects,
* optionally ``HEAVY = True`` for a rule that follows forwards through the whole
  table: on a large table the heavy rules run in a helper process, beside the others,
* optionally ``LOOKUPS = True`` for a rule that looks keys up (the key index or the
  lookup engine; heavy rules do): where every rule runs in one process beside the
  build's map writer, these run first and the lookups are then freed.

Rules never print and never decide severity overrides or suppressions: the
runner in :mod:`virtc.lint.runner` turns findings into diagnostics.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import NamedTuple, Protocol

from virtc.diagnostics import Fix, Severity
from virtc.table import Table


class Finding(NamedTuple):
    """A rule's finding; the runner adds path, code, name and severity."""

    line: int
    column: int
    end_line: int
    end_column: int
    message: str
    fix: Fix | None = None
    help: str | None = None
    severity: Severity | None = None
    """Only for rules whose findings differ in severity (e.g. VT203); None = the rule's default."""


class RuleSettings(Protocol):
    """What rules read of the configuration (:class:`virtc.lint.config.LintConfig` is one)."""

    catch_all: str
    """The catch-all value the VT101/VT102 fix inserts."""

    def enabled(self, code: str) -> bool: ...


@dataclass
class LintContext:
    """What rules may consult besides the table."""

    config: RuleSettings
    local_domains: frozenset[str] | None = None
    """Folded domains from --local-domains, or None when not given."""
    cache: dict[str, object] = field(default_factory=dict)
    """Shared per-run results (e.g. the lookup index) so rules do not recompute them."""


CheckFn = Callable[[Table, LintContext], Iterator[Finding]]


class Rule(NamedTuple):
    code: str
    name: str
    severity: Severity
    summary: str
    doc: str
    check: CheckFn
    heavy: bool = False
    lookups: bool = False

    @classmethod
    def from_module(cls, module: ModuleType) -> Rule:
        doc = (module.__doc__ or "").strip()
        summary = doc.splitlines()[0] if doc else ""
        heavy = getattr(module, "HEAVY", False)
        return cls(module.CODE, module.NAME, module.SEVERITY, summary, doc, module.check,
                   heavy, heavy or getattr(module, "LOOKUPS", False))
