"""The table an export or a sync starts from: refused when ``virtc build`` would refuse it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from virtc.diagnostics import Diagnostic
from virtc.maps.check import blocking, diagnose
from virtc.maps.records import BuildOptions
from virtc.source.parse import parse_file
from virtc.table import Table


@dataclass
class CheckedTable:
    table: Table
    diagnostics: list[Diagnostic]
    """makemap's rejections and (unless ``lint=False``) lint's findings, sorted."""

    @property
    def blocking(self) -> list[Diagnostic]:
        """What stops an export, as it stops a build: makemap's rejections and lint errors."""
        return blocking(self.diagnostics)


def checked_table(source: str | Path, *, lint: bool = True, sendmail_cf: str | None = None,
                  target: str | None = None) -> CheckedTable:
    """Parse ``source`` and diagnose it as build does (``lint=False``: makemap's rejections only;
    ``target``: lint for that map type, e.g. ``ldap``)."""
    table = parse_file(source)
    opts = BuildOptions(lint=lint, sendmail_cf=sendmail_cf, target=target)
    return CheckedTable(table, diagnose(table, opts))
