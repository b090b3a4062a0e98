"""Rules pick their candidates with one regex over a whole column; they must miss nothing.

Each property compares a rule's column scan with the plain per-value check it stands in
for, on values built from the characters that matter to that check.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from unittest.mock import patch

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from virtc.lint.config import LintConfig
from virtc.lint.engine import Engine
from virtc.lint.facts import (
    NO_CATCH_ALL,
    PLAIN_REJECT,
    TableIndex,
    forwards_found,
    forwards_split,
    implausible_domains,
    index,
    key_span,
    key_span_at,
    key_spans_at,
    may_have_keys,
    shown,
    value_span,
    value_span_at,
    wildcard_parts,
)
from virtc.lint.rule import Finding, LintContext
from virtc.lint.rules.vt104_unmatchable_key import suspects, why_unmatchable
from virtc.lint.rules.vt201_malformed_error import MISSPELT_SCAN, problems
from virtc.lint.rules.vt202_invalid_target import SUSPECTS
from virtc.lint.shared import ACCESS_ACTION, misspelt_error
from virtc.model import BLANKS, Key, KeyKind, Value, ValueKind, one_recipient
from virtc.source.parse import parse_text
from virtc.source.reader import CHUNK
from virtc.speed.column import Column
from virtc.table import Table


def _unproven(ix: TableIndex, local: object, checkpoint: object,
              shared: object) -> tuple[bytearray, bytearray, list[list[int]]]:
    """VT205's ``proven_ends`` proving nothing: every entry to the engine."""
    return bytearray(len(ix.entries)), bytearray(len(ix.entries)), []


def _rows_table(rows: list[tuple[str, int, str]]) -> Table:
    """A table of ``user@dN.example  value`` rows (user '@': the domain's catch-all)."""
    return parse_text("".join(f"{'' if user == '@' else user}@d{d}.example\t{value}\n"
                              for user, d, value in rows))


def _check(rule: ModuleType, table: Table) -> list[Finding]:
    """The rule's findings on ``table``, in the order it yields them, in a fresh run."""
    return list(rule.check(table, LintContext(LintConfig(), None)))


_WORDS = st.sampled_from(["error", "ErRoR", "ok", "OK", "reject", "Discard", "relay", "erro", "x"])
_BITS = st.sampled_from([" ", "\t", "\r", "\x0b", "\x0c", "\x85", "\xa0", '"', "'", ":", ";", "=", "@",
                         "5.1.1", "nouser", "a"])
_VALUE = st.lists(st.one_of(_WORDS, _BITS), min_size=1, max_size=6).map("".join)


@settings(max_examples=500, deadline=None)
@given(st.lists(_VALUE, max_size=20))
def test_vt201_scan_finds_every_misspelt_error(values: list[str]) -> None:
    found = set(Column.of(values).matching(ACCESS_ACTION, MISSPELT_SCAN))
    for i, value in enumerate(values):
        if "@" not in value and Value.parse(value).error is None and misspelt_error(value) is not None:
            assert i in found, value


_KEY_BITS = st.sampled_from(["a", "b", "+", "*", "@", "+*@", "+*", ".", ":", "{", "}", "<", "%", "$", "1",
                             "-", "\xef\xbb\xbf", "x" * 250])
_KEY = st.lists(_KEY_BITS, min_size=1, max_size=7).map("".join).filter(lambda k: k[0] != "#")


@settings(max_examples=500, deadline=None)
@given(st.lists(_KEY, max_size=20))
@example(["a+b+*@d", "+a+*@d", "a+*+*@d", "a+*@d*", "a+*@d", "+*@d"])  # '*' a wildcard only in the last two
@example(["a", "a@@b"])  # a key without '@' beside one with two
def test_vt104_scan_finds_every_unmatchable_key(keys: list[str]) -> None:
    table = parse_text("".join(f"{k} v\n" for k in keys))  # (an over-long line is no entry)
    found = set(suspects(index(table, LintContext(LintConfig(), None))))
    for i, text in enumerate(table.keys):
        k = Key.parse(text)
        if why_unmatchable(text, k.kind, k.domain, k.reason) is not None:
            assert i in found, text


@settings(max_examples=500, deadline=None)
@given(st.lists(_VALUE, max_size=20))
@example(["a@b", "error:5.1.1 a@b", "ERROR a@b", "x@y@z", "erro@r"])
@example(["@", "e@", "ErRoR@x", "erro@", "a@b"])  # shorter than 'error': their five characters run on
def test_forwards_are_the_values_with_an_at_that_are_not_errors(values: list[str]) -> None:
    table = parse_text("".join(f"k{i}@d {v}\n" for i, v in enumerate(values)))
    ix = index(table, LintContext(LintConfig(), None))
    expected = [i for i, v in enumerate(table.values) if "@" in v and not v.lower().startswith("error")]
    assert list(ix.forwards) == expected


_WILDCARD_KINDS = (KeyKind.USER_PLUS, KeyKind.USER_ANY, KeyKind.DOMAIN_PLUS, KeyKind.DOMAIN_ANY)


@settings(max_examples=500, deadline=None)
@given(st.lists(_KEY, max_size=20))
@example(["@d", "@d@e", "@a@d", "a@d", "+*@d", "@+*@d", "x++@d"])
@example(["a+*@d", "A++@D", "a++@d", "++@d", "+*@d", "a+*@d", "b+*@d", "b++@e", "a+b+*@d", "a+b++@d"])
def test_domains_special_keys_are_key_parse_kinds(keys: list[str]) -> None:
    """The domain index's catch-alls and plus keys are what Key.parse makes of each key."""
    table = parse_text("".join(f"{k} v\n" for k in keys))
    domains = index(table, LintContext(LintConfig(), None)).domains
    expected: dict[str, dict[object, dict[str, int]]] = {}
    for i, text in enumerate(table.stored_keys):
        k = Key.parse(text)
        if k.domain in domains and k.kind.name != "ADDRESS" and i not in table.key_index.later:
            expected.setdefault(k.domain, {}).setdefault(k.kind, {}).setdefault(k.user, i)
    ix = index(table, LintContext(LintConfig(), None))
    found: dict[str, dict[object, dict[str, int]]] = {}
    for i in ix.wildcards:
        kind, user, name = wildcard_parts(table.stored_keys[i])
        assert domains[name].has(kind)
        assert found.setdefault(name, {}).setdefault(kind, {}).setdefault(user, i) == i  # (each key once)
    for name, dom in domains.items():
        if dom.catch_all is not None:
            found.setdefault(name, {})[KeyKind.CATCH_ALL] = {"": dom.catch_all}
        assert {k for k in _WILDCARD_KINDS if dom.has(k)} == set(found.get(name, {})) - {KeyKind.CATCH_ALL}
    assert found == expected
    for name, kinds in expected.items():  # and find() answers from both
        for kind, users in kinds.items():
            assert all(ix.find(domains[name], kind, user) == i for user, i in users.items())  # type: ignore[arg-type]
            assert ix.find(domains[name], kind, "x+y") is None  # (no wildcard has a '+' in its user)
    pairs = sorted((i, users_plus[user]) for kinds in expected.values()
                   for any_kind, plus_kind in ((KeyKind.USER_ANY, KeyKind.USER_PLUS),
                                               (KeyKind.DOMAIN_ANY, KeyKind.DOMAIN_PLUS))
                   for users_plus in [kinds.get(plus_kind, {})]
                   for user, i in kinds.get(any_kind, {}).items() if user in users_plus)
    assert sorted(ix.wildcard_pairs) == pairs
    for name, dom in domains.items():  # and nothing else
        for kind in (KeyKind.USER_PLUS, KeyKind.USER_ANY):
            assert ix.find(dom, kind, "a+b") is None  # ('a+b+*@d' is an address key)
            for user in ("", "a", "x"):
                assert ix.find(dom, kind, user) == expected.get(name, {}).get(kind, {}).get(user)
        for kind in (KeyKind.DOMAIN_PLUS, KeyKind.DOMAIN_ANY):
            assert ix.find(dom, kind) == expected.get(name, {}).get(kind, {}).get("")
            assert ix.find(dom, kind, "a") is None


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(".:{}<>%$*a", max_size=5), max_size=10))
@example([".a", "a"])
@example(["a", "", "a"])
@example(["a.", "a:a"])
@example(["a:", "a"])
def test_implausible_domains_are_the_definition(names: list[str]) -> None:
    def plausible(name: str) -> bool:
        debris = any(c in name for c in "{}<>%$*")
        return bool(name) and name[0] != "." and name[-1] not in ".:" and not debris

    found = list(implausible_domains(Column.of(names)))
    assert found == [i for i, n in enumerate(names) if not plausible(n)]


_PCT_VALUES = ["bob", "%1", "bob%2", "%1%3", "bob+%2", "%1@d1.example", "%0.X", "error:5.1.1:550 no",
               "%1@remote.example", "%1+%2@remote.example", "%1%3@remote.example", "error:5.1.1:550 %1 no",
               "x%3", "bob+%2@d1.example",
               "bob+%2@remote.example", "%1%3@d0.example", "bob@d1.example", "bob@remote.example",
               "bob%3@remote.example", "al%3@remote.example", "Bob%3@remote.example", "%%1@remote.example",
               "%1%%", "x%", "%0@remote.example", "%5@remote.example", "%1 %1",
               "error:5.2.2:552 full (100% of quota)", "error:5.1.1:550 no (100%)", "error:5.1.1:550 %1 (9%)",
               "bob%d0.example@remote.example", "bob%x@d1.example", "%1%d1.example@remote.example"]
_PCT_KEYS = ["bob", "bob+*", "bob++", "+*", "++", "bob+x", "al"]
_PCT_ROW = st.tuples(st.sampled_from(_PCT_KEYS), st.integers(0, 1), st.sampled_from(_PCT_VALUES))


@settings(max_examples=600, deadline=None)
@given(st.lists(_PCT_ROW, max_size=10),
       st.sampled_from(["bob", "error:5.1.1:550 no", "%1", "al", "%1%3@remote.example", "%1%3@d1.example",
                        "@", "error:5.1.1:550  no (100%)", "error:5.2.2:552 full  (100% of quota)"]))
@example([("bob+*", 0, "bob+%2@d1.example"), ("bob", 0, "bob")], "error:5.1.1:550 no")  # ends otherwise
@example([("bob+*", 0, "bob+%2@d1.example"), ("bob", 0, "bob"), ("bob+*", 1, "bob+%2@d0.example")],
         "error:5.1.1:550 no")  # a loop through the key
@example([("++", 0, "%1@remote.example"), ("+*", 0, "bob+%2@remote.example")], "error:5.1.1:550 no")
@example([("++", 0, "%1@remote.example"), ("+*", 0, "%1@remote.example")], "error:5.1.1:550 no")  # alike
@example([("+*", 0, "%1+%2@remote.example"), ("++", 1, "%1@remote.example")], "%1%3@remote.example")
@example([("+*", 0, "%1%3@d1.example"), ("virtc-probe+*", 0, "root")], "%1%3@d1.example")  # not reached
@example([("bob+*", 0, "%0.X"), ("al", 0, "bob%3@d1.example")], "%1")  # relayed to 'bob+*@d0.example.X'
@example([("bob", 0, "%1@remote.example"), ("al", 0, "x%4@remote.example")], "x@remote.example")  # kept ends
def test_vt105_skips_only_percent_values_the_engine_would_not_report(
        rows: list[tuple[str, int, str]], catch_all: str) -> None:
    """VT105 skips a %N value when the next key sendmail would try gives other words (#18: the
    engine ran for every 'user+*@d user+%2'): the same findings as asking the engine for
    every such entry."""
    from virtc.lint.rules import vt105_redundant_entry as vt105

    table = _rows_table([*rows, ("@", 0, catch_all), ("@", 1, catch_all)])

    def findings() -> list[Finding]:
        return _check(vt105, table)

    found = findings()
    with patch.object(vt105, "may_equal_fixed", lambda value, stored, get, local=None: True), \
            patch.object(vt105, "texts_alike", lambda mine, theirs, local, theirs_end=None: True), \
            patch.object(vt105, "relayed", lambda text, local: False), \
            patch.object(vt105, "alike_for_everyone", lambda value, catch_all, name: False), \
            patch.object(vt105._UserWildcards, "may_equal_fixed", lambda self, i, value, stored: None), \
            patch.object(vt105, "exact_verdicts", lambda ix, entries, local, theirs_end, _: ([], set())), \
            patch.object(vt105, "errors_alike", lambda address, mine, theirs, local: True):
        assert found == findings()
    event(f"VT105 findings: {min(len(found), 2)}")


_EXACT_KEYS = ["bob", "al", "Bob", "b%c", "b%1", "bob+x", "+*", "x@y"]
_EXACT_VALUES = [*_PCT_VALUES, "%1%3@remote.example", "%1%3@d1.example", "bob%3@d1.example", "%1", "@"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_EXACT_KEYS), st.sampled_from(["d0.example", "d1.example", "e."]),
                          st.sampled_from(_EXACT_VALUES)), max_size=10),
       st.sampled_from(["%1%3@remote.example", "error:5.1.1:550 no", "%1@d1.example", " @ ",
                        "%1%%3@x.example", "%0@remote.example", "%1", "bob@remote.example",
                        "error:5.1.1:550  no (100%)", "error:5.2.2:552 full  (100% of quota)"]))
