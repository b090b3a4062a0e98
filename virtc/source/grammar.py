"""Locate and load the Lark grammar (top-level ``grammar/`` is its only source)."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lark import Lark

GRAMMAR_NAME = "virtusertable.lark"


@functools.cache
def grammar_text() -> str:
    """The grammar text: the copy packed into a wheel, else the source tree's (read once)."""
    here = Path(__file__).resolve().parent.parent  # the virtc package
    # A wheel installed on disk, then a source checkout or editable install (virtc/ sits
    # next to grammar/); importlib.resources only for a zipped install: it costs 13 ms.
    for home in (here / "_grammar" / GRAMMAR_NAME, here.parent / "grammar" / GRAMMAR_NAME):
        try:
            return home.read_text(encoding="utf-8")
        except OSError:
            pass  # not this kind of install (or not readable): try the next home
    from importlib import resources

    packed = resources.files("virtc").joinpath("_grammar", GRAMMAR_NAME)
    try:
        return packed.read_text(encoding="utf-8")
    except OSError as exc:  # pragma: no cover - a broken install
        raise RuntimeError(f"virtc grammar not found in {here} nor {packed}: {exc}") from exc


_TERMINAL = re.compile(r"([A-Z_][A-Z0-9_]*)\s*:\s*/(.*)/([imslux]*)\s*")


@functools.cache
def terminal_regexps() -> dict[str, str]:
    """Regex terminals (``NAME: /regex/flags`` lines) as Python regexes, without importing Lark.

    The fast path of :mod:`virtc.source.parse` needs only these; building the Lark parser costs
    a tenth of a second at every start. Equivalent to Lark's own ``to_regexp()`` of the
    same terminals (tested).
    """
    out = {}
    for line in grammar_text().splitlines():
        m = _TERMINAL.fullmatch(line)
        if m is not None:
            name, body, flags = m.groups()
            out[name] = f"(?{flags}:{body})" if flags else body
    return out


@functools.cache
def parser() -> Lark:
    """The memoized LALR parser for one makemap record (no on-disk cache: see README)."""
    from lark import Lark

    return Lark(grammar_text(), parser="lalr", propagate_positions=True, maybe_placeholders=False)
