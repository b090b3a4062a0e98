"""The fast paths of the parser and the build give exactly what the slow ones give.

The regex fast path is compiled from the grammar's terminals; these properties
keep it honest: for any record, the fast path and the full Lark parse produce
the same item, and :func:`parse_source` (no Record per ordinary line) yields
exactly what ``parse_records(records(text))`` yields.
"""

from __future__ import annotations

import codecs
import re
import tempfile
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

import virtc.source.blocks
import virtc.source.large
import virtc.source.parse
import virtc.source.recognise
from virtc.maps.records import BuildOptions, map_records
from virtc.model import BLANKS, Entry, Rejected, fold
from virtc.source.grammar import parser, terminal_regexps
from virtc.source.parse import parse_bytes, parse_source, parse_text
from virtc.source.reader import MAX_LINE, records
from virtc.source.recognise import NotPlain, _parse_slow, parse_records, plain_entries
from virtc.source.rejections import find_duplicates
from virtc.table import Table

# The bytes that matter to makemap's split, plus ordinary ones.
ALPHABET = "aAb@+*#%:\t\x0b\x0c\r \0\xe9\xc9"
line = st.one_of(
    st.text(ALPHABET, max_size=12),
    st.builds(lambda n, c: c * n, st.sampled_from([MAX_LINE - 1, MAX_LINE, MAX_LINE + 1, 2100]),
              st.sampled_from(["a", " ", "k v", "\0"])),
)
source = st.builds(lambda ls, end: "\n".join(ls) + end, st.lists(line, max_size=8),
                   st.sampled_from(["", "\n"]))


# A block's entries are found by one regex over the whole block: no entry may take in
# a neighbouring line (a line that is no entry next to one that is, or to a comment).
_ACROSS_LINES = ["a\n#x y\n", "a\nb c\n", "a b\n c\n", "a b\n\nc d", "#c\na b", "a\r\nb c\n", "a b\n \n"]


@settings(max_examples=400, deadline=None)
@given(source)
@example(_ACROSS_LINES[0])
@example(_ACROSS_LINES[1])
def test_parse_source_equals_reader_then_parser(text: str) -> None:
    assert list(parse_source(text)) == list(parse_records(records(text)))


@pytest.mark.parametrize("text", _ACROSS_LINES)
def test_no_entry_takes_in_a_neighbouring_line(text: str) -> None:
    expected = list(parse_records(records(text)))
    assert list(parse_source(text)) == expected
    assert list(parse_bytes(text.encode("latin-1")).items) == expected


@settings(max_examples=300, deadline=None)
@given(source, st.integers(0, 40))
def test_parse_source_in_small_blocks(text: str, block: int) -> None:
    saved = virtc.source.blocks.BLOCK
    virtc.source.blocks.BLOCK = block  # many line blocks, split anywhere
    try:
        assert list(parse_source(text)) == list(parse_records(records(text)))
    finally:
        virtc.source.blocks.BLOCK = saved


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(line, st.sampled_from(["k v", "a@b c", "#c", ""])), max_size=30),
       st.sampled_from([1, 2, 4]), st.booleans())
def test_a_block_with_odd_lines_goes_whole_but_for_them(lines: list[str], run: int, guess: bool) -> None:
    """Runs of plain lines between odd ones go into the columns whole (as a plain block
    does), the odd lines through the reader and the parser: the same items (the odd lines
    guessed by one search, or, if that misses one, found by the line regex)."""
    text = "\n".join(lines) + "\n"
    expected = list(parse_records(records(text)))
    with mock.patch.object(virtc.source.recognise, "_MIN_RUN", run), \
            mock.patch.object(virtc.source.recognise, "_likely_odd",
                              virtc.source.recognise._likely_odd if guess else lambda *_: []):
        assert list(parse_source(text)) == expected
        assert list(parse_bytes(text.encode("latin-1")).items) == expected


@settings(max_examples=400, deadline=None)
@given(source)
@example("\r\n   \n \tb c\r\n\x0b\n")  # blank lines of a CRLF file, blanks, an indented entry
def test_fast_path_equals_grammar(text: str) -> None:
    for rec in records(text):
        if rec.problem is not None or not rec.text:
            continue  # rejected before parsing, or a blank line (no item)
        assert list(parse_records(iter((rec,)))) == list(_parse_slow(rec))


