"""SARIF 2.1.0 (for GitHub code scanning and other viewers).

Every rule is described in ``tool.driver.rules`` (id, name, short and full
description, help, default level) so viewers can explain a result; results
point at their rule by ``ruleId`` and ``ruleIndex``. Regions are 1-based with
an exclusive ``endColumn``, as SARIF defines them.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

from virtc import __version__
from virtc.diagnostics import Diagnostic, Severity
from virtc.formatters import ITEMS, Report, readable, write_json
from virtc.lint import registry
from virtc.lint.docs import plain_text, section
from virtc.lint.rule import Rule

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def uri(path: str) -> str:
    """A relative path as a relative URI reference; an absolute one as a file: URI."""
    p = Path(path)
    if p.is_absolute():
        return p.as_uri()  # (percent-encodes the file name's bytes)
    return quote(os.fsencode(p.as_posix()), safe="/")


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    what = plain_text(section(rule, "What it does")) or rule.summary
    why = plain_text(section(rule, "Why is this bad"))
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": f"{what} {why}".strip()},
        "help": {"text": rule.doc.strip(), "markdown": rule.doc.strip()},
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
    }


def line_offsets(text: str) -> list[int]:
    """``offsets[n]``: where line ``n`` (1-based) starts; the last entry is the end of the text."""
    offsets = [0, 0]
    pos = text.find("\n")
    while pos >= 0:
        offsets.append(pos + 1)
        pos = text.find("\n", pos + 1)
    if offsets[-1] != len(text):
        offsets.append(len(text))
    return offsets


def fix_object(d: Diagnostic, offsets: list[int]) -> dict[str, Any] | None:
    """The fix as a SARIF ``fix``: lines ``line..end_line`` replaced (offsets in bytes);
    its applicability (safe / unsafe) in the fix's property bag."""
    fix = d.fix
    if fix is None or fix.line < 1 or not fix.line <= fix.end_line + 1 < len(offsets):
        return None
    start, stop = offsets[fix.line], offsets[fix.end_line + 1]
    return {
        "description": {"text": fix.description},
        "properties": {"applicability": fix.applicability},
        "artifactChanges": [{
            "artifactLocation": {"uri": uri(d.path)},
            "replacements": [{
                "deletedRegion": {"charOffset": start, "charLength": stop - start},
                "insertedContent": {"text": fix.replacement},
            }],
        }],
    }


def result(d: Diagnostic, index: dict[str, int], offsets: list[int] | None = None) -> dict[str, Any]:
    region = {"startLine": d.line, "startColumn": d.column, "endLine": d.end_line,
              "endColumn": max(d.end_column, d.column + 1 if d.end_line == d.line else 1)}
    out: dict[str, Any] = {
        "ruleId": d.code,
        "level": LEVEL[d.severity],
        "message": {"text": readable(d.message)},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri(d.path)}, "region": region}}],
    }
    if d.code in index:
        out["ruleIndex"] = index[d.code]
    fix = fix_object(d, offsets) if offsets is not None else None
    if fix is not None:
        out["fixes"] = [fix]
    return out


def render(report: Report) -> str:
    buffer = io.StringIO()
    render_to(report, buffer)
    return buffer.getvalue()


def render_to(report: Report, out: TextIO) -> None:
    """The SARIF log, one result a line (see :func:`virtc.formatters.write_json`)."""
    rules = registry.all_rules()
    index = {r.code: i for i, r in enumerate(rules)}
    offsets = {path: line_offsets(t.text) for path, t in report.tables.items()}
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "virtc",
                "version": __version__,
                "rules": [rule_descriptor(r) for r in rules],
            }},
            # Columns count bytes; a source is Latin-1 decoded, one code point per byte.
            "columnKind": "unicodeCodePoints",
            "results": ITEMS,
            "invocations": [{"executionSuccessful": True}],
        }],
    }
    write_json(log, (result(d, index, offsets.get(d.path)) for d in report.diagnostics), out)
