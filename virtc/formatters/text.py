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
import re
from typing import TYPE_CHECKING, TextIO

from virtc.diagnostics import Diagnostic, Severity
from virtc.formatters import Report, controls_shown, printable, safe, summary
from virtc.formatters import visible as _visible

if TYPE_CHECKING:
    from rich.style import Style

TAB = 8
STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow", Severity.INFO: "bold blue"}


def display(line: str, column: int, end_column: int) -> tuple[str, int, int]:
    """The line as shown (tabs expanded, UTF-8 shown as such, controls visible) and
    the 0-based cell offsets of ``column`` .. ``end_column`` (1-based, end exclusive)."""
    if line.isascii():  # one cell a character, a control character's stand-in too
        line = safe(line)
        start = len(line[:max(column - 1, 0)].expandtabs(TAB))
        end = len(line[:max(end_column - 1, 0)].expandtabs(TAB))
        return line.expandtabs(TAB), start, max(end, start + 1)
    raw = line.encode("latin-1")
    try:
        chars, utf8 = raw.decode("utf-8"), True
    except UnicodeDecodeError:
        chars, utf8 = line, False
    if _NARROW.fullmatch(chars) is None:  # (a wide or combining character: one at a time)
        return _display(line, column, end_column)
    # One cell a character again (Latin-1, accented UTF-8): columns are bytes, counted as
    # the characters that start before them (#18: 100k findings on Latin-1 lines).
    shown = controls_shown(chars)
    start, end = (len(shown[:_characters(raw, utf8, c)].expandtabs(TAB)) for c in (column, end_column))
    return shown.expandtabs(TAB), start, max(end, start + 1)


def _characters(raw: bytes, utf8: bool, column: int) -> int:
    """How many characters of ``raw`` start before the 1-based byte ``column``."""
    head = raw[:max(column - 1, 0)]
    return len(head.translate(None, _CONTINUATION)) if utf8 else len(head)


_NARROW = re.compile("[\x00-\u02ff]*")
"""Characters each shown in one cell (their stand-ins too: tested against rich)."""
_CONTINUATION = bytes(range(0x80, 0xC0))


def _display(line: str, column: int, end_column: int) -> tuple[str, int, int]:
    """:func:`display` a character at a time (the reference for its fast path)."""
    from rich.cells import cell_len  # (rich only when something is shown: start-up time)

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
    """Write the report to ``out``; ``color=None`` decides by terminal and ``NO_COLOR``.

    rich decides whether to colour (terminal, ``NO_COLOR``, ``TERM=dumb``) and
    renders the styles; the lines are assembled here, since printing each one
    through rich costs milliseconds and a large table can have 100k findings.
    """
    paint = painter(out, color)
    write = out.write
    show, diagnostics = _Shown(paint, report), report.diagnostics
    for at in range(0, len(diagnostics), _BATCH):  # (one write a diagnostic costs microseconds)
        write(show.batch(diagnostics[at:at + _BATCH]))
    if not quiet:
        for note in report.notes:
            write(f"{paint('note', 'bold')}: {safe(note)}\n")
        write(paint(summary(report), "bold") + "\n")


def painter(out: TextIO, color: bool | None = None) -> Painter:
    """What colours text written to ``out``: none when ``color`` is False, or (None) when
    rich would not colour ``out`` (``NO_COLOR``, not a terminal, ``TERM=dumb``)."""
    plain = color is False or (color is None and bool(os.environ.get("NO_COLOR")))
    if plain or (color is None and _surely_not_a_terminal(out)):
        return Painter(False)  # what rich decides for a file or a pipe, without importing it
    from rich.console import Console  # not on the start-up path of `lint > file`

    console = Console(file=out, color_system="auto", force_terminal=color or None)
    return Painter(console.color_system is not None)


def _surely_not_a_terminal(out: TextIO) -> bool:
    """rich would not colour ``out``: no TTY_COMPATIBLE / FORCE_COLOR, and not a terminal."""
    if "TTY_COMPATIBLE" in os.environ or "FORCE_COLOR" in os.environ:
        return False
    try:
        return not out.isatty()
    except (AttributeError, ValueError):
        return False  # let rich decide


def render(report: Report, *, color: bool = False, quiet: bool = False) -> str:
    buf = io.StringIO()
    render_to(report, buf, color=color, quiet=quiet)
    return buf.getvalue()


