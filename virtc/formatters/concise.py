"""``path:line:col: CODE name: severity: message``: the compiler one-liner (``virtc build``)."""

from __future__ import annotations

from collections.abc import Iterable

from virtc.diagnostics import Diagnostic
from virtc.formatters import safe


def format_line(d: Diagnostic) -> str:
    # Control characters from the source are made visible: no terminal escapes, one line.
    return f"{safe(d.path)}:{d.line}:{d.column}: {d.code} {d.name}: {d.severity}: {safe(d.message)}"


def render(diagnostics: Iterable[Diagnostic]) -> str:
    return "".join(format_line(d) + "\n" for d in diagnostics)
