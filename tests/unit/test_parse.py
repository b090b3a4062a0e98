"""virtc.source.parse: records to entries, comments and rejections, with positions.

The fast line recogniser and the Lark grammar must agree on every record; that is a
property test here. What makemap itself does is checked in test_build_vs_makemap.py.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from virtc.model import Comment, Entry, Item, KeyKind, Rejected
from virtc.source.parse import parse_bytes, parse_text
from virtc.source.reader import Problem, decode, encode, records
from virtc.source.recognise import _parse_slow, parse_records


def only(text: str) -> Item:
    (item,) = parse_text(text).items
    return item


@pytest.mark.parametrize(("key", "kind"), [
    ("user@dom.test", KeyKind.ADDRESS),
    ("user+detail@dom.test", KeyKind.ADDRESS),
    ("user++@dom.test", KeyKind.USER_PLUS),
    ("user+*@dom.test", KeyKind.USER_ANY),
    ("++@dom.test", KeyKind.DOMAIN_PLUS),
    ("+*@dom.test", KeyKind.DOMAIN_ANY),
    ("@dom.test", KeyKind.CATCH_ALL),
    ("user", KeyKind.UNMATCHABLE),
    (".tld", KeyKind.UNMATCHABLE),
    ("key:", KeyKind.UNMATCHABLE),
    ("user@", KeyKind.UNMATCHABLE),
])
def test_every_key_shape_is_an_entry(key: str, kind: KeyKind) -> None:
    entry = only(f"{key}\tvalue\n")
    assert isinstance(entry, Entry)
    assert (entry.key_text, entry.value_text, entry.key.kind) == (key, "value", kind)


def test_positions_of_key_and_value() -> None:
    table = parse_text("# c\n\nAlice@Example.COM \t  alice smith  \nb@x.test\x0bv\n")
    a, b = table.entries
    assert (a.line, a.column, a.value_column, a.end_column, a.seq) == (3, 1, 22, 35, 3)
    assert a.value_text == "alice smith  "
    assert (b.line, b.column, b.value_column) == (4, 1, 10)
    assert table.source_line(3)[a.value_column - 1:] == a.value_text


def test_positions_after_an_over_long_line() -> None:
    table = parse_text("x" * 1023 + "tail\tval\n" + "next v\n")
    too_long, tail, nxt = table.items
    assert isinstance(too_long, Rejected) and too_long.reason == "too-long"
    assert (too_long.line, too_long.column, too_long.seq) == (1, 1, 1)
    assert isinstance(tail, Entry)
    assert (tail.key_text, tail.value_text, tail.line, tail.column, tail.value_column, tail.seq) == (
        "tail", "val", 1, 1024, 1029, 2)
    assert isinstance(nxt, Entry) and (nxt.line, nxt.seq) == (2, 3)


def test_value_keeps_inner_and_trailing_whitespace_and_cr() -> None:
    entry = only("k@x v  a\tb \r\n")
    assert isinstance(entry, Entry) and entry.value_text == "v  a\tb \r"


def test_hash_is_a_comment_only_in_column_1() -> None:
    table = parse_text("#c\nk #v\nk2 v # x\nk3#@x v\n")
    assert isinstance(table.items[0], Comment)
    assert [(e.key_text, e.value_text) for e in table.entries] == [
        ("k", "#v"), ("k2", "v # x"), ("k3#@x", "v")]


@pytest.mark.parametrize("text", ["", "\n", "\n\n\n"])
def test_blank_lines_vanish(text: str) -> None:
    assert parse_text(text).items == []


@pytest.mark.parametrize(("line", "what"), [
    (" k v", "a line starting with whitespace"), ("\tk v", "a line starting with whitespace"),
    ("\x0bk v", "a line starting with whitespace"), ("\rk v", "a line starting with whitespace"),
    (" ", "a whitespace-only line"), ("\r", "a whitespace-only line"), (" \t ", "a whitespace-only line"),
])
def test_leading_whitespace_is_rejected(line: str, what: str) -> None:
    rej = only(line + "\n")
    assert isinstance(rej, Rejected) and rej.reason == "leading-space"
    assert rej.message.startswith(what)
    assert (rej.line, rej.column, rej.seq) == (1, 1, 1)


@pytest.mark.parametrize("line", ["key", "key ", "key\t\t", "key\r", "key:"])
def test_key_without_value_is_rejected(line: str) -> None:
    _, rej = parse_text("# x\n" + line + "\n").items
    assert isinstance(rej, Rejected) and rej.reason == "missing-value"
    assert (rej.line, rej.column, rej.end_column, rej.key_text) == (2, 1, 1 + len(line), line.rstrip())


def test_nul_is_rejected_at_its_column() -> None:
    rej = only("key v\0al\n")
    assert isinstance(rej, Rejected) and rej.reason == "nul"
    assert (rej.line, rej.column, rej.end_column) == (1, 6, 7)


def test_crlf_blank_line_is_a_leading_space_error() -> None:
    table = parse_text("a@x b\r\n\r\nc@x d\r\n")
    assert [e.value_text for e in table.entries] == ["b\r", "d\r"]
    assert [(r.reason, r.line) for r in table.rejected] == [("leading-space", 2)]


def test_bytes_survive_exactly() -> None:
    data = b"\xef\xbb\xbfJ\xd6RG@Ex.com v\xe9\xff \x85\nk\x01 \x7f\n"
    table = parse_bytes(data)
    assert [(encode(e.key_text), encode(e.value_text)) for e in table.entries] == [
        (b"\xef\xbb\xbfJ\xd6RG@Ex.com", b"v\xe9\xff \x85"), (b"k\x01", b"\x7f")]
    # ASCII-only folding: the 8-bit bytes are not lower-cased.
    assert encode(table.entries[0].stored_key) == b"\xef\xbb\xbfj\xd6rg@ex.com"


def test_nbsp_is_not_a_separator() -> None:
    entry = only("k\xa0ey v\xa0w\n")
    assert isinstance(entry, Entry) and (entry.key_text, entry.value_text) == ("k\xa0ey", "v\xa0w")


# -- the fast recogniser and the Lark grammar agree ----------------------------------------

_pieces = st.sampled_from(["a", "B", "@", "+", "*", ".", ":", "#", " ", "\t", "\x0b", "\x0c", "\r",
                           "\xa0", "\x85", "\xc9", "\xff", "\ufeff".encode().decode("latin-1"),
                           "k@x.test", "error:nouser 550 x", "\0"])
record_text = st.lists(_pieces, max_size=15).map("".join)


def _lark_only(text: str) -> list[Item]:
    """The reference: every record through the full Lark parser (no fast path)."""
    items: list[Item] = []
    for rec in records(text):
        if rec.problem in (Problem.TOO_LONG, Problem.NUL):
            items.extend(parse_records(iter([rec])))
        elif rec.text:
            items.extend(_parse_slow(rec))
    return items


@settings(deadline=None)  # a loaded shared machine must not make this flaky
@given(st.lists(record_text, max_size=8), st.booleans())
def test_fast_path_equals_lark(lines: list[str], final_newline: bool) -> None:
    text = "\n".join(lines) + ("\n" if final_newline else "")
    assert parse_text(text).items == _lark_only(text)


@settings(deadline=None)  # a loaded shared machine must not make this flaky
@given(st.lists(st.one_of(record_text, st.integers(1015, 1030).map(lambda n: "k " + "v" * n)),
                max_size=4))
def test_fast_path_equals_lark_with_long_lines(lines: list[str]) -> None:
    text = "\n".join(lines) + "\n"
    assert parse_text(text).items == _lark_only(text)


@settings(deadline=None)  # a loaded shared machine must not make this flaky
@given(st.binary(max_size=400))
def test_any_bytes_parse_without_error(data: bytes) -> None:
    table = parse_bytes(data)
    for entry in table.entries:
        assert encode(entry.key_text) in data and encode(entry.value_text) in data
    assert parse_text(decode(data)).items == _lark_only(decode(data))
