"""``virtc lint``: rules that catch what makes sendmail do something the admin did not mean."""

from __future__ import annotations

from virtc.diagnostics import Diagnostic
from virtc.model import Table
from virtc.rejections import makemap_rejections


def lint_table(table: Table) -> list[Diagnostic]:
    """All diagnostics for a parsed table (placeholder until the rule set lands)."""
    return list(makemap_rejections(table))
