"""GitHub Actions workflow commands: one annotation per diagnostic, then a summary.

GitHub shows only 10 error and 10 warning annotations per step, so unless
``quiet`` the full text report follows in a collapsed ``::group::``.

``::error file=F,line=L,col=C,endLine=..,endColumn=..,title=CODE name::message``,
escaped as actions/toolkit's ``command.ts`` does: data ``%`` CR LF; property
values also ``:`` and ``,``. Severities map to error / warning / notice.
"""

from __future__ import annotations

import io
import re
from typing import TextIO, cast

from virtc.diagnostics import Diagnostic, Severity
from virtc.formatters import Report, readable, summary, write_lines

COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(d: Diagnostic) -> str:
    props = {
        "file": readable(d.path),
        "line": d.line,
        "col": d.column,
        "endLine": d.end_line,
        "endColumn": d.end_column,
        "title": f"{d.code} {d.name}",
    }
    message = readable(d.message)
    helptext = d.help or (d.fix.description if d.fix else None)
    if helptext:
        message += f"\nhelp: {readable(helptext)}"
    joined = ",".join(f"{k}={escape_property(str(v))}" for k, v in props.items())
    return f"::{COMMAND[d.severity]} {joined}::{escape_data(message)}"


def render(report: Report, *, quiet: bool = False) -> str:
    buffer = io.StringIO()
    render_to(report, buffer, quiet=quiet)
    return buffer.getvalue()


def render_to(report: Report, out: TextIO, *, quiet: bool = False) -> None:
    """The annotations, then (unless ``quiet``) the text report in a group, written as made."""
    write_lines(out, map(annotation, report.diagnostics))
    if quiet:
        return
    if report.diagnostics:
        from virtc.formatters import text

        out.write("::group::virtc lint: details\n")
        text.render_to(report, cast(TextIO, _Indented(out)), color=False, quiet=True)
        out.write("::endgroup::\n")
    out.write(summary(report) + "\n")


class _Indented:
    """Writes whole lines to ``out``, a space before each that starts with "::" (it would be
    taken for a workflow command)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def write(self, text: str) -> int:
        return self.out.write(_COMMAND_LIKE.sub(" ::", text))


_COMMAND_LIKE = re.compile("^::", re.M)
