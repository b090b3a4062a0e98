"""``ldap sync``'s plan, without a server: fewest changes, and an order that never opens a domain.

The invariant: after every prefix of the plan's steps, a domain whose unnamed addresses
are rejected both before and after the sync rejects them too. Checked with virtc's own
resolver over the simulated directory on generated pairs of tables, and shown to fail
for the reversed order (so the check can fail); the real sendmail reading a real slapd
checks the same in tests/oracle/test_ldap_oracle.py.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from virtc.exports.ldap_entries import Scope, container_dn, entry_dn
from virtc.exports.ldap_sync import Current, SyncPlan, plan_sync
from virtc.lookup.resolve import resolve
from virtc.lookup.table import LookupTable
from virtc.source.parse import parse_text

pytest.importorskip("ldap", reason="python-ldap is part of the dev install")

BASE = "ou=t,dc=example,dc=com"
CLUSTER = Scope("sendmailMTACluster", "mx")
MX = {"sendmailMTACluster": (b"mx",)}
DOMAINS = ("a.test", "b.test", "c.test")
PROBES = ("zz-unnamed", "zz-unnamed+x", "zz-unnamed+")
"""Local parts no table names: what a dictionary attack sends (named addresses may change
fate while a sync runs, as they do when a map is rebuilt)."""


def make_pair(rng: random.Random) -> tuple[str, str]:
    """Two tables over the same domains: catch-alls that reject, accept or are missing, and
    user entries that appear, change and vanish between them."""
    def table() -> str:
        lines = []
        for dom in DOMAINS:
            for user in ("bob", "carol", "dave", "bob+*", "++", "+*", "erin"):
                r = rng.random()
                if r < 0.35:
                    continue
                value = rng.choice(["mbox", "x@out.test", "error:5.1.1:550 gone", f"dave@{dom}",
                                    f"%1@{rng.choice(DOMAINS)}", "error:4.2.2:450 full"])
                lines.append(f"{user}@{dom}\t{value}\n")
            r = rng.random()
            if r < 0.6:
                lines.append(f"@{dom}\terror:5.1.1:550 {rng.choice(['No such user', 'Unknown'])}\n")
            elif r < 0.8:
                lines.append(f"@{dom}\tcatchall@out.test\n")
        rng.shuffle(lines)
        return "".join(lines)
    return table(), table()


def directory_after(text: str) -> list[Current]:
    """What a sync of ``text`` leaves in the directory."""
    table = parse_text(text, "old")
    plan = plan_sync(table, BASE, CLUSTER, [], container_exists=False)
    state: dict[str, Current] = {}
    apply_steps(state, plan)
    return list(state.values())


def apply_steps(state: dict[str, Current], plan: SyncPlan, upto: int | None = None) -> None:
    for step in plan.steps[:upto]:
        if step.dn == container_dn(BASE):
            continue
        if step.action == "add":
            assert step.attributes is not None
            a = step.attributes
            state[step.dn] = Current(step.dn, tuple(a["sendmailMTAKey"]), a["sendmailMTAMapValue"][0], MX)
        elif step.action == "modify":
            state[step.dn] = Current(step.dn, state[step.dn].keys, step.value, MX)
        else:
            del state[step.dn]


def rejects_unnamed(state: dict[str, Current]) -> set[str]:
    """The domains where every probe address is rejected (error) through this directory."""
    table = LookupTable.from_pairs([(c.keys[0].decode(), (c.value or b"").decode()) for c in state.values()])
    return {dom for dom in DOMAINS
            if all(resolve(f"{p}@{dom}", table, DOMAINS).kind in ("error", "loop") for p in PROBES)}


def check_order(old: str, new: str, reverse: bool = False) -> list[str]:
    """The domains some prefix of the plan opens although ``old`` and ``new`` both close them."""
    before = {c.dn: c for c in directory_after(old)}
    plan = plan_sync(parse_text(new, "new"), BASE, CLUSTER, list(before.values()), container_exists=True)
    if reverse:
        plan.steps.reverse()
    closed = rejects_unnamed(dict(before))
    final = dict(before)
    apply_steps(final, plan)
    closed &= rejects_unnamed(final)
    opened = []
    for n in range(len(plan.steps) + 1):
        state = dict(before)
        apply_steps(state, plan, n)
        opened += sorted(closed - rejects_unnamed(state))
    return opened


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_no_prefix_of_a_sync_opens_a_domain(seed: int) -> None:
    old, new = make_pair(random.Random(seed))
    assert check_order(old, new) == []


def test_the_check_fails_for_the_reverse_order() -> None:
    """Pointing a.test's catch-all at b.test before b.test rejects opens a.test for a while."""
    old = "@a.test\terror:5.1.1:550 No such user\n"
    new = "@a.test\t%1@b.test\n@b.test\terror:5.1.1:550 No such user\n"
    assert check_order(old, new) == []
    assert "a.test" in check_order(old, new, reverse=True)


