"""Postfix: virtual(5), virtual_alias_domains, access(5) and the main.cf lines (not yet written)."""

from __future__ import annotations

from pathlib import Path

from virtc.diagnostics import Diagnostic
from virtc.errors import VirtcError
from virtc.table import Table


def export_postfix(table: Table, out_dir: Path) -> list[Diagnostic]:
    """Write the Postfix files into ``out_dir``; return what does not translate exactly."""
    raise VirtcError("export postfix: not implemented yet")
