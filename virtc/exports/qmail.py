"""qmail: the validrcptto accept list, as a cdb or as text (not yet written)."""

from __future__ import annotations

from pathlib import Path

from virtc.diagnostics import Diagnostic
from virtc.errors import VirtcError
from virtc.table import Table


def export_qmail(table: Table, output: Path, *, text: bool = False) -> list[Diagnostic]:
    """Write validrcptto (cdb, or text with ``text``); return what does not translate exactly."""
    raise VirtcError("export qmail: not implemented yet")
