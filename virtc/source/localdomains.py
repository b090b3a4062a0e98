"""sendmail class files such as ``local-host-names``: which domains are local.

Read as sendmail reads an ``F`` class file (checked against the real sendmail in
tests): the file splits on ``\\n`` only, lines starting with ``#`` are skipped,
and the first word of every other line is taken (leading blanks skipped, the
rest of the line ignored). Domains are folded because sendmail compares class
members case-insensitively; a trailing dot is kept (such an entry never matches).
"""

from __future__ import annotations

from pathlib import Path

from virtc.errors import VirtcError
from virtc.model import fold
from virtc.source.read import read_source
from virtc.source.reader import decode


def parse_local_domains(text: str) -> list[str]:
    """The domains of a class file's text, folded, in file order, without repeats."""
    out: dict[str, None] = {}
    for line in text.split("\n"):
        if line.startswith("#"):
            continue
        words = line.split()
        if words:
            out.setdefault(fold(words[0]))
    return list(out)


def read_local_domains(path: str | Path) -> list[str]:
    """:func:`parse_local_domains` of a file; unreadable files are one-line errors."""
    try:
        return parse_local_domains(decode(read_source(path)))
    except VirtcError as exc:
        raise VirtcError(f"cannot read local domains: {exc}") from None