def test_a_second_sync_changes_nothing() -> None:
    text = "Bob@A.test\tmbox\nbob@a.test\tsecond\n@a.test\terror:5.1.1:550 No\njoe+*@a.test\tj\n"
    plan = plan_sync(parse_text(text, "t"), BASE, CLUSTER, directory_after(text), container_exists=True)
    assert plan.steps == [] and plan.unchanged == 3


def test_the_fewest_changes() -> None:
    old = "a@a.test\tx\nb@a.test\ty\nc@a.test\tz\n@a.test\terror:5.1.1:550 No\n"
    new = "a@a.test\tx\nb@a.test\tY2\nd@a.test\tw\n@a.test\terror:5.1.1:550 No\n"
    plan = plan_sync(parse_text(new, "t"), BASE, CLUSTER, directory_after(old), container_exists=True)
    assert [(s.action, s.key) for s in plan.steps] == [("modify", "b@a.test"), ("add", "d@a.test"),
                                                     ("delete", "c@a.test")]
    assert plan.summary() == "1 added, 1 changed, 1 deleted, 2 unchanged"


def test_rejects_come_first_and_catch_alls_are_deleted_last() -> None:
    old = "@gone.test\terror:5.1.1:550 No\nu@gone.test\tmbox\n@a.test\tall@out.test\n"
    new = "x@a.test\tmbox\n@a.test\terror:5.1.1:550 No\nbad@a.test\terror:5.1.1:550 Bad\n"
    plan = plan_sync(parse_text(new, "t"), BASE, CLUSTER, directory_after(old), container_exists=True)
    assert [(s.action, s.key) for s in plan.steps] == [
        ("modify", "@a.test"), ("add", "bad@a.test"), ("add", "x@a.test"),
        ("delete", "u@gone.test"), ("delete", "@gone.test")]


def test_other_scopes_are_left_alone_and_a_shared_dn_is_a_conflict() -> None:
    host = {"sendmailMTAHost": (b"mx1.example.com",)}
    other = [Current(entry_dn("h@a.test", BASE), (b"h@a.test",), b"v", host),
             Current(entry_dn("a@a.test", BASE), (b"a@a.test",), b"v", host)]
    plan = plan_sync(parse_text("a@a.test\tx\n", "t"), BASE, CLUSTER, other, container_exists=True)
    assert plan.steps == []
    assert len(plan.conflicts) == 1 and "sendmailMTAHost mx1.example.com" in plan.conflicts[0]


def test_a_key_another_scope_holds_elsewhere_is_reported() -> None:
    """A host entry for the same key at another DN: the host would see two matches."""
    elsewhere = Current(f"cn=x,{BASE}", (b"a@a.test",), b"v", {"sendmailMTAHost": (b"mx1.example.com",)})
    plan = plan_sync(parse_text("a@a.test\tx\nb@a.test\ty\n", "t"), BASE, CLUSTER, [elsewhere],
                     container_exists=True)
    assert plan.conflicts == [] and len(plan.steps) == 2
    assert len(plan.shadowed) == 1
    assert "two matches" in plan.shadowed[0] and "mx1.example.com" in plan.shadowed[0]


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet="aZ09 ,+\"<>;=\\#.@-_\x00é\u00ff\xc3\xa9\x80", min_size=1, max_size=20),
       st.sampled_from(["dc=example,dc=com", "DC=Example, DC=COM", "ou=Mail,o=A\\,B"]))
def test_entry_normal_is_normal(key: str, base: str) -> None:
    """The plan normalises its own entries' DNs (keys: Latin-1 text, UTF-8 bytes among
    them) without python-ldap's parse (half its time at a million keys): the same string
    as the parse and unparse."""
    from virtc.exports.ldap_sync import _EntryNormal, _normal

    dn = entry_dn(key, base)
    assert _EntryNormal(base)(dn) == _normal(dn), (key, base)
