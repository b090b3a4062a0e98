"""Diagnostics are data; formatters (virtc.formatters) decide how they look."""

from __future__ import annotations

from enum import IntEnum
from typing import Literal, NamedTuple

Applicability = Literal["safe", "unsafe"]
"""As ruff's: a safe fix changes no address's fate (whitespace, exact repeats, unused
suppressions); an unsafe one changes which mail is accepted or where it goes."""


class Severity(IntEnum):
    """Ordered so that ``severity >= fail_on`` means "counts as a failure"."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, name: str) -> Severity:
        try:
            return cls[name.upper()]
        except KeyError:
            raise ValueError(f"unknown severity {name!r} (use error, warning or info)") from None


class Fix(NamedTuple):
    """An edit: replace lines ``line``..``end_line`` (inclusive) with ``replacement``.

    ``replacement`` is whole lines of text, each ending in a newline; an empty
    string deletes the lines. ``end_line = line - 1`` inserts before ``line``.
    ``--fix`` applies safe fixes only, ``--fix --unsafe-fixes`` both kinds.
    """

    line: int
    end_line: int
    replacement: str
    description: str
    applicability: Applicability = "safe"


class Diagnostic(NamedTuple):
    """One finding, located in a source file (1-based lines and columns)."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    code: str
    name: str
    severity: Severity
    message: str
    fix: Fix | None = None
    help: str | None = None

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.code)