@example([("bob", "d0.example", "bob%3@remote.example"), ("al", "d0.example", "x%3@remote.example")],
         "%1%3@remote.example")  # the same address; another
@example([("bob", "d0.example", "%1@d1.example")], "error:5.1.1:550 no")  # looked up again: ask
def test_vt105_exact_verdicts_are_the_loops(rows: list[tuple[str, str, str]], catch_all: str) -> None:
    """The batch verdicts on exact keys with a ``%N`` value beside a catch-all equal the
    per-entry ones."""
    from functools import partial

    from virtc.lint.engine import shared_engine
    from virtc.lint.rules import vt105_redundant_entry as vt105
    from virtc.lookup.resolve import end_at_once

    table = parse_text("".join(f"{user}@{dom}\t{value}\n" for user, dom, value in rows)
                       + f"@d0.example\t{catch_all}\n@e.\t{catch_all}\n")
    ctx = LintContext(LintConfig(), None)
    ix = index(table, ctx)
    local = shared_engine(table, ctx).domains
    theirs_end = partial(end_at_once, domains=local, literal=True)
    apart, alike = vt105.exact_verdicts(ix, list(ix.with_percent), local, theirs_end)
    assert not set(apart) & alike
    for i in [*apart, *alike]:
        stored, value = ix.stored_keys[i], ix.values[i]
        user, _, name = stored.rpartition("@")
        assert "+" not in user and not name.endswith(".")
        event("settled: apart" if i in apart else "settled: alike")
        verdict = vt105.exact_verdict(stored, value, catch_all, local, theirs_end)
        assert verdict is (i in alike), (stored, value)


_ANY_VALUES = ["%1+%2@remote.example", "%1%3@remote.example", "%2@", "@", " @ ", "!", "%0x@remote.example",
               "%1@d1.example", "%3", "(c) %2@", "%2 @", "error:5.1.1:550 no"]
_ANY_DOMAINS = ["d0.example", "d1.example", "d2.example", "e.", f"{'x' * 240}.example"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["+*", "@", "virtc-probe", "a"]), st.sampled_from(_ANY_DOMAINS),
                          st.sampled_from(_ANY_VALUES)), min_size=1, max_size=10))
@example([("+*", "d0.example", "%2@"), ("+*", "d1.example", "%2@"), ("@", "d1.example", "x@remote.example")])
def test_vt105_domain_wildcards_kept_per_value_answer_as_per_key(rows: list[tuple[str, str, str]]) -> None:
    """What ``_DomainAny`` keeps per value (or value and catch-all) is what each
    ``+*@d`` key's own answer would be."""
    from virtc.lint.engine import shared_engine
    from virtc.lint.rules import vt105_redundant_entry as vt105
    from virtc.lookup.resolve import first_key

    table = parse_text("".join(f"{'' if user == '@' else user}@{dom}\t{value}\n"
                               for user, dom, value in rows))
    ctx = LintContext(LintConfig(), None)
    ix, eng = index(table, ctx), shared_engine(table, ctx)
    kept = vt105._DomainAny(ix.probe_named)
    for _ in range(2):  # (the second time from what it kept)
        for i, stored in enumerate(ix.stored_keys):
            if not stored.startswith("+*@") or i in ix.shadowed_by_duplicate:
                continue
            name, value = stored[3:], ix.values[i]
            for catch_all in _ANY_VALUES[:4]:
                assert kept.alike(value, catch_all, name) == vt105.alike_for_everyone(value, catch_all, name)
            key = Key.parse(stored)
            expected = first_key(eng.probe(key), eng.table, eng.domains) == stored
            event(f"found first: {expected}")
            assert kept.found_first(eng, key, stored, value) == expected, (stored, value)


_WILD_KEYS = ["bob", "bob+*", "bob++", "+*", "++", "", "bob+virtcdetail", "al+*", "b+o++", "x@y++",
              "+*", "++", "virtcuser+*", ""]
_WILD_VALUES = ["bob", "bob+%2", "%1", "bob%3", "@", " @ ", "bob+virtcdetail", "BOB+VIRTCDETAIL", "a@b",
                "x!y", "error:5.1.1:550 no", "%2 %2", "bob\t", "%2", "bob %3", "b%2@x", "x%y",
                "bob virtcdetail", "+VirtcDetail", "%1@x.example", "%1+%2@x.example", "%1%3@x.example",
                "virtcuser@x.example", "%0.X", "%1@y.example", "!", "error:5.1.1:550 %1 no"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_WILD_KEYS), st.sampled_from(["d", "D", "e.", "f"]),
                          st.sampled_from(_WILD_VALUES)), max_size=12))
@example([("bob++", "d", "bob+%2"), ("bob", "d", " @ "), ("", "d", "bob")])  # '@' is "not found": next key
@example([("++", "d", "%1@x.example"), ("+*", "d", "%1+%2@x.example"), ("", "d", "error:5.1.1:550 no")])
@example([("++", "d", "%1@y.example"), ("+*", "d", "%1%2@x.example"), ("", "d", "%1@x.example")])
@example([("+*", "d", "%1%2@x.example"), ("", "d", "%1@x.example"), ("++", "f", "%1@y.example"),
          ("+*", "f", "%1%2@x.example"), ("", "f", "%1@x.example")])  # kept per detail
@example([("++", "d", "%1+%2@x.example"), ("+*", "d", " @ "), ("", "d", "error:5.1.1:550 no")])
def test_vt105_user_wildcards_answer_as_may_equal_fixed(rows: list[tuple[str, str, str]]) -> None:
    """The batch answers for ``user++@d`` / ``user+*@d`` keys equal the per-entry function."""
    _wildcards_agree(rows)


_USUAL_WILD = ["box+%2", "bob%3", "%2", "%2 %3", "b%2@x", "b+%1", "x!%2", "box"]
_USUAL_PLAIN = ["box", "Box2 ", "bob virtcdetail", "VirtcDetail", "x!y", "@", "b%%c", "error:5.1.1:550 no"]
_USUAL_OTHER = st.tuples(st.sampled_from(["bob+*", "bob++", "al++", "al", "bob+virtcdetail", "+*", "++"]),
                         st.sampled_from(["d", "e."]), st.sampled_from(_USUAL_WILD + _USUAL_PLAIN))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["bob+*", "bob++"]), st.sampled_from(_USUAL_WILD), st.sampled_from(_USUAL_PLAIN),
       st.lists(_USUAL_OTHER, max_size=3), st.booleans())
@example("bob+*", "%2", "VirtcDetail", [], False)  # the same words, whatever the detail's case
@example("bob++", "box+%2", "box", [("bob+*", "d", "box+%2")], True)  # 'bob+*@d' answers first
def test_vt105_usual_wildcards_differ_as_may_equal_fixed_says(
        wild: str, value: str, plain: str, others: list[tuple[str, str, str]], before: bool) -> None:
    """The same, on the usual ``user+*@d  box+%2`` beside ``user@d  box``, which
    ``_UserWildcards.differing`` settles without substituting."""
    rows = [(wild, "d", value), ("bob", "d", plain)]
    _wildcards_agree(others + rows if before else rows + others)


def test_vt105_settles_the_usual_wildcard_without_substituting() -> None:
    from virtc.lint.rules import vt105_redundant_entry as vt105

    table = parse_text("bob+*@d\tbox+%2\nbob@d\tbox\nal++@d\tal%3\nal@d\tAL\ncy+*@d\tcy+%1\ncy@d\tcy\n")
    ix = index(table, LintContext(LintConfig(), None))
    with_pct = ix.values.matching(re.compile("%"))
    assert vt105._UserWildcards(ix).differing(with_pct) == [0, 2]


def _wildcards_agree(rows: list[tuple[str, str, str]]) -> None:
    from virtc.lint.engine import shared_engine
    from virtc.lint.rules import vt105_redundant_entry as vt105

    table = parse_text("".join(f"{user}@{dom}\t{value}\n" for user, dom, value in rows))
    ctx = LintContext(LintConfig(), None)
    ix = index(table, ctx)
    with_pct = ix.values.matching(re.compile("%"))
    fast = vt105._UserWildcards(ix)
    eng = shared_engine(table, ctx)
    get = eng.table.get
    differing = fast.differing(with_pct)
    for i in with_pct:
        value, stored = ix.values[i], ix.stored_keys[i]
        for _ in range(2):  # (the second time from what it kept)
            verdict = fast.domain_wildcard(value, stored, eng.domains)
            if verdict is not None:
                event("a domain wildcard from the domain's keys")
                assert verdict == vt105.may_equal_fixed(value, stored, get, eng.domains), (stored, value)
        verdict = fast.may_equal_fixed(i, value, stored)
        if verdict is not None:
            event("answered in the batch")
            assert verdict == vt105.may_equal_fixed(value, stored, get), (stored, value)
        if i in differing:
            event("differing without substituting")
            assert not vt105.may_equal_fixed(value, stored, get), (stored, value)


_CHAIN_VALUES = ["a@d0.example", "b@d0.example", "c@d1.example", "a@d1.example", "x@remote.example",
                 "local", "error:5.1.1:550 no", "%1@d1.example", "a%b", "h!u", "@", "B@D0.EXAMPLE",
                 # forwards to addresses without a key, through domain aliases (through_aliases)
                 "z@d0.example", "z@d1.example", "%1%3@d0.example", "%1@remote.example", "a+x@d1.example",
                 # %N values of exact keys: the next hop after substitution
                 "b%3@d1.example", "%1@d0.example", "a%2@d0.example", "x%3@remote.example",
                 # '+detail' targets without a key: wildcard keys and 'user@D' in sendmail's order
                 "z+x@d1.example", "z+@d1.example",
                 # error texts with '%' or '!' (no address hack: the error rule comes first)
                 "error:5.1.1:550 %1 gone!", "Error:nouser %2",
                 # lists and other values sendmail refuses or delivers at once, and look-alikes
                 "a@d0.example, b@d1.example", '"x, y"@d0.example', "(c, d) a@d0.example",
                 "a@d0.example,", "<a@d0.example", '"a b"', "Bob <a@d0.example>",
                 # catch-alls whose %N makes a value that ends at once, or not
                 "own+%1", "%1.x@d0.example",
                 # the %-hack: relayed as written to a remote host, looked up again at a local one
                 "a%d0.example@gw.example", "%1%d1.example@gw.example", "a%d1.example@d0.example",
                 "b%x@d1.example"]
_CHAIN_ROW = st.tuples(st.sampled_from(["a", "b", "c", "@", "a+*", "a+x", "z", "z++", "z+*", "++", "+*"]),
                       st.integers(0, 1), st.sampled_from(_CHAIN_VALUES))


@settings(max_examples=300, deadline=None)
@given(st.lists(_CHAIN_ROW, max_size=12))
@example([("a", 0, "a@d1.example"), ("@", 1, "%1%3@d0.example")])  # a loop through a domain alias
@example([("a", 0, "z@d1.example"), ("@", 1, "%1%3@d0.example"), ("@", 0, "%1@d1.example")])  # aliases only
@example([("a", 0, "b@d1.example"), ("b", 1, "a@d0.example"), ("@", 1, "error:5.1.1:550 no")])  # two keys
@example([("a", 1, "b@d1.example"), ("@", 1, "%1%3@d0.example"), ("b", 0, "a@d1.example"),
          ("@", 0, "error:5.1.1:550 no")])  # a loop through an alias into a domain of two keys
@example([("a", 1, "b@d1.example"), ("@", 1, "%1%3@d2.example"), ("@", 2, "%1%3@d0.example"),
          ("b", 0, "a@d1.example"), ("@", 0, "error:5.1.1:550 no")])  # ... through two aliases
@example([("a", 0, "a+x@d1.example"), ("a+*", 1, "a@d0.example"), ("a", 1, "root")])  # a '+' wildcard first
@example([("a", 0, "a+x@d1.example"), ("a", 1, "b@d0.example"), ("b", 0, "a@d0.example")])  # through user@D
@example([("a", 0, "b%3@d1.example"), ("b", 1, "a@d0.example"), ("b+x", 1, "root")])  # a loop through %N
@example([("b", 0, "a+x@d1.example"), ("a", 1, "b%3@d0.example"), ("b+*", 0, "root")])  # a detail into %N
@example([("b", 0, "a+x@d1.example"), ("a", 1, "a%3@d0.example"), ("a+x", 0, "b@d0.example")])
@example([("a", 0, "z+x@d1.example"), ("@", 1, "%1%3@d0.example"), ("z", 0, "root"),
          ("z+*", 0, "a@d0.example")])  # '+detail' through '%1%3@': 'z+x@d0' meets 'z+*@d0'
@example([("a", 0, "z+x@d1.example"), ("@", 1, "%1@d0.example"), ("z", 0, "a@d0.example"),
          ("z+*", 0, "root")])  # through '%1@': 'z@d0'