def test_parse_text_uses_line_numbers_and_seq() -> None:
    long = "k" * (MAX_LINE + 5) + " v"
    table = parse_text(f"a@x b\n{long}\n# c\nd@x e")
    entries = table.entries
    assert [(e.key_text, e.line, e.seq) for e in entries] == [
        ("a@x", 1, 1), ("kkkk", 2, 3), ("d@x", 4, 5)]


@settings(max_examples=400, deadline=None)
@given(source)
def test_plain_entries_are_the_entries_of_a_plain_source(text: str) -> None:
    data = text.encode("latin-1")
    table = parse_bytes(data)
    try:
        pairs = list(plain_entries(data))
    except NotPlain:
        assert table.rejected or "\0" in text or any(len(x) > MAX_LINE for x in text.split("\n"))
        return
    assert not table.rejected
    assert pairs == [(e.key_text.encode("latin-1"), e.value_text.encode("latin-1"))
                     for e in table.entries]
    # bytes.lower() is makemap's (and fold()'s) ASCII-only folding
    assert [k.lower() for k, _ in pairs] == [fold(e.key_text).encode("latin-1")
                                            for e in table.entries]


def test_plain_entries_stops_at_a_rejected_line() -> None:
    with pytest.raises(NotPlain):
        list(plain_entries(b"a@x b\n  c@x d\n"))


@settings(max_examples=200, deadline=None)
@given(source, st.booleans(), st.booleans())
def test_map_records_fast_default_equals_fold_and_encode(text: str, foldcase: bool,
                                                         null: bool) -> None:
    table = parse_text(text)
    nul = b"\0" if null else b""
    expected = [((fold(e.key_text) if foldcase else e.key_text).encode("latin-1") + nul,
                 e.value_text.encode("latin-1") + nul) for e in table.entries]
    assert list(map_records(table, BuildOptions(foldcase=foldcase, null=null))) == expected


def test_terminal_regexps_are_larks_own() -> None:
    # Read from the grammar text without Lark (start-up time); Lark evaluates the escapes
    # (\t, \x0b) into the characters themselves, which means the same to re.
    ours = {k: codecs.decode(v, "unicode_escape") for k, v in terminal_regexps().items()}
    lark = {t.name: t.pattern.to_regexp() for t in parser().terminals
            if t.pattern.type == "re"}
    assert ours == lark


def test_blanks_are_the_grammars_separator() -> None:
    """``model.BLANKS``, which the rules strip, is exactly what the grammar's SEP matches."""
    sep = re.compile(terminal_regexps()["SEP"])
    assert {c for c in map(chr, range(256)) if sep.fullmatch(c)} == set(BLANKS)


@pytest.mark.parametrize(("name", "changed"), [
    ("SEP", r"[\t\x0b\x0c ]+"),  # CR no longer a separator
    ("KEY", r"[^\t\x0b\x0c\r ][^\t\x0b\x0c\r ]*"),  # a key may start with '#'
    ("KEY", r"[^#\t\x0b\x0c\r ][^\t\x0b\x0c ]*"),  # a key may hold a CR
    ("VALUE", r"[^\t\x0b\x0c\r ][^;]*"),  # a value may not hold ';'
    ("COMMENT", r"[#;].*"),  # ';' starts a comment too
])
def test_the_split_path_is_on_only_for_the_grammars_terminals(name: str, changed: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # bytes.split(None, 1) reads lines fast (twice a regex); it is used only while it reads
    # them as the grammar does, so a grammar change cannot make the parse wrong.
    assert virtc.source.recognise._split_reads_as_grammar()
    terms = {**terminal_regexps(), name: changed}
    monkeypatch.setattr(virtc.source.recognise, "terminal_regexps", lambda: terms)
    virtc.source.recognise._split_reads_as_grammar.cache_clear()
    try:
        assert not virtc.source.recognise._split_reads_as_grammar()
    finally:
        virtc.source.recognise._split_reads_as_grammar.cache_clear()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text("aAbB\xe9\xc9@", min_size=1, max_size=3), max_size=12), st.booleans())
def test_find_duplicates_equals_the_plain_loop(keys: list[str], foldcase: bool) -> None:
    entries = [Entry(k, "v", i + 1, 1, len(k) + 2, i + 1) for i, k in enumerate(keys)]
    first: dict[str, Entry] = {}
    expected = []
    for e in entries:
        seen = first.setdefault(fold(e.key_text) if foldcase else e.key_text, e)
        if seen is not e:
            expected.append((seen, e))
    assert list(find_duplicates(Table("<t>", list(entries), ""), foldcase=foldcase)) == expected


