"""Formatters render diagnostics; rules and commands never print.

Each output format is a module with ``render(report, ...)`` returning the text
to print: ``text`` (rich, for people), ``concise`` (one line each, used by
``virtc build``), ``json``, ``sarif`` and ``github`` (workflow commands).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice
from json import JSONEncoder, dumps
from operator import attrgetter
from typing import Any, TextIO

from virtc.diagnostics import Diagnostic, Severity
from virtc.table import Table

FORMATS = ("text", "json", "sarif", "github")
_SEVERITY, _FIX, _APPLICABILITY = attrgetter("severity"), attrgetter("fix"), attrgetter("applicability")


@dataclass
class Report:
    """What one ``virtc lint`` run found, for any formatter."""

    diagnostics: list[Diagnostic]
    tables: dict[str, Table] = field(default_factory=dict)
    """Parsed sources by path, for source lines."""
    files: int = 0
    fixed: int = 0
    """Fixes applied by --fix."""
    fail_on: Severity = Severity.WARNING
    unsafe_fixes: bool = False
    """--unsafe-fixes was given: unsafe fixes count as fixable."""
    notes: list[str] = field(default_factory=list)
    """What the text summary says first: the sendmail.cf used, the deployment's warnings."""

    def counts(self) -> Counter[Severity]:
        return Counter(map(_SEVERITY, self.diagnostics))

    def fixes(self) -> Counter[str]:
        """How many diagnostics have a fix of each applicability (counted in C: a report
        may have 300k)."""
        return Counter(map(_APPLICABILITY, filter(None, map(_FIX, self.diagnostics))))

    @property
    def fixable(self) -> int:
        """Diagnostics ``--fix`` (with this run's ``--unsafe-fixes``) would fix."""
        fixes = self.fixes()
        return sum(fixes.values()) if self.unsafe_fixes else fixes["safe"]

    @property
    def hidden_fixes(self) -> int:
        """Unsafe fixes not counted in :attr:`fixable` (``--unsafe-fixes`` enables them)."""
        return 0 if self.unsafe_fixes else self.fixes()["unsafe"]

    @property
    def failed(self) -> bool:
        return any(d.severity >= self.fail_on for d in self.diagnostics)


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def summary(report: Report) -> str:
    """One line: what was found (or that all is well), and what --fix can do."""
    parts = []
    if report.fixed:
        parts.append(f"Fixed {plural(report.fixed, 'problem')}.")
    n = len(report.diagnostics)
    files = plural(report.files, "file")
    if not n:
        parts.append(f"All checks passed ({files}).")
    else:
        c = report.counts()
        detail = ", ".join(plural(c[s], str(s), "info" if s is Severity.INFO else None)
                           for s in sorted(c, reverse=True))
        parts.append(f"Found {plural(n, 'problem')} in {files} ({detail}).")
        how = "`virtc lint --fix --unsafe-fixes`" if report.unsafe_fixes else "`virtc lint --fix`"
        fixable, hidden = report.fixable, report.hidden_fixes  # (each a pass over the diagnostics)
        if fixable:
            parts.append(f"{fixable} fixable with {how}.")
        if hidden:
            parts.append(f"{plural(hidden, 'unsafe fix', 'unsafe fixes')} available with "
                         f"`--fix --unsafe-fixes` (they change which mail is accepted: "
                         f"review them with `--diff --unsafe-fixes`).")
    return " ".join(parts)


def visible(ch: str) -> str:
    """A one-cell stand-in for a control character (the bytes stay what they are)."""
    o = ord(ch)
    if o < 0x20:
        return chr(0x2400 + o)  # ␍ for CR, ␀ for NUL, ...
    if o == 0x7F:
        return "\u2421"
    if 0x80 <= o < 0xA0:
        return "\ufffd"
    return ch


_SAFE = {c: visible(chr(c)) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)] if c != 0x09}
_UNSAFE = re.compile("[^\t -~]")
"""What :func:`safe` may change: anything but printable ASCII and tabs."""


def safe(text: str) -> str:
    """Text from the input (see :func:`readable`) with control characters made visible
    (no terminal escapes)."""
    if _UNSAFE.search(text) is None:  # (a str.translate costs microseconds, and a report has 100k)
        return text
    return controls_shown(readable(text))


def printable(text: str) -> bool:
    """Whether :func:`safe` leaves ``text`` as it is (printable ASCII and tabs only): one
    pass in C over a batch's texts, several times faster than :data:`_UNSAFE`'s search."""
    return text.isascii() and not text.encode("ascii").translate(None, _PRINTABLE)


_PRINTABLE = bytes([0x09, *range(0x20, 0x7F)])


def controls_shown(text: str) -> str:
    """``text`` with each control character but a tab made visible (one cell each)."""
    return text if _CONTROLS.search(text) is None else text.translate(_SAFE)


_CONTROLS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")
"""What :data:`_SAFE` changes (#18: Latin-1 text without controls, 100k messages)."""


def readable(text: str) -> str:
    """Text from the input for any output: the encoding rule of every format.

    Sources are Latin-1 decoded bytes and file names come with the bytes that are not
    UTF-8 escaped as surrogates; both are turned back into their bytes, and those bytes
    are shown as UTF-8 when they are valid UTF-8, else one character per byte (Latin-1).
    Either way the output is valid UTF-8, whatever the input bytes.
    """
    if text.isascii():
        return text
    try:
        raw = text.encode("latin-1", "surrogateescape")
    except UnicodeEncodeError:  # already text beyond Latin-1 (a UTF-8 file name)
        raw = text.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def write_lines(out: TextIO, lines: Iterable[str]) -> None:
    """Each of ``lines`` and a newline, written a batch at a time (a write a line costs
    microseconds each: 100k findings, 300k domains)."""
    lines = iter(lines)
    while batch := list(islice(lines, _LINES)):
        out.write("".join(line + "\n" for line in batch))


_LINES = 1024


ITEMS = "\0virtc-items\0"
"""Stands in a document given to :func:`write_json` for the list written an item a line."""


def write_json(doc: Any, items: Iterable[Any], out: TextIO, *, ensure_ascii: bool = True) -> None:
    """``doc`` as JSON (two-space indents), with the list ``items`` where it holds
    :data:`ITEMS` (or is it): one item a line, each encoded by the C encoder and written a
    batch at a time (#18: the whole document at once, indented by the Python encoder, took
    1.1 GB and 9 s for 80k SARIF results)."""
    head, marker, tail = dumps(doc, indent=2, ensure_ascii=ensure_ascii).partition(dumps(ITEMS))
    assert marker, "no ITEMS in the document"
    line = head[head.rfind("\n") + 1:]  # the line of the list's key: its indent
    pad = " " * (len(line) - len(line.lstrip(" ")))
    out.write(head + "[")
    encode = JSONEncoder(ensure_ascii=ensure_ascii).encode
    lines = map(encode, items)
    first = True
    while batch := list(islice(lines, 1024)):
        out.write(("\n" if first else ",\n") + ",\n".join(f"{pad}  {line}" for line in batch))
        first = False
    out.write(("]" if first else f"\n{pad}]") + tail + "\n")


def readable_json(doc: dict[str, Any]) -> dict[str, Any]:
    """A JSON object's strings (and lists of strings) made :func:`readable`."""
    return {k: readable(v) if isinstance(v, str) else [readable(x) for x in v] if isinstance(v, list) else v
            for k, v in doc.items()}