@example([("a", 0, "z@d1.example"), ("@", 1, "%1.x@d0.example"), ("z.x", 0, "a@d0.example")])
@example([("a", 0, "z@d1.example"), ("@", 1, "own+%1")])  # the catch-all's user ends there
@example([("a", 0, "z@d1.example"), ("@", 1, "a@d0.example")])  # a loop through a catch-all's address
@example([("a", 0, "(c, d) a@d0.example")])  # a comma in a comment: an address (itself)
@example([("b", 0, "a@d0.example, b@d0.example"), ("a", 0, "b@d0.example")])  # a list: refused
@example([("a", 0, "z+x@d1.example"), ("z", 1, "a@d0.example"), ("+*", 1, "root")])  # 'z@' before '+*@'
@example([("a", 0, "z+x@d1.example"), ("++", 1, "root"), ("z+*", 1, "a@d0.example")])  # 'z+*@' before '++@'
@example([("a", 0, "z+@d1.example"), ("++", 1, "root"), ("@", 1, "a@d0.example")])  # no '++@' without detail
@example([("a", 0, "z+@d1.example"), ("z++", 1, "root"), ("@", 1, "a@d0.example")])
def test_vt205_proves_chains_end_as_the_engine_does(rows: list[tuple[str, int, str]]) -> None:
    """VT205 follows plain forwards once for the whole table before asking the engine (#18):
    it must find the same loops as the engine asked for every entry."""
    from virtc.lint.rules import vt205_forwarding_loop as vt205

    table = _rows_table(rows)

    def findings() -> list[Finding]:
        return sorted(_check(vt205, table))

    found = findings()
    with patch.object(vt205, "proven_ends", _unproven):
        assert found == findings()
        with patch("virtc.lookup.resolve.quick_path", lambda address, table, domains: None), \
                patch.object(vt205._Cycles, "get", lambda self, probe: None):
            assert found == findings()  # (the engine alone)
    event(f"VT205 findings: {min(len(found), 2)}")


@pytest.mark.parametrize("rows", [
    [("@", d, f"%1@d{(d + 1) % 4}.example") for d in range(4)],  # a ring of domain aliases
    [("@", d, f"%1%3@d{(d + 1) % 3}.example") for d in range(3)] + [("a", 0, "a@d1.example")],
    [("a", 0, "b@d1.example"), ("b", 1, "c@d2.example"), ("c", 2, "a@d0.example"), ("@", 1, "%1@d2.example")],
    [("a", 0, "a@d1.example"), ("@", 1, "%1@d2.example"), ("@", 2, "%1@d1.example"),
     ("a", 2, "a@d0.example")],
    [("@", 0, "%1@d1.example"), ("a", 1, "a@d0.example"), ("@", 1, "%1@d0.example")],  # a key met twice
])
def test_vt205_known_cycles_as_the_engine(rows: list[tuple[str, int, str]]) -> None:
    """An entry whose probe lies on a loop found before is reported from that loop, with the
    engine's words: the same findings as resolving each entry."""
    from virtc.lint.rules import vt205_forwarding_loop as vt205

    table = _rows_table(rows)
    found = _check(vt205, table)
    with patch.object(vt205._Cycles, "get", lambda self, probe: None):
        assert found == _check(vt205, table)
    assert found


_ALIAS_ROW = st.tuples(st.sampled_from(["@", "@", "a", "virtc-probe"]), st.integers(0, 3),
                       st.sampled_from(["%1@d1.example", "%1%3@d2.example", "%1@D3.EXAMPLE", "%1@d0.example",
                                        "%1@remote.example", "root", "error:5.1.1:550 no", "@",
                                        "a@d0.example", "%1@d1.example.", "x!y", "%2@d1.example"]))


@settings(max_examples=500, deadline=None)
@given(st.lists(_ALIAS_ROW, max_size=10))
@example([("@", 3, "%1@d2.example"), ("@", 2, "root"), ("@", 0, "%1@d1.example"), ("@", 1, "a@d0.example")])
def test_vt205_alias_domains_end_as_the_engine_says(rows: list[tuple[str, int, str]]) -> None:
    """The catch-alls VT205 proves to end per domain (#18) end for the engine too, and the
    rule finds the same loops as when the engine is asked for each of them."""
    from virtc.lint.engine import shared_engine
    from virtc.lint.rules import vt205_forwarding_loop as vt205

    table = _rows_table(rows)
    ctx = LintContext(LintConfig(), None)
    ix, eng = index(table, ctx), shared_engine(table, ctx)
    proven = vt205.proven_alias_ends(ix, eng.domains)
    assert proven == vt205.proven_alias_ends(ix, frozenset(eng.domains))  # (the same set, by its names)
    for i in proven:
        event("alias proven to end")
        assert eng.resolve(eng.probe(Key.parse(ix.stored_keys[i]))).kind != "loop", rows

    def findings() -> list[Finding]:
        return sorted(_check(vt205, table))

    found = findings()
    with patch.object(vt205, "proven_alias_ends", lambda ix, local: []):
        assert found == findings()
    event(f"VT205 findings: {min(len(found), 2)}")


_SUBST_ROW = st.tuples(st.sampled_from(["bob", "bob+*", "bob++", "+*", "++", "", "b+o++", "bob+x", "BOB",
                                        "x@bob", "Bob+*", "bob+"]),
                       st.sampled_from(["d", "e", "D"]),
                       st.sampled_from(["%1", "%2", "box+%2", "%0", "%%0", "%5", "%1%3@f", "%0.X", "%2%9",
                                        "x", "%1%%3@f", "%1%2", "%%2", "%1@f"]))


@settings(max_examples=500, deadline=None)
@given(st.lists(_SUBST_ROW, max_size=10))
def test_vt206_skips_only_entries_without_findings(rows: list[tuple[str, str, str]]) -> None:
    from virtc.lint.rules import vt206_suspicious_substitution as vt206

    table = parse_text("".join(f"{user}@{dom}\t{value}\n" for user, dom, value in rows))

    def findings() -> list[Finding]:
        return _check(vt206, table)

    found = findings()
    with patch.object(vt206, "worth_a_look", lambda ix: ix.values.matching(re.compile("%"))):
        assert found == findings()
    event(f"VT206 findings: {min(len(found), 2)}")


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(st.sampled_from("a@%! \t.x"), max_size=6), max_size=12))
def test_vt205_hacks_are_its_definition(values: list[str]) -> None:
    """Values without '@' holding '%' or '!', or only blanks around at most one '@'."""
    from virtc.lint.rules.vt205_forwarding_loop import hacks

    expected = [i for i, v in enumerate(values)
                if ("@" not in v and ("%" in v or "!" in v)) or v.strip(" \t") in ("", "@")]
    column = Column.of(values)
    assert hacks(column) == expected


_PM_ROW = st.tuples(st.sampled_from(["postmaster", "a", "@"]), st.integers(0, 2),
                    st.sampled_from(["root", "error:5.1.1:550 no", "%1%3@d1.example", "%1@d2.example",
                                     "%1@remote.example", "x@d0.example", "%1%3@D0.EXAMPLE"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(_PM_ROW, max_size=10))
def test_vt213_alias_shortcut_finds_what_the_engine_finds(rows: list[tuple[str, int, str]]) -> None:
    """VT213 decides an alias domain's postmaster without the engine (#18): the same findings
    as resolving every postmaster@ through it."""
    from virtc.lint.rules import vt213_postmaster_rejected as vt213

    table = _rows_table(rows)

    def findings() -> list[Finding]:
        return _check(vt213, table)

    found = findings()
    with patch.object(vt213, "delivered_by_alias", lambda *args: False):
        assert found == findings()


_PM_CHAIN_ROW = st.tuples(st.sampled_from(["@", "@", "@", "postmaster", "a", "+*"]), st.integers(0, 4),
                         st.sampled_from(["%1@d1.example", "%1%3@d2.example", "%1@D3.EXAMPLE",
                                          "%1@d0.example", "%1@d4.example", "error:nouser no",
                                          "error:5.1.1:550 no", "root", "%1@remote.example", "x@d2.example",
                                          "error:4.2.1:450 later"]))


@settings(max_examples=500, deadline=None)
@given(st.lists(_PM_CHAIN_ROW, max_size=12))
@example([("@", 0, "%1@d1.example"), ("@", 1, "%1%3@d2.example"), ("@", 2, "error:nouser no")])  # a chain
@example([("@", 0, "%1@d1.example"), ("@", 1, "%1@d0.example")])  # a cycle
@example([("@", 0, "%1@d1.example"), ("postmaster", 1, "error:5.1.1:550 no"), ("@", 1, "root")])
def test_vt213_follows_domain_aliases_as_the_engine_does(rows: list[tuple[str, int, str]]) -> None:
    """VT213 takes a domain alias's postmaster@ to end as its target's does (#18: chains of
    domain aliases): the same findings as resolving each through the engine."""
    from virtc.lint.rules import vt213_postmaster_rejected as vt213

    table = _rows_table(rows)

    def findings() -> list[Finding]:
        return _check(vt213, table)

    found = findings()
    with patch.object(vt213, "_HOPS", 0):
        assert found == findings()
    event(f"VT213 findings: {min(len(found), 3)}")


@pytest.mark.parametrize(("length", "end"), [(60, "error:5.1.1:550 no"), (30, "error:5.1.1:550 no"),
                                               (60, "%1@d0.example"), (5, "%1@d2.example"),
                                               *((n, "error:5.1.1:550 no") for n in range(13, 19))])
def test_vt213_long_alias_chains_as_the_engine(length: int, end: str) -> None:
    """A chain of domain aliases longer than sendmail's recursion limit (a loop for the
    first domains, rejected for the last), or closed into a cycle: the engine's findings."""
    from virtc.lint.rules import vt213_postmaster_rejected as vt213

    table = parse_text("".join(f"@d{i}.example\t%1@d{i + 1}.example\n" for i in range(length))
                       + f"@d{length}.example\t{end}\n")
    found = _check(vt213, table)
    with patch.object(vt213, "_HOPS", 0):
        assert found == _check(vt213, table)
    assert found or end.startswith("%")


_FWD_ROW = st.tuples(st.sampled_from(["a", "b", "@", "a+*", "A"]), st.integers(0, 3),
                    st.sampled_from(["%1@d1.example", "%1%3@d2.example", "a%3@d0.example",
                                     "b%2@remote.example", "%1@remote.example", "x%3@D1.EXAMPLE",
                                     "error:5.1.1:550 no", "root", "%1.x@d3.example", "b@d0.example", "%0.VM",
                                     "@"]))


@settings(max_examples=500, deadline=None)
@given(st.lists(_FWD_ROW, max_size=12))
@example([("a", 0, "a%3@d1.example"), ("@", 0, "error:5.1.1:550 no")])  # into d1, open
@example([("a", 0, "a%3@remote.example"), ("@", 0, "error:5.1.1:550 no"), ("b", 1, "root")])
def test_catch_all_fix_skips_only_percent_values_handed_on_elsewhere(
        rows: list[tuple[str, int, str]]) -> None:
    """The catch-all fix resolves an exact key whose %N value hands its address on outside
    the open and forwarding domains no more (#18): it keeps the same addresses."""
    from virtc.lint import catch_all
    from virtc.lint.catch_all import CatchAllFix

    table = _rows_table(rows)

    def forwarded() -> dict[str, dict[str, str]]:
        return CatchAllFix(table, LintContext(LintConfig(), None))._forwarded()

    found = forwarded()
    with patch.object(catch_all, "first_hop_elsewhere", lambda *args: False):
        assert found == forwarded()
    event(f"domains with kept addresses: {min(len(found), 2)}")


_SHARED_CA_ROW = st.tuples(st.sampled_from(["postmaster", "a", "@", "+*", "postmaster+*"]), st.integers(0, 4),
                          st.sampled_from(["root", "error:5.1.1:550 no", "error:5.7.1:550 %1 gone",
                                           "error:5.1.1:550 no ", "%1@d1.example", "x@d0.example", "a!b",
                                           "error:4.2.1:450 later", "postmaster", "%1%3@d2.example",
                                           "%1@d0.example"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(_SHARED_CA_ROW, max_size=12))
# an alias to a domain whose own postmaster key rejects (not its catch-all)
@example([("@", 2, "error:4.2.1:450 later"), ("@", 0, "%1@d1.example"),
          ("postmaster", 1, "error:5.1.1:550 no"), ("@", 1, "error:4.2.1:450 later")])
def test_vt213_resolves_once_per_catch_all_value_what_it_resolves_per_domain(
        rows: list[tuple[str, int, str]]) -> None:
    """VT213 resolves postmaster@ once per catch-all value that names nothing (#18): the same
    findings as resolving it in every domain."""
    from virtc.lint.rules import vt213_postmaster_rejected as vt213

    table = _rows_table(rows)

    def findings() -> list[Finding]:
        return _check(vt213, table)

    found = findings()
    with patch.object(Engine, "by_catch_all", lambda self, user, domain, value: None):
        assert found == findings()
    event(f"VT213 findings: {min(len(found), 3)}")


_ERROR_BITS = st.sampled_from(["error", "ERROR", ":", " ", "\t", "\r", "\x0c", "\xa0", "5", "4", "2", "0",
                               ".", "550", "451", "5.1.1", "550 ", "x", "User unknown", "\xe9", "\x7f"])
_ERROR_VALUE = st.lists(_ERROR_BITS, min_size=1, max_size=10).map("".join)


@settings(max_examples=1000, deadline=None)
@given(st.lists(_ERROR_VALUE, max_size=20))
@example(["error:5.1.1:550 User unknown", "error:5.1.1:550 ", "error:5.1.1:550  x", "error : 55.1.1:550 a",
          "error:5.1.1:450 a", "error:4.1.1:550 a", "error:5.1.1:550 caf\xe9", "error:5.1.1:550 a\r"])
def test_plain_rejects_are_errors_no_error_rule_reports(values: list[str]) -> None:
    """VT201, VT208 and VT209 skip plain rejects: each must be a DSN-form ``error:``
    value with a 5xx reply and no VT201 problem (and VT201 still counts it as an error)."""
    table = parse_text("".join(f"k{i}@d {v}\n" for i, v in enumerate(values)))
    ix = index(table, LintContext(LintConfig(), None))
    plain = set(table.values.matching(re.compile("\n" + PLAIN_REJECT)))
    assert plain.isdisjoint(i for i, _ in ix.error_values)
    for i in plain:
        event("plain reject")
        err = Value.parse(table.values[i]).error
        assert err is not None and err.dsn_form and err.status[0] == "5", table.values[i]
        assert err.text[:1] == "5" and not list(problems(err)), table.values[i]
    parsed = {i for i, v in ix.error_values} | plain
    assert parsed == {i for i, text in enumerate(table.values) if Value.parse(text).error is not None}


_TARGET_BITS = st.sampled_from(["a", "@", "b.c", "error", "ErRoR:", "|", "/", '"', "!", ":", " ", "\t", ",",
                                "\x0b", "\x0c", "\r", "<", ">", "(", ")", "\\", "\xa0", "x" * 250])
_TARGET = st.lists(_TARGET_BITS, min_size=1, max_size=6).map("".join)


@settings(max_examples=500, deadline=None)
@given(st.lists(_TARGET, max_size=20))
def test_vt202_scan_is_its_definition(values: list[str]) -> None:
    """VT202 looks closer at values that do not start with 'error' and have a special first
    character, 257 characters or more, or a blank, comma or prescan special anywhere."""
    found = list(Column.of(values).matching(SUSPECTS))
    assert found == [i for i, v in enumerate(values) if not v.lower().startswith("error") and (
        v[:1] in set('|/"@!:') or len(v) >= 257 or any(c in v for c in " \t,\x0b\x0c<>()\"\\"))]


@settings(max_examples=300, deadline=None)
@given(st.lists(_KEY, max_size=20))
@example(["@d", "a@d", "@D", "b@e", "+*@e", "x@.", "@e"])
def test_domains_by_position_are_the_mapping(keys: list[str]) -> None:
    """The domains' arrays (what rules that walk every domain read) say what the mapping says,
    and each domain is at one position (#18: no object per domain)."""
    table = parse_text("".join(f"{k} v\n" for k in keys))
    with patch("virtc.speed.column.SCAN_BLOCK", 2):  # (the keys' column searched in many blocks)
        doms = index(table, LintContext(LintConfig(), None)).domains
    names = list(doms)
    assert len(set(names)) == len(names) == len(doms)
    for p, name in enumerate(names):
        dom = doms[name]
        assert doms.position(name) == p and doms.at(p) == dom == doms.get(name) and name in doms
        assert dom.keys == sum(1 for k in table.stored_keys if "@" in k and k.rpartition("@")[2] == name)
        assert (doms.catch_alls[p] == NO_CATCH_ALL) == (dom.catch_all is None)
        assert doms.catch_alls[p] == next((i for i, k in enumerate(table.stored_keys) if k == f"@{name}"),
                                          NO_CATCH_ALL)
        assert doms.may_have_keys(p) == may_have_keys(dom)
    assert doms.get("nowhere.example") is None and doms.may_have_keys(None)
    assert list(doms.with_catch_all()) == [p for p, d in enumerate(doms.values()) if d.catch_all is not None]
    assert list(doms.without_catch_all()) == [p for p, d in enumerate(doms.values()) if d.catch_all is None]
    assert list(doms.catch_all_entries(without=KeyKind.DOMAIN_ANY)) == [
        d.catch_all for d in doms.values() if d.catch_all is not None and not d.has(KeyKind.DOMAIN_ANY)]
    assert set(doms.keys()) == set(names) and dict(doms.items()) == {n: doms[n] for n in names}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["postmaster", "PostMaster", "post", "postmaster+x", "",
                                           "a@postmaster"]),
                          st.sampled_from(["a", "B", "a@b", "", "c.d", "x."])), max_size=12))
