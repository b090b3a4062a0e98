"""Property: no rule raises, and every finding points inside the source, on any input."""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from virtc.lint.config import LintConfig
from virtc.lint.registry import all_rules
from virtc.lint.rule import LintContext
from virtc.source.parse import parse_bytes

# Pieces that exercise the rules: key shapes, values of every kind, odd bytes.
KEYS = st.sampled_from([
    "a@example.com", "A@Example.COM", "@example.com", "@example.org", "b++@example.com", "b+*@example.com",
    "++@example.com", "+*@example.com", "x+y@example.com", "info", ".example.net", "*@example.com",
    "a@example.com.", "a@", "\xef\xbb\xbfa@example.com", "J\xc3\x96RG@example.com", "{{k}}@x",
    "%1@example.com", "a@b@c", "@", "+@example.com", "c@example.org",
])
VALUES = st.sampled_from([
    "alice", "a@example.com", "b@example.com", "%1@example.org", "%1%3@example.com", "%0@x", "%9", "%",
    "error:5.1.1:550 User unknown", "error:nouser 550 x", "error:nouser", "error:5.1.1:", "error:4.2.2:450 x",
    "error:5.1.1:250 ok", "error:6.1.1:650 x", "error 550 x", '"error:5.1.1:550 x"', "REJECT", "a, b",
    "|prog", "/file", ":include:/x", "@example.net", "@", "!", "x # c", "x\r", "x  ", "c@example.org",
    "@example.com",
    "error:bogus 550 x", "error:5.1:550 x", "%2", "a@example.com.", "<a@example.com>",
])
LINE = st.one_of(
    st.builds(lambda k, sep, v: f"{k}{sep}{v}", KEYS, st.sampled_from(["\t", " ", "  \t"]), VALUES),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=255), max_size=40),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(LINE, max_size=25), newline=st.booleans(), local=st.booleans())
def test_rules_never_raise_and_stay_in_bounds(lines: list[str], newline: bool, local: bool) -> None:
    text = "\n".join(lines) + ("\n" if newline else "")
    table = parse_bytes(text.encode("latin-1"))
    n_lines = text.count("\n") + 1
    domains = frozenset({"example.com", "example.net"}) if local else None
    ctx = LintContext(LintConfig(), domains)
    for rule in all_rules():
        for f in rule.check(table, ctx):
            assert 1 <= f.line <= f.end_line <= n_lines, (rule.code, f)
            assert f.column >= 1 and (f.end_line > f.line or f.end_column >= f.column), (rule.code, f)
            assert f.message
            if f.fix is not None:
                assert 1 <= f.fix.line <= f.fix.end_line + 1 <= n_lines + 1, (rule.code, f.fix)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(LINE, max_size=25), local=st.booleans())
def test_vt211_finds_the_same_after_vt205_shared_its_lookups(lines: list[str], local: bool) -> None:
    """VT211 reuses the target lookups VT205 made (``TableIndex.target_entry``)."""
    from virtc.lint.registry import rule_by_id

    table = parse_bytes("\n".join(lines).encode("latin-1"))
    domains = frozenset({"example.com", "example.net"}) if local else None
    vt205, vt211 = rule_by_id("VT205"), rule_by_id("VT211")
    alone = list(vt211.check(table, LintContext(LintConfig(), domains)))
    shared = LintContext(LintConfig(), domains)
    list(vt205.check(table, shared))
    assert list(vt211.check(table, shared)) == alone


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(LINE, max_size=25), local=st.booleans(), shares=st.integers(2, 3))
def test_split_rules_find_in_shares_what_they_find_whole(lines: list[str], local: bool, shares: int) -> None:
    """A SPLIT rule's shares (as the two processes of a large table's lint take them)
    together find what the whole run finds, each finding once."""
    table = parse_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    domains = frozenset({"example.com", "example.net"}) if local else None
    split = [r for r in all_rules() if r.split]
    assert split
    for rule in split:
        whole = list(rule.check(table, LintContext(LintConfig(), domains)))
        parts = []
        for k in range(shares):
            ctx = LintContext(LintConfig(), domains, share=(k, shares))
            parts += rule.check(table, ctx)
        assert Counter(parts) == Counter(whole), rule.code
