"""Compiler-style report for people: location, message, source line, underline, help.

::

    virtusertable:8:1: VT101 missing-catch-all: domain 'example.org' has 2 entries ...
      8 | info@example.org	info-org
        | ^^^^^^^^^^^^^^^^ error
        = help: add '@example.org	error:5.1.1:550 User unknown' after line 9

Colour only on a terminal and without ``NO_COLOR`` / ``--no-color``; otherwise
plain text with the same layout.
"""

from __future__ import annotations

import io
import os
from typing import TextIO

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from virtc.diagnostics import Diagnostic, Severity
from virtc.formatters import Report, summary

TAB = 8
STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow", Severity.INFO: "bold blue"}


def _visible(ch: str) -> str:
    """A one-cell stand-in for a control character (the bytes stay what they are)."""
    o = ord(ch)
    if o < 0x20:
        return chr(0x2400 + o)  # ␍ for CR, ␀ for NUL, ...
    if o == 0x7F:
        return "\u2421"
    if 0x80 <= o < 0xA0:
        return "\ufffd"
    return ch


def display(line: str, column: int, end_column: int) -> tuple[str, int, int]:
    """The line as shown (tabs expanded, UTF-8 shown as such, controls visible) and
    the 0-based cell offsets of ``column`` .. ``end_column`` (1-based, end exclusive)."""
    raw = line.encode("latin-1")
    try:
        raw.decode("utf-8")
        utf8 = True
    except UnicodeDecodeError:
        utf8 = False
    out: list[str] = []
    width = 0
    start = end = -1
    pos = 0  # byte offset
    chars = raw.decode("utf-8") if utf8 else line
    for ch in chars:
        nbytes = len(ch.encode("utf-8")) if utf8 else 1
        if start < 0 and pos + 1 >= column:
            start = width
        if end < 0 and pos + 1 >= end_column:
            end = width
        shown = " " * (TAB - width % TAB) if ch == "\t" else _visible(ch)
        out.append(shown)
        width += cell_len(shown)
        pos += nbytes
    start = width if start < 0 else start
    end = width if end < 0 else end
    return "".join(out), start, max(end, start + 1)


def render_to(report: Report, out: TextIO, *, color: bool | None = None, quiet: bool = False) -> None:
    """Write the report to ``out``; ``color=None`` decides by terminal and ``NO_COLOR``."""
    plain = color is False or (color is None and bool(os.environ.get("NO_COLOR")))
    console = Console(file=out, color_system=None if plain else "auto", force_terminal=color or None,
                      highlight=False, markup=False, emoji=False, soft_wrap=True)
    for d in report.diagnostics:
        _diagnostic(console, d, report)
    if not quiet:
        console.print(Text(summary(report), style="bold"))


def render(report: Report, *, color: bool = False, quiet: bool = False) -> str:
    buf = io.StringIO()
    render_to(report, buf, color=color, quiet=quiet)
    return buf.getvalue()


def _diagnostic(console: Console, d: Diagnostic, report: Report) -> None:
    style = STYLE[d.severity]
    head = Text()
    head.append(f"{d.path}:{d.line}:{d.column}:", style="bold")
    head.append(" ")
    head.append(d.code, style=style)
    head.append(f" {d.name}: ")
    head.append(d.message)
    console.print(head)
    table = report.tables.get(d.path)
    source = table.source_line(d.line) if table is not None else ""
    if table is not None and (source or d.line <= len(table.text.split("\n"))):
        end_column = d.end_column if d.end_line == d.line else len(source) + 1
        shown, start, end = display(source, d.column, end_column)
        number = str(d.line)
        pad = " " * len(number)
        frame = Text()
        frame.append(f"  {number} | ", style="blue")
        frame.append(shown)
        console.print(frame)
        under = Text()
        under.append(f"  {pad} | ", style="blue")
        under.append(" " * start + "^" * (end - start) + f" {d.severity}", style=style)
        console.print(under)
        prefix = f"  {pad} = "
    else:
        prefix = "  = "
    helptext = d.help or (d.fix.description if d.fix else None)
    if helptext:
        line = Text(prefix, style="blue")
        line.append("help", style="bold")
        line.append(f": {helptext}")
        console.print(line)