@example([("postmaster", "a"), ("PostMaster", "A"), ("postmaster", "x."), ("postmaster", "B")])
def test_named_finds_what_the_key_index_finds(rows: list[tuple[str, str]]) -> None:
    table = parse_text("".join(f"{user}@{dom} v{i}\n" for i, (user, dom) in enumerate(rows)))
    ix = index(table, LintContext(LintConfig(), None))
    named: dict[str, int] = {}
    for at, entries in ix.named("postmaster"):
        for name, i in zip(map(ix.domains.names.__getitem__, at), entries):
            assert named.setdefault(name, i) == i, name  # (each domain once)
    for dom in {d.lower().rpartition("@")[2] for _, d in rows} | {"a", "b", "zz"}:
        expected = table.key_index.first(f"postmaster@{dom}") if dom in ix.domains else None
        assert named.get(dom) == expected, dom


_FORWARD_ROW = st.tuples(st.sampled_from(["a", "b", "c", "@", "+*", "a+*"]), st.integers(0, 2),
                         st.sampled_from(["a@d1.example", "B@D2.EXAMPLE", "c@d0.example.", "x@d1.example",
                                          "a+y@d2.example", "root", "error:5.1.1:550 no", "r@remote.example",
                                          "%1@d1.example", " a@d0.example "]))


@settings(max_examples=300, deadline=None)
@given(st.lists(_FORWARD_ROW, max_size=12))
@example([("a", 0, "b@d1.example"), ("@", 1, "%1@d2.example"), ("b", 2, "root")])  # through an alias
@example([("a", 0, "b@d1.example"), ("@", 1, "%1@d2.example"), ("b", 2, "error:5.1.1:550 no")])
@example([("a", 0, "a+y@d2.example"), ("+*", 2, "root"), ("@", 2, "error:5.1.1:550 no")])  # a '+' key hit
@example([("a", 0, "a+y@d2.example"), ("+*", 2, "b@d1.example"), ("@", 2, "root"),
          ("@", 1, "error:5.1.1:550 no")])  # the '+' key's forward is rejected, not the catch-all's user
def test_vt211_after_vt205_finds_what_it_finds_alone(rows: list[tuple[str, int, str]]) -> None:
    """VT211 skips the forwards whose target VT205 found an entry for (#18): run after VT205
    in one process, it must report what it reports alone."""
    from virtc.lint.rules import vt205_forwarding_loop as vt205
    from virtc.lint.rules import vt211_dangling_forward as vt211

    table = _rows_table(rows)
    alone = sorted(_check(vt211, table))
    table = _rows_table(rows)
    ctx = LintContext(LintConfig(), None)
    list(vt205.check(table, ctx))
    assert sorted(vt211.check(table, ctx)) == alone
    event(f"VT211 findings: {min(len(alone), 2)}")


_ALIASED_ROW = st.tuples(st.sampled_from(["bob", "al", "bob+*"]), st.integers(0, 2),
                        st.sampled_from(["bob@d1.example", "al@d0.example", "bob", "al", "bob+x@d1.example"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALIASED_ROW, max_size=6), st.sampled_from(["%1", "%1@d1.example", "%1%3@d0.example"]),
       st.sampled_from(["%1", "bob", "%1@d0.example"]))
def test_vt105_skips_only_domains_whose_catch_all_is_their_only_key(
        rows: list[tuple[str, int, str]], first: str, second: str) -> None:
    """VT105 does not scan a %N catch-all's domain for candidates when the catch-all is the
    domain's only key (#18: tens of thousands of domain aliases): the same findings as with
    every such domain scanned."""
    from virtc.lint.rules import vt105_redundant_entry as vt105

    table = _rows_table([*rows, ("@", 0, first), ("@", 1, second), ("@", 2, first)])

    def findings() -> list[Finding]:
        return _check(vt105, table)

    found = findings()
    with patch.object(TableIndex, "keys_in", lambda self, name: 1 << 30):  # every domain scanned
        assert found == findings()
    event(f"VT105 findings: {min(len(found), 2)}")


_AT_ROW = st.tuples(st.sampled_from(["bob", "al", "bob+x", "+*", "bob+*"]), st.integers(0, 1),
                   st.sampled_from(["bob", "al", "bob@remote.example", "BOB@remote.example ",
                                    "bob@d1.example", "bob%@remote.example", "%1@remote.example",
                                    "bob remote.example", "@", "bob+x@remote.example", "bob@",
                                    "bob@remote.example ", "bob  @remote.example", "bob@remote .example",
                                    "bob@remote.example\xa0x", "bob@remote.example x"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(_AT_ROW, max_size=6),
       st.sampled_from(["%1@remote.example", "%1%3@remote.example", "%1%%@remote.example", "%1%@x",
                        "%1 @remote.example", "%1", "%1%3", "%1@", "%1%%remote", "%1@remote.example ",
                        "%1@remote .example", "%1@remote.example\xa0x", "%1@%2remote.example",
                        "%0@remote.example"]))
@example([("bob", 0, "bob@remote.example")], "%1@remote.example")  # redundant
@example([("bob", 0, "bob%@x")], "%1%@x")  # '%@' is kept as written
@example([("bob", 0, "bob@remote.example ")], "%1@remote.example")  # the same words: the engine's
@example([("bob", 0, "bob"), ("al", 1, "al")], "%1")  # beside a domain whose catch-all holds an '@'
@example([("bob", 0, "bob@remote.example"), ("al", 0, "al")], "%1%3@remote.example")  # the detail kept
@example([("bob", 0, "bob@remote  .example")], "%1@remote .example")  # the same words, other blanks
@example([("bob", 0, "bob@remote.example")], "%1@remote.example ")  # a blank after the catch-all's
@example([("bob", 0, "bob@remote.example\xa0x")], "%1@remote.example\xa0x")  # (\xa0 splits words)
@example([("bob", 0, "bob@remote.example"), ("+*", 0, "%1@remote.example")],
         "%1%3@remote.example")  # '+*@d' drops the detail too: redundant
@example([("x" * 243, 0, "a@remote.example")], "a%3@remote.example")  # user+detail@d too long
@example([("bob", 0, "bob.d0")], "%1%3.d0")  # local names: the catch-all keeps the detail, the value not
@example([("bob", 0, "bob.d0")], "%1.d0")  # the same name for every detail: redundant
def test_vt105_template_words_pick_what_the_loop_compares(
        rows: list[tuple[str, int, str]], catch_all: str) -> None:
    """VT105 compares a value without '%' beside a %N catch-all with what the catch-all
    gives in one batch, after leaving out those without '@' where the catch-all's own text
    holds one (#18: 300k 'user@d  box' beside '@d  %1%3@store') and those that do not end
    as its texts do (#18: 440k 'user@d  u@gmail.com' beside it), and settles in a batch
    those whose '+detail' the catch-all hands on elsewhere: the same findings as comparing
    every such value in the loop and asking the engine."""
    from virtc.lint.rules import vt105_redundant_entry as vt105

    table = _rows_table([*rows, ("@", 0, catch_all), ("@", 1, "%1@d0.example")])

    def findings() -> list[Finding]:
        return _check(vt105, table)

    found = findings()
    every = patch.object(vt105, "template_words", lambda ix, entries, templates, local, _: (entries, [], []))
    keys = patch.object(vt105, "template_keys", lambda ix, templates: [
        i for i, key in enumerate(ix.stored_keys) if key.rpartition("@")[2] in templates])
    with every, keys, patch.object(vt105.PlainlyRedundant, "__call__", lambda self, *args: None):
        # (every value compared in the loop, the engine deciding)
        assert found == findings()
    event(f"VT105 findings: {min(len(found), 2)}")


_DANGLING_ROW = st.tuples(st.sampled_from(["a", "b", "z", "@", "@", "a+*", "z+*", "++", "+*"]),
                          st.integers(0, 3),
                          st.sampled_from(["z@d1.example", "a@d2.example", "b@D0.EXAMPLE", "a+x@d1.example",
                                           "z+x@d1.example", "b+@d2.example", "+x@d1.example",
                                           "own+%1", "error:5.1.1:550 %1 is gone", "%1@remote.example",
                                           "root", "error:5.1.1:550 no", "error:5.7.1:550 %1 gone",
                                           "%1@d2.example", "%1%3@d0.example", "%1@remote.example",
                                           "x@d3.example", "a!b"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(_DANGLING_ROW, max_size=12))
@example([("@", 2, "error:5.1.1:550 no"), ("a", 0, "z@d1.example"), ("@", 1, "error:5.1.1:550 no")])
@example([("a", 0, "a@d1.example"), ("@", 1, "%1@d2.example"), ("a", 2, "root"), ("@", 2, "root")])
@example([("a", 0, "a@d1.example"), ("@", 1, "%1@d2.example"), ("a", 2, "error:5.1.1:550 no")])
@example([("@", 1, "error:5.7.1:550 %1 no"), ("a", 0, "z@d1.example"), ("b", 0, "y@d1.example")])  # per user
@example([("b", 3, "z@d2.example"), ("@", 2, "error:5.1.1:550 no"), ("a", 0, "a+x@d1.example"),
          ("a+*", 1, "root"), ("@", 1, "error:5.1.1:550 no")])  # a cached value must not serve '+detail'
@example([("a", 0, "z@d1.example"), ("@", 1, "error:5.1.1:550 %1 is gone")])  # a text per user
@example([("a", 0, "z@d1.example"), ("@", 1, "%1@d2.example"), ("@", 2, "error:5.1.1:550 no")])
@example([("a", 0, "z@d1.example"), ("@", 1, "own+%1")])
@example([("a", 0, "z+x@d1.example"), ("@", 1, "error:5.1.1:550 no")])  # '+detail': as its user
@example([("a", 0, "z+x@d1.example"), ("@", 1, "error:5.1.1:550 no"), ("+*", 1, "root")])
@example([("a", 0, "z+x@d1.example"), ("b", 0, "b+x@d1.example"), ("@", 1, "error:5.1.1:550 no"),
          ("b", 1, "root")])  # after a cached reply for 'z': 'b+x' has the key 'b@' first
@example([("a", 0, "z+x@d1.example"), ("@", 1, "%1@d2.example"), ("@", 2, "error:5.1.1:550 no")])
@example([("a", 0, "z+x@d1.example"), ("@", 1, "%1%3@d2.example"), ("z", 2, "root"),
          ("z+*", 2, "error:5.1.1:550 no")])  # the detail goes on to 'z+*@d2' first
@example([("a", 0, "z+x@d1.example"), ("+*", 1, "error:5.1.1:550 no"), ("@", 1, "root")])  # '+*@' rejects
@example([("a", 0, "z+x@d1.example"), ("z+*", 1, "root"), ("@", 1, "error:5.1.1:550 no")])  # ... delivers
def test_vt211_without_the_engine_finds_what_the_engine_finds(rows: list[tuple[str, int, str]]) -> None:
    """VT211 decides forwards to keyless users by their domain's catch-all value (#18: once
    per value, through domain aliases, and '+detail' through the keys it meets first): the
    same findings as the engine for each."""
    from virtc.lint.rules import vt211_dangling_forward as vt211

    table = _rows_table(rows)

    def findings() -> list[Finding]:
        return sorted(_check(vt211, table))

    found = findings()
    with patch.object(vt211, "without_engine", lambda ix, eng, target: None):
        assert found == findings()
    event(f"VT211 findings: {min(len(found), 2)}")


_ALIAS_VALUES = ["%1@b.example", " %1%3@B.Example\t", "%1@", "x%1@b.example", "%1@b.example x",
                 "%2@b.example", "%1@b@c", "\x0b%1@b-1.example", "error:5.1.1:550 %1", "%1%3@b.example.",
                 "local"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["@", "a", "@"]), st.integers(0, 3),
                          st.sampled_from(_ALIAS_VALUES)), max_size=10))
def test_domain_aliases_are_the_definition(rows: list[tuple[str, int, str]]) -> None:
    """TableIndex.aliases (only the catch-alls among the values with '%' are tried) is every
    domain whose catch-all value DOMAIN_ALIAS matches, in the domains' order; those
    catch-alls (``percent_catch_alls``) are every domain's catch-all entry with a '%'."""
    from virtc.lint.shared import DOMAIN_ALIAS

    ix = TableIndex(_rows_table(rows))
    expected = {name: m[1].lower() for name, dom in ix.domains.items()
                if dom.catch_all is not None and (m := DOMAIN_ALIAS.fullmatch(ix.values[dom.catch_all]))}
    assert list(ix.aliases.items()) == list(expected.items()) and len(ix.aliases) == len(expected)
    assert [ix.aliases.at(p) for p in range(len(ix.domains))] == list(map(expected.get, ix.domains))
    assert ix.aliases.get("nowhere.example") is None and "nowhere.example" not in ix.aliases
    with_pct = [dom.catch_all for dom in ix.domains.values()
                if dom.catch_all is not None and "%" in ix.values[dom.catch_all]]
    assert list(ix.percent_catch_alls) == sorted(with_pct)
    event(f"aliases: {min(len(expected), 2)}")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["++", "+*", "+*", "a++", "a+*", "a+b++", "@", "++ "]),
                          st.integers(0, 3), st.sampled_from(["v", "w"])), max_size=12))
