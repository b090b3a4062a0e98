"""The grammar is the reference of structure, not only of terminals: the fast path's
hard-coded shapes (comment, entry, blank) are checked against the grammar's rules, and a
grammar whose rules differ turns the fast path off instead of making it wrong."""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import pytest

import virtc.source.recognise as recognise
from virtc.source.grammar import parser, productions
from virtc.source.parse import parse_bytes

SAMPLE = (b"# a comment\nalice@example.com\talice\n\n bad\nnovalue@example.com\n"
          b"@example.com error:5.1.1:550 User unknown\n")


def test_productions_read_without_lark_equal_larks_rules() -> None:
    lark: dict[str, set[tuple[str, ...]]] = {}
    for rule in parser().rules:
        lark.setdefault(rule.origin.name, set()).add(tuple(s.name for s in rule.expansion))
    assert productions() == {name: frozenset(alts) for name, alts in lark.items()}


def test_the_shipped_grammar_has_the_fast_paths_shapes() -> None:
    assert recognise.fast_path_on()


@pytest.fixture
def changed_grammar() -> Iterator[None]:
    """``entry: KEY SEP VALUE`` becomes ``entry: KEY SEP VALUE SEP?`` for the fast path's check."""
    rules = dict(productions())
    rules["entry"] = rules["entry"] | {("KEY", "SEP", "VALUE", "SEP")}
    recognise.fast_path_on.cache_clear()
    with mock.patch.object(recognise, "productions", lambda: rules):
        yield
    recognise.fast_path_on.cache_clear()


def test_a_changed_production_turns_the_fast_path_off(changed_grammar: None) -> None:
    assert not recognise.fast_path_on()
    with pytest.raises(recognise.NotPlain):
        list(recognise.plain_entries(b"alice@example.com alice\n"))
    slow = mock.Mock(wraps=recognise._parse_slow)
    with mock.patch.object(recognise, "_parse_slow", slow):
        table = parse_bytes(SAMPLE, "v")
    assert slow.call_count == 5  # every record that is not blank goes to Lark
    recognise.fast_path_on.cache_clear()
    assert table.items == parse_bytes(SAMPLE, "v").items
