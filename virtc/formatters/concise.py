"""``path:line:col: CODE message``: the compiler one-liner (also used by ``virtc build``)."""

from __future__ import annotations

from collections.abc import Iterable

from virtc.diagnostics import Diagnostic


def format_line(d: Diagnostic) -> str:
    return f"{d.path}:{d.line}:{d.column}: {d.code} {d.message}"


def render(diagnostics: Iterable[Diagnostic]) -> str:
    return "".join(format_line(d) + "\n" for d in diagnostics)
