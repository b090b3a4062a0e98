"""Rules pick their candidates with one regex over a whole column; they must miss nothing.

Each property compares a rule's column scan with the plain per-value check it stands in
for, on values built from the characters that matter to that check.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from virtc.column import Column
from virtc.lint.rules.vt201_malformed_error import _ACCESS_ACTION, _ERROR_WORD, misspelt_error

_WORDS = st.sampled_from(["error", "ErRoR", "ok", "OK", "reject", "Discard", "relay", "erro", "x"])
_BITS = st.sampled_from([" ", "\t", "\r", "\x0b", "\x0c", "\x85", "\xa0", '"', "'", ":", ";", "=", "@",
                         "5.1.1", "nouser", "a"])
_VALUE = st.lists(st.one_of(_WORDS, _BITS), min_size=1, max_size=6).map("".join)


@settings(max_examples=500, deadline=None)
@given(st.lists(_VALUE, max_size=20))
def test_vt201_scan_finds_every_misspelt_error(values: list[str]) -> None:
    found = set(Column.of(values).matching(_ACCESS_ACTION, _ERROR_WORD))
    for i, value in enumerate(values):
        if "@" not in value and misspelt_error(value) is not None:
            assert i in found, value