def test_domain_wildcards_are_the_key_lookups(rows: list[tuple[str, int, str]]) -> None:
    """TableIndex.find of a domain's own '++@d' and '+*@d' (kept per domain position), and
    own_wildcards by position, are the key index's first entry of that key, repeats and all."""
    ix = TableIndex(_rows_table(rows))
    for name, dom in ix.domains.items():
        for kind, shape in ((KeyKind.DOMAIN_PLUS, "++@"), (KeyKind.DOMAIN_ANY, "+*@")):
            assert ix.find(dom, kind) == ix.table.key_index.first(shape + name), (name, kind, rows)
        p = ix.domains.position(name)
        assert p is not None
        assert ix.own_wildcards(p) == (ix.find(dom, KeyKind.DOMAIN_PLUS), ix.find(dom, KeyKind.DOMAIN_ANY))
    event(f"wildcards: {min(len(ix.wildcards), 2)}")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["@", "a", "b", "A"]), st.integers(0, 3), st.just("v")),
                max_size=14))
@example([("a", 0, "v"), ("b", 1, "v"), ("a", 0, "v"), ("b", 0, "v"), ("a", 1, "v")])
def test_last_line_counts_every_entry_of_the_domain(rows: list[tuple[str, int, str]]) -> None:
    """Where a domain's catch-all goes (VT101, VT102): after its last line, repeats
    makemap does not store included, found once for all domains (#18: a loop over every
    repeat per domain took 40 s at 200k entries with 2k repeats)."""
    table = _rows_table(rows)
    ix = index(table, LintContext(LintConfig(), None))
    for name in ix.domains:
        assert ix.last_line(name) == max(table.lines[i] for i, k in enumerate(table.stored_keys)
                                        if k.rpartition("@")[2] == name)



@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a@d0.example", "A@D0.EXAMPLE", "d0.example", "b@d1.example",
                                 "@d1.example", "x@y@d1.example", "c@d0.example.", "d@bad..example", "e@",
                                 "@"]), max_size=12))
@example(["d0.example", "a@d0.example", "a@d0.example"])
@example(["d0.example", "d0.example", "a@d0.example", "@", "@", "e@", "e@"])
def test_extent_is_the_definition(keys: list[str]) -> None:
    """TableIndex.extent (arrays by domain position, #18: dicts by name took 67 MB on 285k
    open domains) is the first, count and last of the domain's stored keys with an '@'
    (a repeat makemap does not store, or a key without '@' of the same text, not counted)."""
    table = parse_text("".join(f"{key}\tv\n" for key in keys))
    ix = index(table, LintContext(LintConfig(), None))
    later = table.key_index.later
    for name in ix.domains:
        mine = [i for i, k in enumerate(table.stored_keys)
                if "@" in k and k.rpartition("@")[2] == name and i not in later]
        assert ix.extent(name) == (mine[0], len(mine), mine[-1])
    with pytest.raises(KeyError):
        ix.extent("no.such.example")
    # extents_at (VT101: at once for its 285k open domains) and key_spans_at read the same
    stored = {k.rpartition("@")[2] for i, k in enumerate(table.stored_keys) if "@" in k and i not in later}
    with_entries = [p for p, name in enumerate(ix.domains.names) if name in stored]
    at = ix.extents_at(with_entries)
    names = ix.domains.names.take(with_entries)
    assert at == ([ix.extent(n).first for n in names], [ix.extent(n).entries for n in names],
                  [ix.last_line(n) for n in names])
    table.key_columns.update((i, 2 + i % 3) for i in at[0][::2])  # (a key after another record's)
    assert list(key_spans_at(table, at[0])) == [key_span_at(table, i) for i in at[0]]

def test_vt101_finds_no_extents_when_every_domain_has_a_catch_all() -> None:
    """The domains' extents are found for all domains at once (0.6 s at 1M entries, in each
    process of a lint): VT101 must not ask for them when it reports no domain (a regression
    cost the tiny, aliases and plus shapes that much)."""
    from virtc.lint.rules import vt101_missing_catch_all as vt101

    table = _rows_table([("a", 0, "x"), ("@", 0, "error:5.1.1:550 no"), ("b", 1, "y"), ("@", 1, "z")])
    ctx = LintContext(LintConfig(), None)
    assert list(vt101.check(table, ctx)) == []
    assert "_extents" not in index(table, ctx).__dict__
    table = _rows_table([("a", 0, "x"), ("@", 0, "error:5.1.1:550 no"), ("b", 1, "y")])
    ctx = LintContext(LintConfig(), None)
    assert len(list(vt101.check(table, ctx))) == 1
    assert "_extents" in index(table, ctx).__dict__  # (what the test above looks for)


_UNNAMED_KEYS = st.sampled_from(["postmaster@d0.example", "@d0.example", "POSTMASTER@D1.EXAMPLE",
                                 "+*@d1.example", "postmaster++@d1.example", "abuse@d2.example", "@localhost",
                                 "postmaster@localhost", "x@d3.example.", "postmaster@d3.example"])
_UNNAMED_VALUES = st.sampled_from(["root", "@", "!", "%1@d2.example", "error:5.1.1:550 no",
                                   "a@remote.example"])
_UNNAMED_ADDRESSES = ["postmaster@d0.example", "Postmaster@D1.Example", "postmaster+x@d1.example",
                      "abuse@d2.example", "postmaster@d3.example", "postmaster@d3.example.",
                      "postmaster@localhost", "postmaster@remote.example", "post_master@d4.example",
                      "a.b@d2.example", "x@[127.0.0.1]", "\"postmaster\"@d2.example", "p%q@d0.example",
                      "p!q@d2.example", "a" * 250 + "@d2.example"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_UNNAMED_KEYS, _UNNAMED_VALUES), max_size=8), st.booleans())
def test_unnamed_is_what_the_engine_says(rows: list[tuple[str, str]], listed: bool) -> None:
    """The catch-all fix's shortcut: an address no key answers first, as the engine says
    (the domains of the table, or listed local domains)."""
    table = parse_text("".join(f"{k}\t{v}\n" for k, v in rows))
    local = frozenset({"d0.example", "d2.example", "d4.example", "localhost"}) if listed else None
    eng = Engine(index(table, LintContext(LintConfig(), None)), local)
    for address in _UNNAMED_ADDRESSES:
        r = eng.resolve(address)
        assert eng.unnamed(address) == (bool(r.steps) and r.steps[0].key is None), address



_VT207_DOMAINS = ["d0.example", "d1.example", "d2.example", "D3.Example", "localhost", "d4.example",
                  "x" * 250 + ".example", "under_score.example"]
_VT207_ROW = st.tuples(st.sampled_from(["@", "@", "@", "a", "virtc-probe", "+*", "++"]),
                       st.integers(0, len(_VT207_DOMAINS) - 1),
                       st.sampled_from(["%1@d1.example", "%1%3@d2.example", "%1@D3.EXAMPLE", "%1@d0.example",
                                        "%1@remote.example", "root", "error:5.1.1:550 no", "error:nouser x",
                                        "@", "a@d0.example", "a@remote.example", "%1@d1.example.", "x!y",
                                        "%2@d1.example", "%1%3@d4.example", "error:4.2.2:450 later",
                                        "%1 @d2.example", "a", " %1@d1.example", "%1@d1.example \t",
                                        "%1-x@remote.example", "%1-x@d1.example", "x%1@d2.example",
                                        "%1@localhost", "%1@" + "x" * 250 + ".example", "%1.%2@d0.example",
                                        "%1@under_score.example", "virtc-probe@d1.example", "b@d1.example",
                                        "a@d1.example"]))


@contextmanager
def _vt207_by_engine() -> Iterator[None]:
    """VT207 asking the engine of every domain: no step of its own, nothing at once."""
    from virtc.lint.rules import vt207_catch_all_accepts_all as vt207

    def by_engine(self: vt207.UnknownRejected, name: str, depth: int) -> tuple[tuple[bool, int], str]:
        r = self.engine.resolve(f"virtc-probe@{name}")
        return (r.kind in ("error", "loop"), len(r.steps)), name

    def none(self: vt207.UnknownRejected, names: list[str], texts: list[str],
             places: object = None) -> list[None]:
        return [None] * len(names)

    with patch.object(vt207.UnknownRejected, "_step", by_engine), \
            patch.object(vt207.UnknownRejected, "at_once", none):
        yield