class Painter:
    """``paint(text, style)``: ``text`` in a rich style, as ANSI codes (or as it is, if disabled)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.styles: dict[str, Style] = {}

    def __call__(self, text: str, style: str) -> str:
        if not self.enabled or not text:
            return text
        from rich.color import ColorSystem
        from rich.style import Style

        st = self.styles.get(style) or self.styles.setdefault(style, Style.parse(style))
        return st.render(text, color_system=ColorSystem.STANDARD)

    def around(self, style: str) -> tuple[str, str]:
        """What ``paint`` puts before and after any non-empty text in ``style`` (a report
        pastes them in: a call per piece costs 100k findings a fifth of a second)."""
        before, _, after = self("\0", style).partition("\0")
        return before, after


MAX_SHOWN = 240
"""Longest source excerpt under a diagnostic: one 10 MB line split into 10,000 makemap
records must not be printed 10,000 times (that was quadratic: hours, gigabytes)."""


def _excerpt(source: str, column: int, end_column: int) -> tuple[str, int, int]:
    """``source`` cut to MAX_SHOWN characters around ``column``, with ``...`` where cut."""
    if len(source) <= MAX_SHOWN:
        return source, column, end_column
    lo = max(0, min(column - 1 - MAX_SHOWN // 4, len(source) - MAX_SHOWN))
    hi = lo + MAX_SHOWN
    head = "..." if lo else ""
    tail = "..." if hi < len(source) else ""
    shift = len(head) - lo
    return (head + source[lo:hi] + tail, column + shift,
            min(end_column + shift, len(head) + MAX_SHOWN + 1))


_BATCH = 2048
_SEVERITY = {s: str(s) for s in Severity}


class _Shown:
    """A diagnostic as the report shows it (with colour if ``paint`` adds it)."""

    def __init__(self, paint: Painter, report: Report) -> None:
        self.tables = report.tables
        self.paths: dict[str, str] = {}
        self.bold = paint.around("bold")
        self.blue = paint.around("blue")
        self.styles = {s: paint.around(style) for s, style in STYLE.items()}
        self.help = paint("help", "bold")

    def __call__(self, d: Diagnostic) -> str:
        (b0, b1), (l0, l1), (s0, s1) = self.bold, self.blue, self.styles[d.severity]
        path = self.paths.get(d.path)
        if path is None:
            path = self.paths[d.path] = safe(d.path)
        text = f"{b0}{path}:{d.line}:{d.column}:{b1} {s0}{d.code}{s1} {d.name}: {safe(d.message)}\n"
        table = self.tables.get(d.path)
        source = table.source_line(d.line) if table is not None else ""
        prefix = "  = "
        if source:
            end_column = d.end_column if d.end_line == d.line else len(source) + 1
            shown, start, end = display(*_excerpt(source, d.column, end_column))
            number = str(d.line)
            pad = " " * len(number)
            caret = f"{' ' * start}{'^' * (end - start)} {_SEVERITY[d.severity]}"
            text += f"{l0}  {number} | {l1}{shown}\n{l0}  {pad} | {l1}{s0}{caret}{s1}\n"
            prefix = f"  {pad} = "
        fix = d.fix
        helptext = d.help or (fix.description if fix else None)
        if helptext:
            if fix is not None and fix.applicability == "unsafe":
                helptext += " (unsafe fix: --fix --unsafe-fixes)"
            text += f"{l0}{prefix}{l1}{self.help}: {safe(helptext)}\n"
        return text

    def batch(self, ds: list[Diagnostic]) -> str:
        """``"".join(map(self, ds))``: the same text, with the checks that each piece is safe
        to show as it is (printable ASCII, short lines) made once for the whole batch, and
        the source lines sliced at once (#18: a report of 285k findings).
        A batch that fails a check, and a diagnostic without a source line, go one by one."""
        path = ds[0].path if ds else ""
        table = self.tables.get(path)
        if table is None or ds[-1].path != path:  # (sorted by path: one path, first to last)
            return "".join(map(self, ds))
        sources = table.source_lines([d.line for d in ds])
        helps = [d.help or (d.fix.description if d.fix else "") for d in ds]
        if max(map(len, sources)) > MAX_SHOWN or not printable(
                "".join([path, *sources, *helps, *[d.message for d in ds]])):
            return "".join(map(self, ds))
        # The pieces that are the same for every diagnostic (of a severity), joined once:
        # an f-string of more than 30 pieces is a list and a join.
        (b0, b1), (l0, l1) = self.bold, self.blue
        head, left, bar, helped = f"{b0}{path}:", f"{l0}  ", f" | {l1}", f" = {l1}{self.help}: "
        styles = {s: (f":{b1} {s0}", f"{s1} ", f" | {l1}{s0}", f" {_SEVERITY[s]}{s1}\n")
                  for s, (s0, s1) in self.styles.items()}
        unsafe = " (unsafe fix: --fix --unsafe-fixes)"
        out = []
        for d, source, helptext in zip(ds, sources, helps):
            if not source:
                out.append(self(d))
                continue
            _, line, column, end_line, end_column, code, name, severity, message, fix, _ = d
            code_open, code_close, caret_bar, caret_close = styles[severity]
            if end_line != line:
                end_column = len(source) + 1
            c0 = column - 1 if column > 1 else 0
            c1 = end_column - 1 if end_column > 1 else 0
            tab = source.find("\t")
            if tab >= 0 and (tab < c0 or tab < c1):  # (a tab before a column: count cells)
                start, end = len(source[:c0].expandtabs(TAB)), len(source[:c1].expandtabs(TAB))
            else:
                n = len(source)
                start, end = c0 if c0 < n else n, c1 if c1 < n else n
            if tab >= 0:
                source = source.expandtabs(TAB)
            number = str(line)
            pad = " " * len(number)
            carets = "^" * (end - start if end > start else 1)
            text = (f"{head}{number}:{column}{code_open}{code}{code_close}{name}: {message}\n"
                    f"{left}{number}{bar}{source}\n"
                    f"{left}{pad}{caret_bar}{' ' * start}{carets}{caret_close}")
            if helptext:
                if fix is not None and fix.applicability == "unsafe":
                    helptext += unsafe
                text = f"{text}{left}{pad}{helped}{helptext}\n"
            out.append(text)
        return "".join(out)
