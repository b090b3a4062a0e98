"""GitHub Actions workflow commands: one annotation per diagnostic, then a summary.

GitHub shows only 10 error and 10 warning annotations per step, so unless
``quiet`` the full text report follows in a collapsed ``::group::``.

``::error file=F,line=L,col=C,endLine=..,endColumn=..,title=CODE name::message``,
escaped as actions/toolkit's ``command.ts`` does: data ``%`` CR LF; property
values also ``:`` and ``,``. Severities map to error / warning / notice.
"""

from __future__ import annotations

from virtc.diagnostics import Diagnostic, Severity
from virtc.formatters import Report, readable, summary

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
    out = "".join(annotation(d) + "\n" for d in report.diagnostics)
    if quiet:
        return out
    if report.diagnostics:
        from virtc.formatters import text

        # A report line starting with "::" would be taken for a command.
        details = "".join(f" {line}\n" if line.startswith("::") else line + "\n"
                          for line in text.render(report, quiet=True).splitlines())
        out += f"::group::virtc lint: details\n{details}::endgroup::\n"
    return out + summary(report) + "\n"