def _vt207_table(rows: list[tuple[str, int, str]]) -> Table:
    return parse_text("".join(f"{'' if user == '@' else user}@{_VT207_DOMAINS[d]}\t{value}\n"
                              for user, d, value in rows))


@settings(max_examples=800, deadline=None)
@given(st.lists(_VT207_ROW, max_size=12), st.booleans())
@example([("@", 1, "%1@d0.example"), ("@", 0, "%1@d1.example")], False)  # a cycle of aliases
@example([("@", 1, "%1%3@d2.example"), ("@", 2, "%1%3@d0.example"), ("@", 0, "error:5.1.1:550 no")], False)
@example([("@", 1, "%1@d0.example"), ("+*", 0, "root"), ("@", 0, "error:5.1.1:550 no")], False)
@example([("@", 4, "%1@d0.example"), ("@", 0, "error:5.1.1:550 no")], False)  # localhost
@example([("a", 0, "root"), ("@", 0, "error:5.1.1:550 no"), ("@", 1, "error:5.1.1:550 no"),
          ("@", 2, "a@d0.example"), ("@", 5, "b@d1.example"), ("@", 3, "a@d0.example")], False)  # by value
def test_vt207_decides_unknown_users_as_the_engine_does(rows: list[tuple[str, int, str]],
                                                        local: bool) -> None:
    """VT207 decides per domain whether an address nobody names is rejected (#18: 35k domain
    aliases): the same answer as resolving ``virtc-probe@D`` through the engine, and the same
    findings as asking the engine for every domain."""
    from virtc.lint.engine import shared_engine
    from virtc.lint.rules import vt207_catch_all_accepts_all as vt207

    table = _vt207_table(rows)
    domains = frozenset({"d0.example", "d1.example", "d2.example", "localhost"}) if local else None
    ctx = LintContext(LintConfig(), domains)
    ix, eng = index(table, ctx), shared_engine(table, ctx)
    rejects = vt207.UnknownRejected(table, ctx)
    for name in [*ix.domains, "d3.example", "remote.example", "localhost"]:
        expected = eng.resolve(f"virtc-probe@{name}").kind in ("error", "loop")
        assert rejects(name) == (expected and not rejects.named), (name, rows)
        event(f"rejected: {expected}")
        p = ix.domains.position(name)
        if p is not None and ix.domains.catch_alls[p] != NO_CATCH_ALL:
            at_once = rejects.at_once([name], [ix.values[ix.domains.catch_alls[p]]])[0]
            assert at_once in (None, expected and not rejects.named), (name, rows)
            event(f"at once: {at_once is not None}")

    def findings() -> list[Finding]:
        return sorted(vt207.check(table, LintContext(LintConfig(), domains)))

    found = findings()
    with _vt207_by_engine():
        assert found == findings()
    event(f"VT207 findings: {min(len(found), 2)}")
    for f in found:  # (made from the columns: as from the Entry and its Value)
        e = next(e for e in table.entries if e.line == f.line)
        assert (f.line, f.column, f.end_line, f.end_column) == value_span(e)
        assert Value.parse(e.value_text).kind in (ValueKind.LOCAL, ValueKind.ADDRESS)
        assert f"'{e.key_text}' forwards" in f.message and f"to '{shown(e.value_text)}'" in f.message



@settings(max_examples=150, deadline=None)
@given(st.integers(1, 40), st.sampled_from(["%1@remote.example", "root", "error:5.1.1:550 no",
                                            "%1@top.example", "%1%3@a3.example"]),
       st.randoms(use_true_random=False), st.booleans())
@example(20, "%1@remote.example", random.Random(0), False)
def test_vt207_alias_chains_as_the_engine_whatever_their_length(length: int, end: str, rng: random.Random,
                                                                 shuffled: bool) -> None:
    """A chain of domain aliases (``@aK  %1%3@aK-1``) down to a catch-all that accepts,
    rejects or closes a cycle: past sendmail's recursion limit the probe is rejected (a
    loop), in whatever order the lines come and the domains are asked."""
    from virtc.lint.engine import shared_engine
    from virtc.lint.rules import vt207_catch_all_accepts_all as vt207

    lines = [f"@top.example\t{end}\n"] + [f"@a{k}.example\t%1%3@{f'a{k - 1}' if k else 'top'}.example\n"
                                            for k in range(length)]
    if shuffled:
        rng.shuffle(lines)
    table = parse_text("".join(lines))
    ctx = LintContext(LintConfig(), None)
    ix, eng = index(table, ctx), shared_engine(table, ctx)
    rejects = vt207.UnknownRejected(table, ctx)
    names = list(ix.domains)
    rng.shuffle(names)
    for name in names:
        assert rejects(name) == (eng.resolve(f"virtc-probe@{name}").kind in ("error", "loop")), name
    found = sorted(vt207.check(table, LintContext(LintConfig(), None)))
    with _vt207_by_engine():
        assert found == sorted(vt207.check(table, LintContext(LintConfig(), None)))


_NEXT_KEYS = st.sampled_from(["u+t@d0.example", "u+t@d0.example", "u+s@d0.example", "u++@d0.example",
                              "u+*@d0.example", "u@d0.example", "++@d0.example", "+*@d0.example",
                              "@d0.example", "U+T@d0.example", "u+t@d1.example", "u@d1.example"])
_NEXT_VALUES = st.sampled_from(["lo%3", "lo", "lo+%2", "%1", "lo+t", "%1@d1.example", "@", "!", " @ ",
                                "%2@d0.example", "u+t@d0.example", "lo%3@d1.example", "error:5.1.1:550 no"])


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(_NEXT_KEYS, _NEXT_VALUES), max_size=8).map(
    lambda rows: [("u+t@d0.example", "lo%3"), *rows]))
@example([("u+t@d0.example", "lo%3"), ("u@d0.example", "lo"), ("@d0.example", "error:5.1.1:550 no")])
@example([("u+t@d0.example", "%1"), ("u+*@d0.example", "u+%2")])
@example([("u+t@d0.example", "lo%3"), ("u++@d0.example", "lo+%2"), ("u@d0.example", "lo"),
          ("@d0.example", "lo")])  # (u++ first)
@example([("u+t@d0.example", "lo%3"), ("u+*@d0.example", "lo+%2"), ("u@d0.example", "lo"),
          ("@d0.example", "lo")])
@example([("u+t@d0.example", "lo%3"), ("++@d0.example", "lo+%2"), ("@d0.example", "lo%3")])
@example([("u+t@d0.example", "lo%3"), ("u@d0.example", "!"), ("@d0.example", "lo%3")])
def test_vt105_same_as_next_key_is_what_the_engine_says(rows: list[tuple[str, str]]) -> None:
    """An exact '+detail' key whose value gives the very text the next key gives: the
    engine resolves its address the same without it, and VT105 finds what it finds asking
    the engine of every such key."""
    from virtc.lint.engine import shared_engine
    from virtc.lint.rules import vt105_redundant_entry as vt105

    table = parse_text("".join(f"{k}\t{v}\n" for k, v in rows))
    ctx = LintContext(LintConfig(), None)
    ix, eng = index(table, ctx), shared_engine(table, ctx)
    for i in range(len(ix.entries)):
        stored, value = ix.stored_keys[i], ix.values[i]
        if "+" in stored.partition("@")[0][1:] and i not in ix.shadowed_by_duplicate and \
                vt105.same_as_next(stored, value, eng.table.get, eng.domains):
            event("the same text as the next key")
            hidden = eng.hiding(stored)
            a, b = eng.resolve(stored), eng.resolve(stored, hidden)
            assert a.chain[:1] == (stored,) and (a.kind, a.result, a.status, a.text) == \
                (b.kind, b.result, b.status, b.text), rows
    found = _check(vt105, table)
    with patch.object(vt105, "same_as_next", lambda *args: False):
        assert found == _check(vt105, table)


_LONG_LINE = "a@x.example\t" + "v" * (CHUNK - 12) + "b@x.example\tw\n"
"""A line makemap reads as two records, the second's key at column CHUNK + 1."""


@pytest.mark.parametrize("source", [_LONG_LINE, *(p.read_bytes().decode("latin-1")
                                                  for p in sorted(Path("tests/data/rules").glob("*/*.vt")))])
def test_spans_at_are_the_entrys(source: str) -> None:
    """key_span_at and value_span_at (VT101, VT107, VT205: no Entry per finding) are
    key_span and value_span of the entry, on a long line split into records (a key past
    column 1) and every rule fixture."""
    table = parse_text(source)
    entries = range(len(table.entries))
    assert [key_span_at(table, i) for i in entries] == list(map(key_span, table.entries))
    assert [value_span_at(table, i) for i in entries] == list(map(value_span, table.entries))


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(st.sampled_from("@eEroR: x"), max_size=7), max_size=14), st.integers(0, 8))
@example(["a@b", "error:x@y", "ERROR", "err@", "@"], 0)
def test_forwards_split_is_forwards_found(values: list[str], block: int) -> None:
    """TableIndex.forwards' two ways (where most values have an '@', split a block at a time;
    else every '@' found): the values with an '@' whose first five characters are no
    'error' in any case."""
    import virtc.speed.column

    col = Column.of(values)
    expected = [i for i, v in enumerate(values) if "@" in v and v[:5].lower() != "error"]
    with patch.object(virtc.speed.column, "SCAN_BLOCK", block):
        assert list(forwards_split(col)) == expected
    assert list(forwards_found(col)) == expected
    event(f"forwards: {min(len(expected), 2)}")


class _NoneTheLongWay(dict):  # type: ignore[type-arg]
    """CatchAllFix._forwarded's answer, saying "no address" the long way ({} for None)."""

    def get(self, key: object, default: object = None) -> object:
        return super().get(key) or {}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["postmaster", "a", "b", "@", "abuse"]), st.integers(0, 3),
                          st.sampled_from(["root", "a@d1.example", "b@d2.example", "@", "x@remote.example"])),
                max_size=10))
def test_catch_all_fix_alone_is_the_long_way(rows: list[tuple[str, int, str]]) -> None:
    """The catch-all fix of a domain with nothing to keep (#18: 285k open domains with
    their postmaster: the catch-all alone, no keep test) is the same whether no forward
    reaches the domain or an empty set of forwarded addresses does."""
    from virtc.lint.catch_all import CatchAllFix

    table = _rows_table(rows)
    ctx = LintContext(LintConfig(), None)
    ix = index(table, ctx)
    names = [ix.domains.names[p] for p in ix.domains.without_catch_all()]
    lines = [ix.last_line(name) for name in names]
    quick = list(CatchAllFix(table, ctx).fixes(names, lines))
    forwarded = CatchAllFix._forwarded
    with patch.object(CatchAllFix, "_forwarded", lambda self: _NoneTheLongWay(forwarded(self))):
        assert list(CatchAllFix(table, ctx).fixes(names, lines)) == quick
    alone = sum("keeping" not in h for _, h in quick)
    event(f"alone: {min(alone, 1)}, kept: {min(len(quick) - alone, 1)}")

def _one_recipient_as_written(stripped: str) -> bool:
    """Value.parse's tests for LOCAL or ADDRESS as they were before :func:`one_recipient`."""
    if not stripped or stripped[0] in "|/\"" or stripped.lower().startswith(":include:"):
        return False
    return not (any(c in stripped for c in ", \t") or stripped.startswith("@"))


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(["a", "@", "|", "/", '"', ",", " ", "\t", ":include:", ":INCLUDE:", ":inc",
                                 "\u0130", "\u212a", "\x0b", "\xa0", "x.y", "%1", "error"]),
                max_size=6).map("".join))
def test_one_recipient_is_value_parse(text: str) -> None:
    """one_recipient (VT207 asks it of 133k catch-alls, #18) is Value.parse's LOCAL or ADDRESS."""
    stripped = text.rstrip(BLANKS)
    assert one_recipient(stripped) == _one_recipient_as_written(stripped)
    if stripped[:5].lower() != "error":
        assert one_recipient(stripped) == (Value.parse(text).kind in (ValueKind.LOCAL, ValueKind.ADDRESS))


_VT105_ROW = st.tuples(st.sampled_from(["a", "b", "@", "@", "a+*", "a++", "+*", "++", "a+virtcdetail", "A"]),
                       st.integers(0, 2),
                       st.sampled_from(["a-0@mx.example", "a-1@mx.example", "b-0@mx.example",
                                        "%1-0@mx.example", "%1-1@mx.example", "%1%3-0@mx.example",
                                        "%1-%2@mx.example", "%0@mx.example", "a-0@mx.example ",
                                        "a@d1.example", "%1@d1.example", "a-0@d1.example", "%1-0@d1.example",
                                        "error:5.1.1:550 no", "root", "%1", "a", "a%3-0@mx.example",
                                        "%1%3@mx.example", "a%2-0@mx.example", "%1@d0.example",
                                        "%1+x@d1.example", "a@d1.example.", "%1%3@d1.example",
                                        "error:5.1.1:550 %1 no"]))


