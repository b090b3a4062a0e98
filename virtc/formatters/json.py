"""Machine-readable report: ``{"diagnostics": [...], "summary": {...}}``.

Lines and columns are 1-based; ``end_column`` is exclusive (the column just
past the range, as in SARIF). ``fix`` is null or an object: ``applicability``
(``"safe"``: changes no address's fate, applied by ``--fix``; ``"unsafe"``: changes
which mail is accepted, applied only with ``--unsafe-fixes``), ``message``, and
``edits``: each ``{"line", "end_line", "content"}`` replaces lines ``line`` to
``end_line`` (inclusive) with ``content`` (whole lines; "" deletes; ``end_line =
line - 1`` inserts before ``line``).
"""

from __future__ import annotations

import io
from typing import Any, TextIO

from virtc import __version__
from virtc.diagnostics import Diagnostic, Fix, Severity
from virtc.formatters import ITEMS, Report, readable, write_json


def diagnostic_dict(d: Diagnostic) -> dict[str, Any]:
    return {
        "path": readable(d.path),
        "line": d.line,
        "column": d.column,
        "end_line": d.end_line,
        "end_column": d.end_column,
        "code": d.code,
        "name": d.name,
        "severity": str(d.severity),
        "message": readable(d.message),
        "help": readable(d.help or (d.fix.description if d.fix else None) or "") or None,
        "fix": fix_dict(d.fix) if d.fix else None,
    }


def fix_dict(fix: Fix) -> dict[str, Any]:
    return {"applicability": fix.applicability, "message": fix.description,
            "edits": [{"line": fix.line, "end_line": fix.end_line, "content": fix.replacement}]}


def render(report: Report) -> str:
    buffer = io.StringIO()
    render_to(report, buffer)
    return buffer.getvalue()


def render_to(report: Report, out: TextIO) -> None:
    """The report as JSON, one diagnostic a line (see :func:`virtc.formatters.write_json`)."""
    c = report.counts()
    doc = {
        "tool": {"name": "virtc", "version": __version__},
        "diagnostics": ITEMS,
        "summary": {
            "files": report.files,
            "errors": c[Severity.ERROR],
            "warnings": c[Severity.WARNING],
            "info": c[Severity.INFO],
            "fixable": report.fixable,
            "unsafe_fixable": report.hidden_fixes,
            "fixed": report.fixed,
        },
    }
    write_json(doc, map(diagnostic_dict, report.diagnostics), out)
