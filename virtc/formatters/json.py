"""Machine-readable report: ``{"diagnostics": [...], "summary": {...}}``.

Lines and columns are 1-based; ``end_column`` is exclusive (the column just
past the range, as in SARIF). ``fix`` is the replacement text of the safe fix
(whole lines; "" deletes) or null, and ``fix_lines`` the ``[first, last]`` lines
it replaces (``last = first - 1``: inserted before ``first``).
"""

from __future__ import annotations

import json
from typing import Any

from virtc import __version__
from virtc.diagnostics import Diagnostic, Severity
from virtc.formatters import Report


def diagnostic_dict(d: Diagnostic) -> dict[str, Any]:
    return {
        "path": d.path,
        "line": d.line,
        "column": d.column,
        "end_line": d.end_line,
        "end_column": d.end_column,
        "code": d.code,
        "name": d.name,
        "severity": str(d.severity),
        "message": d.message,
        "help": d.help or (d.fix.description if d.fix else None),
        "fix": d.fix.replacement if d.fix else None,
        "fix_lines": [d.fix.line, d.fix.end_line] if d.fix else None,
    }


def render(report: Report) -> str:
    c = report.counts()
    doc = {
        "tool": {"name": "virtc", "version": __version__},
        "diagnostics": [diagnostic_dict(d) for d in report.diagnostics],
        "summary": {
            "files": report.files,
            "errors": c[Severity.ERROR],
            "warnings": c[Severity.WARNING],
            "info": c[Severity.INFO],
            "fixable": report.fixable,
            "fixed": report.fixed,
        },
    }
    return json.dumps(doc, indent=2) + "\n"
