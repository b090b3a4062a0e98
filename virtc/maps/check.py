"""What a build reports before it writes, and what it did."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from virtc.diagnostics import Diagnostic, Severity
from virtc.maps.records import BuildOptions
from virtc.source.rejections import makemap_rejections
from virtc.speed.keyindex import KeyIndexParts
from virtc.table import Table
from virtc.writers.atomic import unsafe_directories


@dataclass
class BuildResult:
    output: Path
    diagnostics: list[Diagnostic] = field(default_factory=list)
    records: int = 0
    written: bool = False
    warnings: list[str] = field(default_factory=list)
    """One-line notes about the output (e.g. an unsafe directory), not about the source."""


def blocking(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics that stop a build: makemap's own rejections and lint errors."""
    return [d for d in diagnostics if d.severity >= Severity.ERROR]


def diagnose(table: Table, opts: BuildOptions, key_index: Callable[[], KeyIndexParts] | None = None,
             helper_allowed: Callable[[], bool] | None = None) -> list[Diagnostic]:
    """What a build reports before writing: makemap's rejections, plus lint unless disabled
    (``key_index``, ``helper_allowed``: see :func:`virtc.lint.schedule.lint_table`)."""
    linted: list[Diagnostic] = []
    if opts.lint:  # first: on a large table it builds the key index the rejections use, in parallel
        from virtc.lint.schedule import lint_table

        config = None
        if opts.sendmail_cf is not None or opts.target is not None:
            from virtc.lint.config import config_for

            config = config_for(table.path).override(sendmail_cf=opts.sendmail_cf, target=opts.target)
        linted = lint_table(table, config, jobs=opts.jobs, key_index=key_index, helper_allowed=helper_allowed)
    diags = list(makemap_rejections(table, foldcase=opts.foldcase, replace=opts.replace))
    if opts.lint:
        # A line lint already reports as an error (e.g. a duplicate as VT103) is not repeated.
        flagged = {(d.line, d.column) for d in linted if d.severity >= Severity.ERROR}
        diags = [d for d in diags if (d.line, d.column) not in flagged] + linted
    return sorted(diags, key=Diagnostic.sort_key)


def unsafe_directory_warnings(target: Path) -> list[str]:
    """makemap's warning for each group- or world-writable directory above the map."""
    return [f"{target}: {why}: sendmail refuses to open a map there" for why in unsafe_directories(target)]