@settings(max_examples=800, deadline=None)
@given(st.lists(_VT105_ROW, max_size=10), st.booleans())
@example([("a", 0, "a-0@mx.example"), ("@", 0, "%1-0@mx.example")], False)  # redundant, without the engine
@example([("a", 0, "a-0@mx.example"), ("@", 0, "%1%3-0@mx.example")], False)  # '+detail' kept: not redundant
@example([("a", 0, "a-0@mx.example"), ("a+*", 0, "root"), ("@", 0, "%1-0@mx.example")], False)
@example([("a", 0, "a%3-0@mx.example"), ("b+*", 0, "root"), ("@", 0, "%1%3-0@mx.example")], False)  # %N
@example([("a", 0, "a%3-0@mx.example"), ("a+*", 0, "root"), ("@", 0, "%1%3-0@mx.example")], False)
@example([("a", 0, "a%3-0@mx.example"), ("++", 0, "%1-0@mx.example"), ("+*", 0, "%1%3-0@mx.example"),
          ("@", 0, "%1%3-0@mx.example")], False)  # '++@d' answers a detail first, differently
@example([("a", 0, "a%3-0@mx.example"), ("+*", 0, "%1%3-0@mx.example"), ("@", 0, "%1%3-0@mx.example")], False)
@example([("a", 0, "a%3-0@mx.example"), ("+*", 0, "%1-0@mx.example"), ("@", 0, "%1%3-0@mx.example")], False)
@example([("a", 0, "a-0@mx.example"), ("++", 0, "%1-0@mx.example"), ("@", 0, "%1-0@mx.example")], False)
@example([("a", 0, "%1@d1.example"), ("@", 0, "error:5.1.1:550 no"), ("@", 1, "error:5.1.1:550 no")], True)
@example([("a", 0, "%1@d1.example"), ("@", 0, "error:5.1.1:550 no"), ("@", 1, "root")], True)  # other ends
@example([("a", 0, "%1@d1.example"), ("@", 0, "error:5.1.1:550 no"), ("@", 1, "%1@d0.example")], True)  # loop
@example([("a", 0, "%1-0@mx.example"), ("@", 0, "%1@d1.example"), ("@", 1, "%1@d0.example")], True)  # key met
@example([("a", 0, "%1-0@mx.example"), ("@", 0, "%1+x@d1.example"), ("@", 1, "%1%3@d0.example")], True)
@example([("a", 0, "%1-0@mx.example"), ("@", 0, "%1@d1.example"), ("@", 1, "%1@d0.example.")], True)
@example([("a", 0, "a%3-0@mx.example"), ("++", 0, "%1%3-0@mx.example"), ("+*", 0, "%1%3-0@mx.example"),
          ("@", 0, "%1-0@mx.example")], False)  # redundant: '++@d' and '+*@d' answer the details alike
@example([("a", 0, "a-0@mx.example"), ("a+*", 0, "@"), ("@", 0, "%1%3-0@mx.example")], False)  # (not found)
@example([("a", 0, "a-0@mx.example"), ("a++", 0, "root"), ("@", 0, "%1%3-0@mx.example")], False)
@example([("a", 0, "a-1@mx.example"), ("a+*", 0, "root"), ("@", 0, "%1-0@mx.example")], False)  # own '+*@'
@example([("a", 0, "%1@d1.example"), ("a+*", 0, "root"), ("@", 0, "error:5.1.1:550 no"),
          ("@", 1, "error:5.1.1:550 no")], True)  # the user's own '+*@', two texts that end alike
def test_vt105_plain_redundancy_is_the_engines(rows: list[tuple[str, int, str]], local: bool) -> None:
    """VT105 proves a plain ``user@d`` redundant without the engine when its value is what
    the catch-all makes of its own and its ``+detail`` address (#18: 200k such entries took
    16 s), or of its own alone where the user's ``user+*@d`` answers every ``+detail``: the
    same findings as asking the engine for each."""
    from virtc.lint.rules import vt105_redundant_entry as vt105

    table = _rows_table(rows)
    domains = frozenset({"d0.example", "d1.example"}) if local else None

    def findings() -> list[Finding]:
        return sorted(vt105.check(table, LintContext(LintConfig(), domains)))

    found = findings()
    with patch.object(vt105.PlainlyRedundant, "__call__", lambda self, *args: None):  # (the engine decides)
        assert found == findings()
    event(f"VT105 findings: {min(len(found), 2)}")


@settings(max_examples=800, deadline=None)
@given(st.lists(_VT207_ROW, max_size=12), st.booleans())
@example([("@", 0, "%1-x@remote.example"), ("@", 1, "%1-x@d1.example")], False)
@example([("++", 0, "%1@remote.example"), ("+*", 0, "%1.%2@d0.example"), ("@", 0, "%1@d1.example")], False)
@example([("++", 0, "%1@d1.example"), ("@", 1, "%1%3@d0.example")], False)  # a loop through '++@d0'
def test_vt205_template_catch_alls_end_as_the_engine_says(rows: list[tuple[str, int, str]],
                                                          local: bool) -> None:
    """The template catch-alls VT205 proves to end (#18: 100k '@dN  %1-N@host') end for the
    engine too, and the rule finds the same loops as when the engine is asked for each."""
    from virtc.lint.engine import shared_engine
    from virtc.lint.rules import vt205_forwarding_loop as vt205

    table = _vt207_table(rows)
    domains = frozenset({"d0.example", "d1.example", "d2.example", "localhost"}) if local else None
    ctx = LintContext(LintConfig(), domains)
    ix, eng = index(table, ctx), shared_engine(table, ctx)
    for i in vt205.proven_template_ends(ix, eng.domains):
        event("template proven to end")
        assert eng.resolve(eng.probe(Key.parse(ix.stored_keys[i]))).kind != "loop", rows
    for i in vt205.proven_wildcard_ends(ix, eng.domains):
        event("domain wildcard proven to end")
        r = eng.resolve(eng.probe(Key.parse(ix.stored_keys[i])))
        assert r.kind != "loop" and r.chain[:1] == (ix.stored_keys[i],), rows

    def findings() -> list[Finding]:
        return sorted(vt205.check(table, LintContext(LintConfig(), domains)))

    found = findings()
    with patch.object(vt205, "proven_template_ends", lambda ix, local: []), \
            patch.object(vt205, "proven_wildcard_ends", lambda ix, local: []):
        assert found == findings()
    with patch.object(vt205, "proven_ends", _unproven), \
            patch.object(vt205, "proven_template_ends", lambda ix, local: []), \
            patch.object(vt205, "proven_wildcard_ends", lambda ix, local: []), \
            patch.object(vt205, "proven_alias_ends", lambda ix, local: []), \
            patch("virtc.lookup.resolve.quick_path", lambda address, table, domains: None):
        assert found == findings()  # (the engine alone)
    event(f"VT205 findings: {min(len(found), 2)}")


_VT213_ROW = st.tuples(st.sampled_from(["@", "@", "postmaster", "a", "+*"]),
                       st.integers(0, len(_VT207_DOMAINS) - 1),
                       st.sampled_from(["%1-x@remote.example", "%1-x@d1.example", "%1@d1.example",
                                        "%1-%2@mx.example", "error:5.1.1:550 no", "root", "%1", "x%1", "%1.x",
                                        "%1-x@localhost",
                                        "postmaster-x@d0.example", "error:nouser %1", "%1%3@d2.example",
                                        "%1-x@d0.example", "%0@remote.example", "error:5.1.1:550 no %1"]))


@settings(max_examples=800, deadline=None)
@given(st.lists(_VT213_ROW, max_size=10), st.booleans())
@example([("@", 0, "%1-x@remote.example"), ("@", 1, "%1-x@d0.example"), ("@", 0, "error:5.1.1:550 no")],
         False)
@example([("@", 0, "error:5.1.1:550 no %1")], False)  # a reject that names the user
def test_vt213_template_catch_alls_as_the_engine_says(rows: list[tuple[str, int, str]], local: bool) -> None:
    """VT213 lets postmaster@D through a catch-all template without the engine (#18: 100k
    '@dN  %1-N@host'): the same findings as asking the engine for each domain."""
    from virtc.lint.rules import vt213_postmaster_rejected as vt213

    table = _vt207_table(rows)
    domains = frozenset({"d0.example", "d1.example", "d2.example", "localhost"}) if local else None

    def findings() -> list[Finding]:
        return sorted(vt213.check(table, LintContext(LintConfig(), domains)))

    found = findings()
    with patch("virtc.lookup.resolve.catch_all_kind", lambda user, domain, value, domains: None):
        assert found == findings()
    event(f"VT213 findings: {min(len(found), 2)}")
    # (an alias of a local domain ends nowhere at once: VT213 does not ask)
    from virtc.lint.engine import shared_engine
    from virtc.lookup.resolve import catch_all_kind

    ctx = LintContext(LintConfig(), domains)
    ix, local = index(table, ctx), shared_engine(table, ctx).domains
    for name, other in ix.aliases.items():
        p = ix.domains.position(name)
        assert p is not None
        value = ix.values[ix.domains.catch_alls[p]]
        assert other not in local or catch_all_kind("postmaster", name, value, local) is None, (name, value)


_CASED = ["a", "Z", "@", ".", "+", "\xd6", "\xf6", "\xdf", "\xc3", "\xa9"] + [
    c.encode("utf-8").decode("latin-1")  # (as the parser reads UTF-8 bytes; two sigmas)
    for c in ["ö", "Ö", "ß", "ẞ", "\u03a3", "\u03c3", "İ", "ǅ", "ﬀ", "é", "É"]]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_CASED), min_size=1, max_size=6).map("".join), max_size=8))
@example(["J\xc3\x96RG@d", "j\xc3\xb6rg@d"])  # UTF-8 'Ö', 'ö'
@example(["J\xd6RG@d", "caf\xc3\xa9@d"])  # Latin-1 'Ö' beside UTF-8: the chunk's bytes are not UTF-8
@example(["\xc3\xa9@d", "\xd6@d"])
def test_vt108_finds_what_each_key_alone_finds(keys: list[str]) -> None:
    """VT108 decides a chunk of non-ASCII keys whose lower case changes nothing beyond ASCII
    in C (#18): the same findings as looking at each key."""
    from virtc.lint.rules import vt108_non_ascii_case as vt108

    table = parse_text("".join(f"{k} v\n" for k in keys))
    found = _check(vt108, table)
    with patch.object(vt108, "_lower_changes", lambda chunk, texts: iter(chunk)):
        assert _check(vt108, table) == found
    event(f"VT108 findings: {min(len(found), 2)}")


_MAILBOX_ROW = st.tuples(st.sampled_from(["alice", "Bob", "a+x", "a+", "@", "+*", "++", "a+*", "x.y"]),
                         st.sampled_from(["d0.example", "d1.example", "d2.example", "localhost"]),
                         st.sampled_from(["alice", "bob", "Bob", "carol", "bob+x", "x.y", "alice@d1.example",
                                          "%1", "%1@d2.example", "error:5.1.1:550 no", "r@remote.example",
                                          '"carol"', "a" * 256, "root@localhost", "@", "dave"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(_MAILBOX_ROW, max_size=10),
       st.sets(st.sampled_from(["alice", "bob", "x.y", "root", "a" * 256])), st.booleans())
@example([("alice", "d0.example", "carol"), ("alice", "d0.example", "alice")], {"alice"}, False)  # a repeat
@example([("Bob", "d1.example", "bob+x"), ("a+x", "d1.example", "dave")], {"bob"}, True)
@example([("Bob", "d0.example", "alice@d1.example"), ("alice", "d1.example", "carol")], {"alice"}, False)
@example([("alice", "localhost", "bob")], {"bob"}, True)  # the host's own name: never looked up
@example([("alice", "d0.example", "a" * 256)], {"a" * 256}, False)  # the user cut to 255 bytes
@example([("alice", "d1.example", "bob")], {"root"}, True)  # not a local domain: relayed
@example([("a%d2.example", "d0.example", "bob"), ("a", "d2.example", "carol")], {"bob"}, False)  # '%' hack
def test_vt212_without_the_engine_finds_what_the_engine_finds(
        rows: list[tuple[str, str, str]], names: set[str], local: bool) -> None:
    """VT212 decides a plain key whose value is a listed user at once, and follows the others
    by quick_end (#18): the same findings as the engine for every entry."""
    from virtc.lint.rules import vt212_unknown_local_target as vt212

    table = parse_text("".join(f"{'' if user == '@' else user}@{dom}\t{value}\n"
                               for user, dom, value in rows))
    domains = frozenset({"d0.example", "d2.example", "localhost"}) if local else None

    def findings() -> list[Finding]:
        return list(vt212.check(table, LintContext(LintConfig(), domains, mailboxes=frozenset(names))))

    found = findings()
    with patch.object(vt212, "delivered_at_once", lambda local, names: lambda stored, value: False), \
            patch("virtc.lookup.resolve.quick_end", lambda address, table, domains: None):
        assert found == findings()
    event(f"VT212 findings: {min(len(found), 2)}")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a@d0.example", ",", " ", '"', "(", ")", "<", ">", "x", "@", "!", ":", ";",
                                 "error", "%1", "\\", "b@remote.example", "."]), max_size=6).map("".join))
