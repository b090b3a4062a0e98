"""The compact containers behind a large table: :class:`Column` and :class:`KeyIndex`.

Both replace plain Python structures (a list of strings, a dict of keys) to keep a
million-entry table small; these properties check they behave exactly like those.
"""

from __future__ import annotations

from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import virtc.speed.column
import virtc.speed.keyindex
from virtc.speed.column import Column, ColumnBuilder
from virtc.speed.keyindex import FirstValues, KeyIndex

texts = st.lists(st.text("ab@\xe9 ", max_size=4), max_size=20)


@settings(max_examples=300, deadline=None)
@given(st.lists(texts, max_size=4), st.integers(0, 6))
def test_column_is_the_list_of_its_texts(batches: list[list[str]], block: int) -> None:
    builder = ColumnBuilder()
    for batch in batches:
        builder.extend(batch)
    col = builder.column()
    flat = [t for batch in batches for t in batch]
    saved = virtc.speed.column.SCAN_BLOCK
    virtc.speed.column.SCAN_BLOCK = block  # iterate in many small blocks
    try:
        assert list(col) == flat
        blocks = list(col.split_blocks())
        assert [t for _, block_texts in blocks for t in block_texts] == flat
        assert all(col[base:base + len(part)] == part for base, part in blocks)
    finally:
        virtc.speed.column.SCAN_BLOCK = saved
    assert len(col) == len(flat)
    assert [col[i] for i in range(len(flat))] == flat
    assert col[-1:] == flat[-1:] and col == flat
    for char in "@a\xe9":
        assert col.starting_with(char) == [i for i, t in enumerate(flat) if t[:1] == char]
    with pytest.raises(IndexError):
        col[len(flat)]


def test_column_matching_maps_matches_to_texts() -> None:
    import re

    col = Column.of(["@a", "b@c", "", "d", "@"])
    assert list(col.matching(re.compile(r"\n@"))) == [0, 4]
    assert list(col.matching(re.compile("@"), re.compile("d"))) == [0, 1, 3, 4]
    assert list(Column.of([]).matching(re.compile("x"))) == []


@settings(max_examples=300, deadline=None)
@given(texts, st.sampled_from(["@", "a", r"\n@", r"b@?(?=\n)", "@a|b"]), st.integers(0, 3000))
def test_column_matching_is_the_texts_a_search_finds_something_in(
        flat: list[str], pattern: str, count_below: int) -> None:
    """Both ways of mapping matches to texts (counting newlines, bisecting offsets) agree."""
    import re

    col = Column.of(flat)
    expected = [i for i, t in enumerate(flat) if re.search(pattern, "\n" + t + "\n")]
    saved = virtc.speed.column._COUNT_BELOW
    virtc.speed.column._COUNT_BELOW = count_below  # 0: always bisect; large: count when any match
    try:
        assert list(col.matching(re.compile(pattern))) == expected
        assert list(col.matching(re.compile(pattern), re.compile("@"))) == sorted(
            {*expected, *(i for i, t in enumerate(flat) if "@" in t)})
    finally:
        virtc.speed.column._COUNT_BELOW = saved


@settings(max_examples=300, deadline=None)
@given(texts, st.sampled_from(["\n@([^\n]*)(?=\n)", "@([^@\n]*)(?=\n)", "\n(a)", "b(?=\n)"]),
       st.integers(0, 6))
def test_column_findall_is_the_search_of_its_text(flat: list[str], pattern: str, block: int) -> None:
    """A block at a time (``SCAN_BLOCK``: 0 makes one a text) finds what one search of the
    whole text does, patterns that start at a text's first newline included."""
    import re

    col = Column.of(flat)
    saved = virtc.speed.column.SCAN_BLOCK
    virtc.speed.column.SCAN_BLOCK = block
    try:
        found = [m for part in col.findall(re.compile(pattern)) for m in part]
    finally:
        virtc.speed.column.SCAN_BLOCK = saved
    assert found == re.findall(pattern, col.text)