def test_table_splits_items_by_kind() -> None:
    table = parse_text("a@x b\n# c\n  bad\nd@x e\n")
    assert [e.key_text for e in table.entries] == ["a@x", "d@x"]
    assert [c.text for c in table.comments] == ["# c"]
    assert [r.reason for r in table.rejected] == ["leading-space"]


@settings(max_examples=300, deadline=None)
@given(source, st.data())
def test_a_source_parsed_in_two_parts_equals_one_parse(text: str, data: st.DataObject) -> None:
    # Large sources are parsed in two halves at once (the second in a helper process),
    # split after any newline: the joined table must be the one parse, record numbers too.
    raw = text.encode("latin-1")
    mid = data.draw(st.sampled_from([0] + [i + 1 for i, b in enumerate(raw) if b == 0x0A]))
    table = virtc.source.recognise.parse_part(raw, 0, mid)
    table.append(virtc.source.recognise.parse_part(raw, mid, len(raw), True))
    joined, whole = table.table("p", raw), parse_bytes(raw, "p")
    assert joined.items == whole.items
    assert (list(joined.seqs), joined.last_line) == (list(whole.seqs), whole.last_line)


@settings(max_examples=150, deadline=None)
@given(source, st.integers(1, 40), st.sampled_from([1, 2]))
def test_a_file_parsed_as_it_is_read_equals_one_parse(text: str, block: int, jobs: int) -> None:
    # A large file is read a block at a time (a line may span blocks), in two halves at
    # once with -j 2: the table must be the one parse of its bytes, record numbers too.
    raw = text.encode("latin-1")
    with tempfile.TemporaryDirectory() as tmp, \
            mock.patch.multiple(virtc.source.large, PACK_SIZE=0, SPLIT_SIZE=0), \
            mock.patch.object(virtc.source.blocks, "BLOCK", block):
        path = Path(tmp) / "vt"
        path.write_bytes(raw)
        table = virtc.source.parse.parse_file(path, jobs=jobs)
        whole = parse_bytes(raw, "p")
        assert table.items == whole.items
        assert (list(table.seqs), table.last_line) == (list(whole.seqs), whole.last_line)
        assert table.text == whole.text  # read again, and checked against what was parsed


def test_halves_in_a_helper_process(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = b"".join(b"u%d@d%d.example v%d\n" % (i, i % 9, i) for i in range(3000)) + b"# end\nlast@x y"
    monkeypatch.setattr(virtc.source.large, "SPLIT_SIZE", 0)
    split = parse_bytes(raw, "p", jobs=2)
    monkeypatch.setattr(virtc.source.large, "SPLIT_SIZE", 1 << 40)
    whole = parse_bytes(raw, "p", jobs=2)
    assert split.items == whole.items and split.keys == whole.keys and split.values == whole.values


_COMMENTISH = st.sampled_from(["# virtc: disable-file VT207", "#virtc:disable-next-line", "# a note", "#",
                               "  # indented virtc", "a@b.example\tc", "@b.example\terror:5.1.1:550 no",
                               "", "odd", "# VIRTC", "a@b.example virtc # not a comment", "\tx"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_COMMENTISH, max_size=30), st.sampled_from(["virtc", "#", "VIRTC", "note", "zz"]))
def test_comments_with_a_part_are_the_comments_that_hold_it(lines: list[str], part: str) -> None:
    """Table.comments_with finds in the comment column what filtering every comment finds
    (#18: a table with a comment above each entry made an object of each)."""
    with mock.patch.object(virtc.source.blocks, "BLOCK", 40):  # (blocks of both paths in one table)
        table = parse_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    assert table.comments_with(part) == [c for c in table.comments if part in c.text]
    assert table.others == sorted(table.others, key=lambda o: o.line)
    assert table.items == sorted(table.items, key=lambda o: o.line)
    event(f"comments made per line: {any(type(o) is not Rejected for o in table._others)}, "
          f"in the column: {bool(table._comment_lines)}")


@settings(max_examples=500, deadline=None)
@given(st.text(st.sampled_from("aZ@.\xc9\xe9\xdf\xff\x80\u0130\u212a\udcc9 ")))
def test_fold_lowers_ascii_letters_only(text: str) -> None:
    """fold (bytes.lower for Latin-1 text: #18, a million non-ASCII keys) changes exactly the
    ASCII capitals, whatever the text holds (Latin-1, beyond it, escaped bytes)."""
    expected = "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)
    assert fold(text) == expected
