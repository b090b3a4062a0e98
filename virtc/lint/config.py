"""Lint configuration: [tool.virtc] in pyproject.toml or .virtc.toml (placeholder)."""

from __future__ import annotations

from dataclasses import dataclass, field

from virtc.diagnostics import Severity

DEFAULT_CATCH_ALL = "error:5.1.1:550 User unknown"


@dataclass
class LintConfig:
    select: frozenset[str] | None = None
    """Codes to run (None = all)."""
    ignore: frozenset[str] = frozenset()
    severities: dict[str, Severity] = field(default_factory=dict)
    local_domains: str | None = None
    catch_all: str = DEFAULT_CATCH_ALL
    """The value suggested (and inserted by --fix) for a missing catch-all."""