class Colliding(str):
    """A key whose hash collides with every other one's: the index must compare texts."""

    def __hash__(self) -> int:
        return 42


def _first_and_duplicates(keys: list[str]) -> tuple[dict[str, int], list[tuple[int, int]]]:
    first: dict[str, int] = {}
    dups = []
    for i, k in enumerate(keys):
        j = first.setdefault(k, i)
        if j != i:
            dups.append((j, i))
    return first, dups


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text("aAbc", min_size=1, max_size=3), max_size=40), st.booleans())
def test_key_index_with_few_hash_bits_equals_a_dict(keys: list[str], in_column: bool) -> None:
    """With 8 bits for hash and entry number, distinct keys share hash parts all the time."""
    first, dups = _first_and_duplicates(keys)
    with patch.object(virtc.speed.keyindex, "_EXACT_BITS", 8):
        index = KeyIndex(Column.of(keys) if in_column else keys)
    assert index.duplicates == dups
    assert [index.first(k) for k in {*keys, "zz"}] == [first.get(k) for k in {*keys, "zz"}]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text("aAb", min_size=1, max_size=3), max_size=30), st.booleans())
def test_key_index_equals_a_dict(keys: list[str], collide: bool) -> None:
    if collide:
        keys = [Colliding(k) for k in keys]
    first, dups = _first_and_duplicates(keys)
    index = KeyIndex(keys)
    assert index.duplicates == dups
    assert index.later == {i for _, i in dups}
    for key in {*keys, "zz"}:
        assert index.first(Colliding(key) if collide else key) == first.get(key)
    if not collide:  # a Column's keys are sliced from its text (first's other branch)
        in_column = KeyIndex(Column.of(keys))
        assert [in_column.first(k) for k in {*keys, "zz"}] == [first.get(k) for k in {*keys, "zz"}]
    values = FirstValues(index, [f"v{i}" for i in range(len(keys))])
    assert dict(values) == {k: f"v{i}" for k, i in first.items()}
    assert list(values) == list(first) and len(values) == len(first)
    assert values.get("zz") is None and "zz" not in values


@pytest.mark.parametrize("duplicates", [True, False])
def test_key_index_from_its_parts(duplicates: bool) -> None:
    # A helper process sends the parts; without duplicates the receiver finds them.
    keys = ["a", "b", "a", "c", "b", "a"]
    built = KeyIndex(keys)
    parts = built.parts(duplicates=duplicates)
    assert (parts.duplicates is not None) is duplicates
    adopted = KeyIndex(keys, parts)
    assert adopted.duplicates == built.duplicates == [(0, 2), (1, 4), (0, 5)]
    assert [adopted.first(k) for k in ("a", "b", "c", "d")] == [0, 1, 3, None]


def test_key_index_without_its_lookups_keeps_the_duplicates() -> None:
    keys = ["a", "b", "a", "c", "b"]
    index = KeyIndex(keys)
    index.drop_lookups()
    assert (index.duplicates, index.later, len(index)) == ([(0, 2), (1, 4)], {2, 4}, 5)
    with pytest.raises(AttributeError):  # never a wrong answer
        index.first("a")


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 3000), st.integers(0, 2**32))
def test_key_index_finds_every_key_of_a_large_table(n: int, salt: int) -> None:
    keys = [f"u{i * salt}@d{i % 7}" for i in range(n)]  # many buckets; repeats when salt is 0
    first, dups = _first_and_duplicates(keys)
    index = KeyIndex(Column.of(keys))
    assert index.duplicates == dups
    assert all(index.first(k) == i for k, i in first.items())
    assert index.first("nobody@d1") is None


@settings(max_examples=200, deadline=None)
@given(texts, st.integers(0, 6))
def test_encoded_column_is_each_text_in_latin1(batch: list[str], block: int) -> None:
    saved = virtc.speed.column.SCAN_BLOCK
    virtc.speed.column.SCAN_BLOCK = block
    try:
        assert list(Column.of(batch).encoded()) == [t.encode("latin-1") for t in batch]
    finally:
        virtc.speed.column.SCAN_BLOCK = saved
