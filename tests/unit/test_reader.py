"""virtc.source.reader: makemap's fgets loop, record by record (the makemap agreement itself is
checked against the real makemap in test_build_vs_makemap.py and test_properties_makemap.py)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from virtc.source.reader import CHUNK, MAX_LINE, Problem, Record, decode, encode, records


def recs(data: bytes) -> list[Record]:
    return list(records(decode(data)))


def test_limits_are_makemaps_buffer() -> None:
    assert (CHUNK, MAX_LINE) == (1023, 1022)


def test_plain_lines_one_record_each_blank_lines_kept() -> None:
    assert [(r.text, r.line, r.column, r.seq) for r in recs(b"a b\n\n# c\nd e\n")] == [
        ("a b", 1, 1, 1), ("", 2, 1, 2), ("# c", 3, 1, 3), ("d e", 4, 1, 4)]


def test_last_line_without_newline_is_a_record() -> None:
    assert [r.text for r in recs(b"a b\nlast v")] == ["a b", "last v"]
    assert [r.text for r in recs(b"a b\n")] == ["a b"]
    assert recs(b"") == []


def test_only_lf_ends_a_line() -> None:
    assert [r.text for r in recs(b"a b\r\nc\rd e\r\n")] == ["a b\r", "c\rd e\r"]


def test_line_of_1022_bytes_is_accepted() -> None:
    (rec,) = recs(b"k " + b"v" * 1020 + b"\n")
    assert rec.problem is None and len(rec.text) == MAX_LINE


def test_line_of_1023_bytes_is_too_long_and_its_newline_is_an_empty_record() -> None:
    first, rest, after = recs(b"k " + b"v" * 1021 + b"\nnext v\n")
    assert (first.problem, first.line, first.column, first.seq, first.line_length) == (
        Problem.TOO_LONG, 1, 1, 1, 1023)
    assert (rest.text, rest.line, rest.column, rest.seq, rest.problem) == ("", 1, 1024, 2, None)
    assert (after.text, after.line, after.seq) == ("next v", 2, 3)


def test_rest_of_an_over_long_line_is_a_new_record_and_seq_drifts() -> None:
    line = b"x" * 1023 + b"tail val" + b"y" * 1100
    got = recs(line + b"\nnext v\n")
    assert [(r.column, r.seq, r.problem) for r in got] == [
        (1, 1, Problem.TOO_LONG), (1024, 2, Problem.TOO_LONG), (2047, 3, None), (1, 4, None)]
    assert got[1].text.startswith("tail val") and len(got[1].text) == CHUNK
    assert got[2].text == "y" * (1023 + 8 + 1100 - 2046)
    assert [r.line for r in got] == [1, 1, 1, 2]
    assert got[3].seq == got[3].line + 2  # makemap's "line N" is two ahead from here on


def test_lengths_around_two_chunks() -> None:
    for length, problems in [(2045, [Problem.TOO_LONG, None]),
                             (2046, [Problem.TOO_LONG, Problem.TOO_LONG, None]),
                             (2047, [Problem.TOO_LONG, Problem.TOO_LONG, None])]:
        got = recs(b"k" * length + b"\n")
        assert [r.problem for r in got] == problems, length
        assert "".join(r.text for r in got) == "k" * length


def test_nul_line_is_rejected_whole() -> None:
    _, nul, after = recs(b"a b\nk\0ey v\nc d\n")
    assert (nul.problem, nul.text, nul.line, nul.column, nul.seq) == (Problem.NUL, "k\0ey v", 2, 1, 2)
    assert (after.seq, after.problem) == (3, None)


def test_nul_in_last_line_without_newline_truncates_it() -> None:
    *_, last = recs(b"a b\nkey val\0ue")
    assert (last.problem, last.text) == (Problem.NUL_TRUNCATED, "key val")


def test_last_line_of_exactly_1023_bytes_without_newline_is_too_long() -> None:
    (rec,) = recs(b"k" * 1023)
    assert rec.problem is Problem.TOO_LONG
    short = recs(b"k" * 1022)
    assert [r.problem for r in short] == [None]


def test_every_byte_round_trips() -> None:
    data = bytes(range(256)) * 3
    assert encode(decode(data)) == data
    assert len(decode(data)) == len(data)


@settings(deadline=None)  # a loaded shared machine must not make this flaky
@given(st.binary(max_size=3000).filter(lambda b: b"\0" not in b))
def test_records_cover_every_byte_of_each_line(data: bytes) -> None:
    """The records of a physical line, joined, are that line: nothing dropped or invented."""
    text = decode(data)
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    joined: dict[int, str] = {}
    seqs = []
    for rec in records(text):
        assert rec.column == len(joined.get(rec.line, "")) + 1
        joined[rec.line] = joined.get(rec.line, "") + rec.text
        assert len(rec.text) <= CHUNK
        seqs.append(rec.seq)
    assert [joined.get(n, "") for n in range(1, len(lines) + 1)] == lines
    assert seqs == list(range(1, len(seqs) + 1))


@settings(deadline=None)  # a loaded shared machine must not make this flaky
@given(st.lists(st.binary(max_size=2100), max_size=6))
def test_seq_counts_one_per_fgets_call(lines: list[bytes]) -> None:
    """One seq per 1023-byte piece of a line with its newline (fgets' 1023-byte reads)."""
    data = b"\n".join(line.replace(b"\0", b"") for line in lines) + b"\n"
    text = decode(data)
    expected = sum(-(-(len(line) + 1) // CHUNK) for line in text.split("\n")[:-1])
    assert max((r.seq for r in records(text)), default=0) == expected
