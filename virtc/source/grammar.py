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
    # next to grammar/); importlib.resources only for a zipped install: it costs start-up time.
    for home in (here / "_grammar" / GRAMMAR_NAME, here.parent / "grammar" / GRAMMAR_NAME):
        try:
            return home.read_text(encoding="utf-8")
        except OSError:
            pass  # not this kind of install (or not readable): try the next home
    from importlib import resources

    packed = resources.files("virtc").joinpath("_grammar").joinpath(GRAMMAR_NAME)
    try:
        return packed.read_text(encoding="utf-8")
    except OSError as exc:  # pragma: no cover - a broken install
        raise RuntimeError(f"virtc grammar not found in {here} nor {packed}: {exc}") from exc


_TERMINAL = re.compile(r"([A-Z_][A-Z0-9_]*)\s*:\s*/(.*)/([imslux]*)\s*")


@functools.cache
def terminal_regexps() -> dict[str, str]:
    """Regex terminals (``NAME: /regex/flags`` lines) as Python regexes, without importing Lark.

    The fast path of :mod:`virtc.source.recognise` needs only these; building the Lark parser costs
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


_RULE = re.compile(r"([a-z_][a-z0-9_]*)\s*:(.*)")


@functools.cache
def productions() -> dict[str, frozenset[tuple[str, ...]]]:
    """Each rule's alternatives as tuples of symbol names, without importing Lark; an
    optional symbol (``X?``) gives the alternatives with and without it, as Lark expands it.

    Equal to the rules of Lark's own parser (tested); the fast path checks the shapes it
    hard-codes against these.
    """
    rules: dict[str, set[tuple[str, ...]]] = {}
    current = None
    for raw in grammar_text().splitlines():
        line = raw.split("//", 1)[0].rstrip()
        m = _RULE.fullmatch(line)
        if m is not None:
            current, body = m.group(1), m.group(2)
        elif current is not None and line.lstrip().startswith("|"):
            body = line.lstrip()[1:]
        else:
            current = None if not line.strip() or not line[0].isspace() else current
            continue
        for alternative in body.split("|"):
            expansions: list[tuple[str, ...]] = [()]
            for symbol in alternative.split():
                name = symbol.rstrip("?")
                grown = [(*e, name) for e in expansions]
                expansions = grown + expansions if symbol.endswith("?") else grown
            rules.setdefault(current, set()).update(expansions)
    return {name: frozenset(alts) for name, alts in rules.items()}


@functools.cache
def parser() -> Lark:
    """The memoized LALR parser for one makemap record (no on-disk cache: see README)."""
    from lark import Lark

    return Lark(grammar_text(), parser="lalr", propagate_positions=True, maybe_placeholders=False)