@example("a@d0.example, b@d0.example")
@example("Bob <a@d0.example>")
@example("error:5.1.1:550 no, really")
def test_ends_there_as_the_engine(value: str) -> None:
    """resolve.ends_there (VT205: values it need not follow) says a value ends every
    resolution that reaches it only where the engine ends there, one step in."""
    from virtc.lint.engine import shared_engine
    from virtc.lookup.resolve import ends_there

    table = parse_text(f"k@d0.example\t{value}\n")
    if not table.entries or table.entries[0].value_text != value or not ends_there(value):
        return
    r = shared_engine(table, LintContext(LintConfig(), None)).resolve("k@d0.example")
    assert len(r.steps) == 1 and r.kind in ("error", "local"), r
    event(f"ends there: {r.kind}")


_KEYLESS_ROW = st.tuples(st.sampled_from(["a", "b", "@", "a+*"]),
                         st.sampled_from(["d0.example", "d1.example", "x*y"]),
                         st.sampled_from(["a@d9.example", "b@localhost", "a+x@d9.example", "a@d0.example",
                                          "b@d1.example", "a@x*y", "root", "error:5.1.1:550 no",
                                          "%1@d9.example"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(_KEYLESS_ROW, max_size=8))
@example([("a", "d0.example", "a@d9.example")])  # a local domain without keys: the local user
@example([("a", "d0.example", "a@x*y"), ("@", "x*y", "error:5.1.1:550 no")])  # no domain for the facts
@example([("a", "d0.example", "b@d1.example"), ("b", "d1.example", "a@d0.example")])
def test_forwards_into_keyless_local_domains_as_the_engine(rows: list[tuple[str, str, str]]) -> None:
    """VT205 and VT211 end a forward into a local domain without keys ('user@localhost' with
    a sendmail.cf) at the local user when no catch-all key answers (#18): the same findings
    as the engine."""
    from virtc.lint.rules import vt205_forwarding_loop as vt205
    from virtc.lint.rules import vt211_dangling_forward as vt211

    table = parse_text("".join(f"{'' if user == '@' else user}@{dom}\t{value}\n"
                               for user, dom, value in rows))
    local = frozenset({"d0.example", "d1.example", "d9.example", "localhost", "x*y"})

    def findings(rule: ModuleType) -> list[Finding]:
        return sorted(rule.check(table, LintContext(LintConfig(), local)))

    loops, dangling = findings(vt205), findings(vt211)
    with patch.object(vt205, "proven_ends", _unproven):
        assert findings(vt205) == loops
    with patch.object(vt211, "without_engine", lambda ix, eng, target: None):
        assert findings(vt211) == dangling
    event(f"findings: {min(len(loops) + len(dangling), 2)}")


_LABELS = st.lists(st.sampled_from(["a", "b", "example", "", "x-y", "[1", "2]", "%", "+"]),
                   min_size=1, max_size=4)


@settings(max_examples=300, deadline=None)
@given(st.lists(_LABELS.map(".".join), max_size=5), _LABELS.map(".".join),
       st.sampled_from([".", ":", "%", "@", "!", "/", "+", "["]))
def test_subdomain_tests_as_their_definition(parents: list[str], name: str, op: str) -> None:
    """under_entire_domain (VT101, VT106) and the engine's virtuser_entire_domain test look
    suffixes up in a set (#18): the same answers as comparing with every parent."""
    from virtc.lint.shared import under_entire_domain
    from virtc.lookup.resolve import _is_local
    from virtc.lookup.tokens import OPERATORS

    domains = frozenset(p for p in parents if p)
    assert under_entire_domain(name, domains) == any(name.endswith("." + v) for v in domains)
    name = name.replace(".", op, 1)
    assert _is_local(name, domains, True) == (name.lower() in domains or any(
        name.lower().endswith(x) and len(name) > len(x) and name.lower()[-len(x) - 1] in OPERATORS
        for x in domains))


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 24), st.booleans(), st.integers(0, 3))
@example(17, True, 0)
@example(18, False, 1)
@example(19, True, 2)
def test_vt205_long_cycles_as_the_engine(length: int, catch_alls: bool, tail: int) -> None:
    """A cycle of forwards too long for sendmail to close (past its recursion limit) has no
    loop to report: VT205 leaves it to no one without the engine (#18), and reports the
    shorter ones as the engine does."""
    from virtc.lint.rules import vt205_forwarding_loop as vt205

    ring = [f"{'' if catch_alls else 'u'}@d{i}.example\tu@d{(i + 1) % length}.example\n"
            for i in range(length)]
    into = [f"t{k}@d0.example\t{f't{k + 1}@d0.example' if k + 1 < tail else 'u@d1.example'}\n"
            for k in range(tail)]
    table = parse_text("".join(ring + into))

    def findings() -> list[Finding]:
        return sorted(_check(vt205, table))

    found = findings()
    with patch.object(vt205, "proven_ends", _unproven), \
            patch("virtc.lookup.resolve.quick_path", lambda address, table, domains: None), \
            patch.object(vt205._Cycles, "get", lambda self, probe: None):
        assert found == findings()
    event(f"loops reported: {min(len(found), 2)}")


_CHAIN_ENDS = ["bob", "error:5.1.1:550 no", "x@remote.example", "x@d1.example", "%1@remote.example",
               "a+b@d0.example", "error:4.2.2:450 full", "virtc@[127.0.0.1]", "error:5.1.1:550 %1 unknown",
               "%1", "<a@b"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([1, 1, 1, 1, 1, 1, 2, 0, -1]), min_size=41, max_size=41),
       st.lists(st.sampled_from(_CHAIN_ENDS), min_size=41, max_size=41),
       st.sets(st.integers(0, 40), max_size=3), st.integers(0, 2))
@example([1] * 16 + [0] * 25, ["bob"] * 41, set(), 0)  # 17 keys, the last a local user: a loop
@example([1] * 16 + [0] * 25, ["error:5.1.1:550 no"] * 41, set(), 0)  # the 17th an error: no loop
@example([1] * 30 + [0] * 11, ["bob"] * 41, {25}, 0)  # a long way into a cycle
@example([1] * 41, ["bob"] * 41, {32}, 0)  # a ring of 17 keys (16 to it)
@example([1] * 41, ["bob"] * 41, {31}, 0)  # a ring of 16: closes within the limit
@example([1] * 20 + [-1] + [1] * 20, ["bob"] * 41, {40}, 0)  # a ring of 21 through a domain alias
def test_vt205_too_long_chains_are_the_engines(steps: list[int], ends: list[str], back: set[int],
                                               catch_alls: int) -> None:
    """Entry ``k`` (``aK@d0.example``) forwards ``steps[k]`` keys on (-1: one on through the
    domain alias ``@d2.example  %1@d0.example``, back to an earlier key from ``back``) or,
    for a step 0, ends in a value of its own. VT205 reports exactly the entries the engine
    gives up on past sendmail's recursion limit before a cycle closes, naming the first and
    the last key it matches, as it does with the engine alone."""
    from virtc.lint.rules import vt205_forwarding_loop as vt205

    def target(k: int) -> str:
        if k in back:
            return f"a{k // 2}@d0.example"
        if steps[k] == -1:
            return f"a{k + 1}@d2.example"
        return ends[k] if steps[k] == 0 else f"a{k + steps[k]}@d0.example"

    rows = [f"a{k}@d0.example\t{target(k)}\n" for k in range(41)]
    rows += [f"@d{d}.example\terror:5.1.1:550 unknown\n" for d in range(catch_alls)]
    rows += ["@d2.example\t%1@d0.example\n"]
    table = parse_text("".join(rows))
    found = sorted(_check(vt205, table))
    chains = {re.search(r"resolves '([^']+)'", f.message)[1]: f.message  # type: ignore[index]
              for f in found if "forwarding chain '" in f.message}
    eng = Engine(index(table, LintContext(LintConfig(), None)), None)
    for k in range(41):
        address = f"a{k}@d0.example"
        r = eng.resolve(address)
        assert (address in chains) == (r.kind == "loop" and not r.cycle), (address, r)
        if address in chains:
            named = f"chain '{r.chain[0]}' -> '{r.chain[1]}' -> ... -> '{r.chain[16]}' -> ...:"
            assert named in chains[address], (named, chains[address])
    with patch.object(vt205, "proven_ends", _unproven), \
            patch("virtc.lookup.resolve.quick_path", lambda address, table, domains: None), \
            patch.object(vt205._Cycles, "get", lambda self, probe: None):
        assert found == sorted(_check(vt205, table))  # (the engine alone)
    event(f"too long: {min(len(chains), 2)}")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["virtc-probe", "virtc-probe+x", "virtc-probe+", "virtc-probe1",
                                           "bob", "", "++", "+*", "bob+*", "bob++"]),
                          st.integers(0, 1)), max_size=8))
def test_engine_probe_looks_nothing_up_without_probe_keys(rows: list[tuple[str, int]]) -> None:
    """The engine's made-up probe of each key is the same whether or not it checks the
    table for keys of the made-up user: it skips that when no key holds the name."""
    table = _rows_table([(user or "@", d, "x") for user, d in rows] + [("+*", 0, "y"), ("++", 1, "y")])
    ctx = LintContext(LintConfig(), None)
    eng = Engine(index(table, ctx), None)
    keys = [Key.parse(k) for k in index(table, ctx).stored_keys]
    probes = [eng.probe(k) for k in keys]
    eng._probe_named = True  # (always looked up)
    assert probes == [eng.probe(k) for k in keys]


_TARGET_KEY = st.text(alphabet="a+@.", max_size=6)


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.tuples(_TARGET_KEY, st.sampled_from(["%1@d0.example", "x", "%1%3@remote.example", "a%b@gw",
                                                         "%0@d1.example"]), st.booleans()), max_size=8))
def test_vt205_substituted_targets_are_those_of_the_exact_keys(rows: list[tuple[str, str, bool]]) -> None:
    """VT205 fills in, a batch at a time, the next hop of each %N value whose plain target is
    not known, for the keys it would pick one by one: a user without '+' or '@', a domain not
    ending in '.'."""
    from virtc.lint.rules import vt205_forwarding_loop as vt205
    from virtc.lookup import substitute
    from virtc.lookup.resolve import local_domain_set, relayed_end
    from virtc.model import fold

    keys, values = [key for key, _, _ in rows], [value for _, value, _ in rows]
    known = [None if unknown else "k@known.example" for _, _, unknown in rows]
    targets: list[str | None] = list(known)
    local = local_domain_set(["d0.example", "d1.example"])
    # (the chunk's keys at odd places of the key column: each value's key is the one its place names)
    column = Column.of([text for key in keys for text in ("pad@d0.example", key)])
    vt205._substituted_targets(column, range(1, 2 * len(keys), 2), values, targets, local)
    for key, value, before, after in zip(keys, values, known, targets):
        user, _, domain = key.rpartition("@")
        exact = user and not set("+@") & set(user) and not domain.endswith(".")
        if before is None and "%" in value and exact:
            text = substitute(value, (key, user))
            target = vt205._plain_targets([text])[0]
            if target is None and "%" in text:
                relayed = relayed_end(text, local, literal=True)
                target = None if relayed is None else fold(relayed.result or "")
            assert after == target, (key, value)
        else:
            assert after == before, (key, value)


_VT107_ROW = st.tuples(st.sampled_from(["++", "+*", "a++", "a+*", "anyone", "anyone++", "anyone+*",
                                        "a+detail", "anyone+detail", "a", "@", "A++"]),
                       st.integers(0, 1),
                       st.sampled_from(["root", "@", "!", " @ ", "%1", "%2@d1.example", "x@remote.example",
                                        "%1@d0.example", "error:5.1.1:550 no", "@ x"]))


@settings(max_examples=500, deadline=None)
@given(st.lists(_VT107_ROW, max_size=10), st.booleans())
@example([("++", 0, "root"), ("+*", 0, "root")], False)  # shadowed
@example([("++", 0, "@"), ("+*", 0, "root")], False)  # '++@d' says "not found": '+*@d' answers
@example([("++", 0, "root"), ("+*", 0, "root"), ("anyone", 0, "x")], False)  # a key met first
@example([("a++", 0, "root"), ("a+*", 0, "root"), ("a+detail", 0, "x")], False)
def test_vt107_knows_the_shadowing_key_as_the_engine(rows: list[tuple[str, int, str]], local: bool) -> None:
    """VT107 finds the key a plussed address reaches first without the engine's lookups when
    no key is tried before the '++' one (#18: 61k pairs on templates): the same findings as
    asking ``first_key`` for each."""
    from virtc.lint.rules import vt107_shadowed_entry as vt107

    table = _rows_table(rows)
    domains = frozenset({"d0.example"}) if local else None

    def findings() -> list[Finding]:
        return sorted(vt107.check(table, LintContext(LintConfig(), domains)))

    found = findings()
    with patch.object(vt107, "_before_unnamed", lambda unnamed, user: False):
        assert found == findings()
    event(f"VT107 findings: {min(len(found), 2)}")
