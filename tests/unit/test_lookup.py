"""Unit tests of virtc.lookup. Expected values come from sendmail -bt runs (see
test_lookup_oracle.py, which checks the same behaviour on thousands of addresses)."""

from __future__ import annotations

import re
from pathlib import Path
from unittest.mock import patch

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from support.oracles import TEST_DATA
from support.sendmail import SendmailOracle

from virtc.compat import zip_strict
from virtc.errors import VirtcError
from virtc.lookup import (
    LookupTable,
    classify,
    error_reply,
    load_lookup_table,
    lookup_keys,
    read_local_domains,
    resolve,
    substitute,
)
from virtc.lookup.table import is_berkeley_db
from virtc.lookup.tokens import join, tokenize
from virtc.source.parse import parse_text

DATA = TEST_DATA / "query"


def keys(address: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(k.key, k.args[1:]) for k in lookup_keys(address)]


def test_lookup_order_plain_and_plus() -> None:
    assert keys("Bob@Example.COM") == [("Bob@Example.COM", ("Bob",)), ("@Example.COM", ("Bob",))]
    d = ("bob", "news", "+news")
    assert keys("bob+news@d.test") == [
        ("bob+news@d.test", ("bob+news",)), ("bob++@d.test", d), ("bob+*@d.test", d),
        ("bob@d.test", d), ("++@d.test", d), ("+*@d.test", d), ("@d.test", d)]
    e = ("bob", "", "+")
    assert keys("bob+@d.test") == [("bob+@d.test", ("bob+",)), ("bob+*@d.test", e), ("bob@d.test", e),
                                   ("+*@d.test", e), ("@d.test", e)]


def test_split_at_first_plus_with_a_user() -> None:
    assert [k for k, _ in keys("+lead@d.test")] == ["+lead@d.test", "@d.test"]
    assert keys("a+b+c@d.test")[1] == ("a++@d.test", ("a", "b+c", "+b+c"))
    assert keys("++x@d.test")[1] == ("+++@d.test", ("+", "x", "+x"))
    assert keys("u@d.test.")[0][0] == "u@d.test"  # trailing dot of the domain dropped
    with pytest.raises(ValueError):
        lookup_keys("nodomain")


def test_lookup_order_is_sendmails(sendmail: str, tmp_path: Path) -> None:
    table = tmp_path / "vt"
    table.write_text("only@d.test x\n")
    addrs = ["Bob@D.test", "bob+news@d.test", "bob+@d.test", "+lead@d.test", "a+b+c@d.test", "++x@d.test"]
    with SendmailOracle(table) as oracle:
        for addr, r in zip_strict(addrs, oracle.resolve(addrs)):
            assert [k for k, _ in r.lookups] == [k for k, _ in keys(addr)], addr


def test_substitute() -> None:
    args = ("key@d", "u", "det", "+det")
    assert substitute("%1%3@x", args) == "u+det@x"
    assert substitute("%0|%4|%9", args) == "key@d||"
    assert substitute("100%% %x %", args) == "100% %x %"
    assert substitute("plain", args) == "plain"


@settings(max_examples=2000, deadline=None)
@given(st.text(st.sampled_from("%0139a@+x\xe9"), max_size=12),
       st.lists(st.sampled_from(["", "u", "%1", "a%2b"]), max_size=5).map(tuple))
def test_substitute_by_parts_is_the_character_loop(value: str, args: tuple[str, ...]) -> None:
    from virtc.lookup.keys import _substitute

    assert substitute(value, args) == _substitute(value, args)


def test_tokens_and_join() -> None:
    assert tokenize('a.b@c "q s" (comment) x,y') == ["a", ".", "b", "@", "c", '"q s"', "x", ",", "y"]
    assert join(tokenize("root root"), ".") == "root.root"
    assert join(tokenize("550 User   unknown , sorry"), " ") == "550 User unknown,sorry"


@pytest.mark.parametrize(("value", "expected"), [
    ("error:nouser 550 No such user", ("nouser", "550 5.0.0 No such user")),
    ("error:5.1.1:550 User unknown", ("5.1.1", "550 5.1.1 User unknown")),
    ("error:nouser No code", ("nouser", "553 5.3.0 No code")),
    ("error:a.b.c:550 odd", ("a.b.c", "550 5.0.0 odd")),
    ("error:nouser 550 4.1.1 x", ("nouser", "550 4.1.1 x")),
    ("error:tempfail 451 later", ("tempfail", "451 4.0.0 later")),
])
def test_error_values(value: str, expected: tuple[str, str]) -> None:
    t = LookupTable.from_pairs({"a@d.test": value})
    r = resolve("a@d.test", t)
    assert (r.kind, r.result, (r.status, r.text)) == ("error", None, expected)


def test_error_reply_rules() -> None:
    assert error_reply("5.1.1", "550 x") == "550 5.1.1 x"
    assert error_reply("nouser", "550 5.2.2 x") == "550 5.2.2 x"
    assert error_reply("5.1.1", "5501 x") == "553 5.3.0 5501 x"


@pytest.mark.parametrize(("value", "kind", "result_or_text"), [
    ("bob", "local", "bob"), ("Bob+X", "local", "bob+x"), ("root root", "local", "root.root"),
    ("local:bob", "local", "bob"), ('"quoted"', "local", "quoted"),
    ("x@out.test.", "remote", "x@out.test"), ("<x@out.test>", "remote", "x@out.test"),
    ("a%b", "remote", "a@b"), ("a, b", "error", "553 5.1.3 Invalid route address"),
    ("@out.test", "error", "553 5.1.3 User address required"),
    ("bob@", "error", "553 5.1.3 Hostname required"),
    ("|/bin/x", "error", "550 5.7.1 Cannot mail directly to programs"),
    ("/var/f", "error", "550 5.7.1 Cannot mail directly to files"),
    (":include:/x", "error", "550 5.7.1 Cannot mail directly to :include:s"),
    ("u@x..y", "error", "553 5.1.2 Invalid host name"),
])
def test_values_sendmail_misreads(value: str, kind: str, result_or_text: str) -> None:
    r = resolve("a@d.test", LookupTable.from_pairs({"a@d.test": value}))
    assert (r.kind, r.result if kind != "error" else r.text) == (kind, result_or_text)


def test_markers_at_and_bang() -> None:
    t = LookupTable.from_pairs({"a@d.test": "@", "@d.test": "catch", "b@d.test": "!"})
    at = resolve("a@d.test", t)
    assert (at.kind, at.result, at.chain) == ("local", "catch", ("@d.test",))
    bang = resolve("b@d.test", t)  # '!' ends the search: the catch-all is not tried
    tried = [lk.key for lk in bang.steps[0].lookups]
    assert (bang.kind, bang.result, tried) == ("unmatched", "b", ["b@d.test"])


def test_kinds_and_chain() -> None:
    t = LookupTable.from_table(parse_text(
        "info@d.test sales@d.test\nsales@d.test bob\nfwd@d.test x@out.test\n"
        "a@d.test b@d.test\nb@d.test A@D.test\n@e.test %1%3@d.test\n"))
    assert resolve("info@d.test", t).chain == ("info@d.test", "sales@d.test")
    assert resolve("info@d.test", t).result == "bob"
    assert resolve("fwd@d.test", t).kind == "remote"
    assert (resolve("nobody@d.test", t).kind, resolve("nobody@d.test", t).result) == ("unmatched", "nobody")
    assert resolve("x@else.test", t).kind == "not-local"
    loop = resolve("a@d.test", t)
    assert (loop.kind, loop.result, loop.cycle) == ("loop", None, ("a@d.test", "b@d.test", "a@d.test"))
    # %1%3 keeps the detail and the case of the address through the second step
    r = resolve("Sales+X@e.test", t)
    assert (r.kind, r.chain, r.steps[1].address) == ("local", ("@e.test", "sales@d.test"), "Sales+X@d.test")
    virt = resolve("nobody@d.test", t, virthost=True)
    assert (virt.kind, virt.result) == ("unmatched", "nobody@d.test")
    assert resolve("a@sub.e.test", t).kind == "not-local"
    sub = resolve("a@sub.e.test", t, entire_domain=True)
    tried = [lk.key for lk in sub.steps[0].lookups]
    assert (sub.kind, tried) == ("unmatched", ["a@sub.e.test", "@sub.e.test"])


def test_long_address_and_key_truncation() -> None:
    long_key = "k" * 300 + "@d.test"
    t = LookupTable.from_pairs({long_key[:256]: "hit"})
    assert t.get(long_key.upper()) == "hit"
    r = resolve("x" * 250 + "@d.test", LookupTable.from_pairs({"@d.test": "y"}))
    assert r.kind == "error" and r.status == "5.1.0"


def test_first_value_wins_and_domains() -> None:
    t = LookupTable.from_table(parse_text("A@X.test first\na@x.test second\n@Y.test z\nbad\n"))
    assert t.get("a@x.test") == "first" and t.entries["a@x.test"].line == 1
    assert t.domains == ["x.test", "y.test"]


def test_read_local_domains(tmp_path: Path) -> None:
    f = tmp_path / "lhn"
    f.write_text("# comment\nExample.COM  extra\n\n  indented.test\n#x.test\nlast.test")
    assert read_local_domains(f) == ["example.com", "indented.test", "last.test"]
    with pytest.raises(VirtcError, match="cannot read local domains"):
        read_local_domains(tmp_path / "missing")


def test_local_domains_file_as_sendmail_reads_it(sendmail: str, tmp_path: Path) -> None:
    lhn = tmp_path / "local-host-names"
    lhn.write_text("# comment\nExample.COM  extra words\n\n  indented.test\n#hidden.test\nDot.test.\n")
    table = tmp_path / "vt"
    table.write_text("@example.com ex\n@indented.test ind\n@hidden.test hid\n@dot.test dot\n")
    addrs = ["a@example.com", "a@indented.test", "a@hidden.test", "a@dot.test", "a@extra"]
    t = load_lookup_table(table)
    domains = read_local_domains(lhn)
    with SendmailOracle(table, local_domains=lhn) as oracle:
        results = oracle.resolve(addrs)
    for addr, sm in zip_strict(addrs, results):
        looked_up = bool(sm.lookups)
        assert (resolve(addr, t, domains).kind != "not-local") == looked_up, addr


def test_load_lookup_table_db(bdb: None, tmp_path: Path) -> None:
    from virtc.writers.bdb import write_new_map

    db = tmp_path / "m.db"
    write_new_map(db, [(b"a@d.test\0", b"alice\0"), (b"b@d.test", b"bob")], "hash", 0o644)
    assert is_berkeley_db(db) and not is_berkeley_db(DATA / "basic.vt")
    t = load_lookup_table(db)
    assert (t.get("A@d.test"), t.get("b@D.test")) == ("alice", "bob")
    with pytest.raises(VirtcError):
        load_lookup_table(tmp_path / "none")


def test_classify_is_total() -> None:
    for text in ["", "<>", '"', "@", "a@", ":", "a:", "(", "a!b", "!b", "%", "<<a>>", "a@b@c"]:
        classify(text)  # never raises


def test_binary_file_is_refused_but_a_stray_nul_is_not(tmp_path: Path) -> None:
    blob = tmp_path / "blob"
    blob.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(VirtcError, match="binary file"):
        load_lookup_table(blob)
    text = tmp_path / "vt"
    text.write_bytes(b"a@b.test x\n" * 20 + b"q\0w@b.test y\n")  # makemap drops only that line
    assert load_lookup_table(text).get("a@b.test") == "x"


_local = st.text(alphabet="abcXYZ019.-_+", min_size=1, max_size=12)
_domain = st.from_regex(r"[a-z]{1,5}(\.[a-z]{1,4}){0,2}", fullmatch=True)


@given(local=_local, domain=_domain)
def test_lookup_keys_shape(local: str, domain: str) -> None:
    ks = lookup_keys(f"{local}@{domain}")
    assert ks[0].key == f"{local}@{domain}" and ks[-1].key == f"@{domain}"
    assert len(ks) in (2, 5, 7)
    assert (len(ks) == 2) == (local.find("+", 1) < 0)
    for k in ks:
        assert k.args[0] == k.key and substitute("%0", k.args) == k.key


@given(local=_local, domain=_domain)
def test_resolve_is_total_and_consistent(local: str, domain: str) -> None:
    t = LookupTable.from_pairs({f"@{domain}": "%1%3@out.test", "x@out.test": "y"})
    r = resolve(f"{local}@{domain}", t)
    assert r.kind in ("remote", "error", "not-local", "local")
    assert (r.result is None) == (r.kind in ("error", "loop"))
    assert list(r.chain) == [s.key for s in r.steps if s.key is not None]


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="abAB09_=-.+@%!:<>\" x", min_size=1, max_size=16))
def test_classify_fast_path_equals_the_tokenizer(text: str) -> None:
    """classify's regex fast path for plain addresses and names (#18: tokenizing every hop
    was most of a resolve) gives what the tokenizer path gives."""
    from virtc.lookup.resolve import _classify

    assert classify(text) == _classify(text), text


@settings(max_examples=3000, deadline=None)
@given(st.one_of(st.text(alphabet="aZ09_-.:%@!^/[]+<>,;\"()\\ \t\r\x0b\x0céü", max_size=24),
                 st.text(alphabet="a.%( )", max_size=24)))
def test_tokenize_fast_path_equals_the_loop(text: str) -> None:
    """The regexes for texts without quotes or backslashes (comments dropped) give what the
    loop gives."""
    from virtc.lookup.tokens import tokenize_slowly

    assert tokenize(text) == tokenize_slowly(text), text


_value_word = st.from_regex(r"[A-Za-z0-9_=-]{1,6}", fullmatch=True)
_values = st.one_of(
    st.text(alphabet="aZ09_-.:%@!<>\"() \t,+=", max_size=20),
    st.builds("{}@{}".format, _value_word,
              st.sampled_from(["probe.test", "Local.TEST", "out.test", "o-1.t"])),
    st.builds("error:{}:{}".format, st.from_regex(r"[0-9]{1,4}(\.[0-9]{1,4}){0,3}", fullmatch=True),
              st.text(alphabet="aZ09 .-_:@,", max_size=20)),
    _value_word, st.builds("{}.{}".format, _value_word, _value_word),
)


@settings(max_examples=3000, deadline=None)
@given(_values)
def test_final_target_is_what_resolve_ends_with(value: str) -> None:
    """The exports' fast path (a value that needs no further lookup) ends where resolve
    ends, in one step; it declines the values that need more (a local domain, '%N', odd text)."""
    from virtc.lookup.resolve import Final, final_target, local_domain_set

    domains = local_domain_set(["probe.test", "local.test"])
    r = resolve("u+d@probe.test", LookupTable.from_pairs({"u+*@probe.test": value}), domains)
    fast = final_target(value, domains)
    if fast is not None:
        assert fast == Final(r.kind, r.result, r.status, r.text) and len(r.steps) == 1, value
    else:
        plain = r"[A-Za-z0-9_=-]+(@(out\.test|o-1\.t))?|error:5\.1\.1:550 [a-z]+"
        assert not re.fullmatch(plain, value), value


_NOTHING_VALUES = st.one_of(
    _values, st.text(alphabet="aE:5.1 ()<>\"\\;#\xe9\t", max_size=24),
    st.builds("error:{}:{} {}".format, st.sampled_from(["5.1.1", "4.2.1", "5.7.1", "x", "5.1"]),
              st.sampled_from(["550", "450", "", "5x0"]), st.text(alphabet="aZ ()<>.:#\xe9;\"", max_size=16)),
).filter(lambda v: not any(c in v for c in "@%!\n"))


@settings(max_examples=3000, deadline=None)
@given(_NOTHING_VALUES, st.sampled_from(["postmaster", "a.b", "U-1", "x" * 250]),
       st.sampled_from(["probe.test", "Local.test", "out.test"]))
def test_catch_all_end_is_what_resolve_ends_with(value: str, user: str, domain: str) -> None:
    """A catch-all that names nothing, the first key found: its one hop ends as resolve says."""
    from virtc.lookup.resolve import Final, catch_all_end, local_domain_set

    domains = local_domain_set(["probe.test", "local.test"])
    address = f"{user}@{domain}"
    fast = catch_all_end(address, value, domains)
    r = resolve(address, LookupTable.from_pairs({f"@{domain.lower()}": value}), domains)
    if fast is not None:
        event(f"ends: {fast.kind}")
        assert r.chain == (f"@{domain.lower()}",) and fast == Final(r.kind, r.result, r.status, r.text), value
    else:
        assert r.chain != (f"@{domain.lower()}",) or r.kind not in ("error", "local") \
            or len(r.steps) > 1, value


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(_values, st.just("x" * 250 + "@probe.test"), st.builds(
    "{}@{}".format, st.text(alphabet="a+.-_", max_size=6),
    st.sampled_from(["probe.test", "LOCAL.test", "localhost", "LocalHost", "out.test"]))), max_size=8))
def test_quick_hops_are_quick_hop_of_each(addresses: list[str]) -> None:
    from virtc.lookup.resolve import local_domain_set, quick_hop, quick_hops

    domains = local_domain_set(["probe.test", "local.test", "localhost"])
    assert quick_hops(addresses, domains) == [quick_hop(a, domains) for a in addresses]
    # (local: the addresses' domains known to be in the set as written, not asked again)
    mine = [a for a in addresses if a.rpartition("@")[2] in domains]
    assert quick_hops(mine, domains, local=True) == [quick_hop(a, domains) for a in mine]


@settings(max_examples=3000, deadline=None)
@given(st.one_of(_NOTHING_VALUES,
                 st.builds("{}{}".format, _NOTHING_VALUES, st.sampled_from(["%", " 100%", "%1"]))),
       st.sampled_from(["postmaster", "a.b", "x" * 250]), st.sampled_from(["probe.test", "out.test"]))
def test_hit_error_is_what_resolve_ends_with(value: str, user: str, domain: str) -> None:
    """A first hit refused or answered by the error rule ends as resolve says, '%' or not:
    ``hit_error`` of the hit's value after its %N (the step's ``substituted``)."""
    from virtc.lookup.resolve import Final, hit_error, local_domain_set

    domains = local_domain_set(["probe.test", "local.test"])
    address = f"{user}@{domain}"
    r = resolve(address, LookupTable.from_pairs({address.lower(): value}), domains)
    hit = r.steps[0].substituted if r.steps else None
    fast = None if hit is None else hit_error(address, hit, domains)
    if fast is not None:
        event("an error")
        assert fast == Final(r.kind, r.result, r.status, r.text) and r.kind == "error", value


_STATUS_TEXTS = st.builds("{}:{}{}".format, st.sampled_from(["error", "ERROR", "Error", " error", "error "]),
                          st.sampled_from(["5.1.1:550", "5.2.2:552", "5.2.2", "5.1.1", "05.1.1:550",
                                           "4.2.1:450", "5.1.1 550", "5.1.1.1:550", "5. 1.1:550", "nouser",
                                           "x"]),
                          st.text(alphabet="aZ ()<>.:#%\xe9;\"\\1", max_size=14))


@settings(max_examples=3000, deadline=None)
@given(_STATUS_TEXTS, _STATUS_TEXTS, st.sampled_from(["postmaster", "a.b", "x" * 250, "a<b", ""]),
       st.sampled_from(["probe.test", "out.test"]))
def test_hit_errors_differ_as_the_two_hit_errors(mine: str, theirs: str, user: str, domain: str) -> None:
    """VT105's shortcut: two reject texts whose statuses differ end apart, unless prescan
    refuses one: as comparing the two ``hit_error``s."""
    from virtc.lookup.resolve import hit_error, hit_errors_differ, local_domain_set

    domains = local_domain_set(["probe.test", "local.test"])
    address = f"{user}@{domain}"
    x, y = hit_error(address, mine, domains), hit_error(address, theirs, domains)
    differ = hit_errors_differ(address, mine, theirs, domains)
    event(f"differ: {differ}")
    assert differ == (x is not None and y is not None and x != y), (mine, theirs)


@settings(max_examples=2000, deadline=None)
@given(st.builds("error:{}{}".format, st.sampled_from(["5.1.1:550", "5.1.1", "nouser", "4.2.1:450", "x", "",
                                                     "5.1.1:", "5.1.1 550", '"5.1.1":550']),
                 st.text(alphabet="a <>.:\"", max_size=8)),
       st.lists(st.sampled_from(["a", "b.c", "x>y", "p:q", "<z>"]), min_size=2, max_size=2, unique=True))
def test_error_rule_remembers_only_what_the_address_has_no_part_in(value: str, users: list[str]) -> None:
    """A reject's reply kept by value is the one made afresh for any other address."""
    import importlib

    module = importlib.import_module("virtc.lookup.resolve")
    first, second = (module._Address(user, "probe.test") for user in users)
    module._OWN_ERRORS.clear()
    module._error_rule(value, first)
    remembered = module._error_rule(value, second)
    module._OWN_ERRORS.clear()
    assert remembered == module._error_rule(value, second), value


_SUB_TEXT = st.text(alphabet="%0123a@9", max_size=8)


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.tuples(_SUB_TEXT, _SUB_TEXT, _SUB_TEXT), max_size=6))
def test_substitute_users_is_substitute_of_each(rows: list[tuple[str, str, str]]) -> None:
    from virtc.lookup.keys import substitute_users

    values, wholes, users = ([row[k] for row in rows] for k in range(3))
    assert substitute_users(values, wholes, users) == [substitute(v, (w, u)) for v, w, u in rows]
    for detail in ("", "x9"):
        assert substitute_users(values, wholes, users, detail) == [
            substitute(v, (w, u, detail, "+" + detail)) for v, w, u in rows]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_values, st.builds("{}%{}@out.test".format, _value_word, _value_word),
                          st.just("a" * 250 + "@out.test"), st.just("a.b" * 90)), max_size=8))
def test_final_kinds_are_final_kind_of_each(values: list[str]) -> None:
    from virtc.lookup.resolve import final_kind, final_kinds, local_domain_set

    domains = local_domain_set(["probe.test", "local.test"])
    assert final_kinds(values, domains) == [final_kind(v, domains) for v in values]
    # (texts other than plain names and addresses are parsed once each: repeats, and
    # different texts that start alike)
    others = ["error:5.1.1:550 no", "error x", "error:4.2.2:450 full", "error:5.1.1:550 no", "a b", "a@b, c",
              "|/bin/prog", "|/bin/prog x", "a%b@local.test", "a%b@out.test", "a b"]
    assert final_kinds(others, domains) == [final_kind(v, domains) for v in others]


@settings(max_examples=3000, deadline=None)
@given(st.one_of(_values, st.builds("{}+{}@{}".format, _value_word, st.sampled_from(["", "*", "x*", "+"]),
                                    st.sampled_from(["probe.test", "out.test", "o.test.VM", "Local.test"]))))
def test_relayed_end_is_what_resolve_ends_with(value: str) -> None:
    """A value that is an address outside the local domains, plain words or not, ends
    relayed there in one step, as resolve says (VT105 compares two such ends)."""
    from virtc.lookup.resolve import Final, local_domain_set, relayed_end

    domains = local_domain_set(["probe.test", "local.test"])
    r = resolve("u+d@probe.test", LookupTable.from_pairs({"u+*@probe.test": value}), domains)
    fast = relayed_end(value, domains)
    if fast is not None:
        assert fast == Final(r.kind, r.result, r.status, r.text) and len(r.steps) == 1, value
    elif r.kind == "remote" and "%" not in value and "error" not in value.lower():
        assert len(r.steps) != 1, value  # (only a value the engine relays in one step is one)


@settings(max_examples=3000, deadline=None)
@given(st.one_of(_values, st.builds("{}%{}@{}".format, _value_word,
                                    st.sampled_from(["1", "d", "probe.test", "%", ""]),
                                    st.sampled_from(["probe.test", "out.test", "o.test.VM", "Local.test"]))))
def test_relayed_end_of_a_substituted_value_is_what_resolve_ends_with(value: str) -> None:
    """``literal``: the value after its %N (the step's ``substituted``), a '%' left in it a
    character (``u%d@gw``, the %-hack, relayed as written to a host not local)."""
    from virtc.lookup.resolve import Final, local_domain_set, relayed_end

    domains = local_domain_set(["probe.test", "local.test"])
    r = resolve("u+d@probe.test", LookupTable.from_pairs({"u+*@probe.test": value}), domains)
    hit = r.steps[0].substituted if r.steps else None
    fast = None if hit is None else relayed_end(hit, domains, literal=True)
    if fast is not None:
        event("relayed at once")
        assert fast == Final(r.kind, r.result, r.status, r.text) and len(r.steps) == 1, value
    elif r.kind == "remote" and hit is not None and "error" not in value.lower() and \
            hit.rpartition("@")[2].lower() not in domains:  # (not the %-hack of a local domain)
        assert len(r.steps) != 1, value  # (relayed as written in one step: this says so)


@settings(max_examples=2000, deadline=None)
@given(st.builds("{}{}".format, st.lists(st.text(alphabet="aB1._=+-%", min_size=0, max_size=5), min_size=1,
                                         max_size=4).map("%".join), st.sampled_from(["", "+", "++", "%"])),
       st.sampled_from(["probe.test", "out.test", "Out.Test", "o.test.VM", "local.test", "x..y", "-x.test",
                        "a_b.test", ""]))
def test_relayed_end_of_a_plain_address_as_tokenized(local: str, domain: str) -> None:
    """The fast path of a plain address, with the %-hack (``u%d@gw``) or an empty detail
    (``u+@gw``), without tokenizing, ends as the tokenizer's path."""
    import importlib

    module = importlib.import_module("virtc.lookup.resolve")
    domains = module.local_domain_set(["probe.test", "local.test"])
    value = f"{local}@{domain}"
    fast = module.relayed_end(value, domains, literal=True)
    with patch.object(module, "_AS_WRITTEN", re.compile("(?!)")):
        assert fast == module.relayed_end(value, domains, literal=True), value
    event(f"relayed: {fast is not None}")


def test_relayed_end_examples() -> None:
    from virtc.lookup.resolve import relayed_end

    domains = frozenset({"here.test"})
    assert relayed_end("u+*@there.test.VM", domains) == ("remote", "u+*@there.test.VM", None, None)
    assert relayed_end("u+@there.test", domains) == ("remote", "u+@there.test", None, None)
    assert relayed_end("u+@here.test", domains) is None  # looked up again
    assert relayed_end("bob", domains) is None and relayed_end("%1@there.test", domains) is None
    assert relayed_end("error:5.1.1:550 no", domains) is None
    assert relayed_end("u%d@there.test", domains) is None  # (a %N: substitute first)
    assert relayed_end("u%d@there.test", domains, literal=True) == ("remote", "u%d@there.test", None, None)
    assert relayed_end("u%d@here.test", domains, literal=True) is None  # (the %-hack: looked up)


def test_final_target_examples() -> None:
    from virtc.lookup.resolve import final_target

    domains = frozenset({"here.test"})
    assert final_target("bob", domains) == ("local", "bob", None, None)
    assert final_target("bob@there.test", domains) == ("remote", "bob@there.test", None, None)
    assert final_target("bob@Here.test", domains) is None  # looked up again
    assert final_target("error:5.1.1:550 User unknown at a.test", domains) == (
        "error", None, "5.1.1", "550 5.1.1 User unknown at a.test")
    assert final_target("error:5.1.1:550  two blanks", domains) is None  # the tokenizer joins them
    assert final_target("%1@there.test", domains) is None


_quick_locals = st.sampled_from(["a", "b", "a+x", "a+", "b+x.y", "c", "+z", "A.b", "x_1", "a.", "a++"])
_quick_domains = st.sampled_from(["d1.test", "d2.test", "out.test"])
_quick_values = st.one_of(
    _values, st.sampled_from(["%1@d2.test", "%1%3@d1.test", "%1%3@out.test", "%2@d1.test", "x%1@d2.test",
                              "%0", "@", "!", "%1", "error:4.2.2:450 later", "a@d1.test", "b@d2.test"]))
_quick_keys = st.builds(lambda local, domain, kind: {"addr": f"{local}@{domain}", "ca": f"@{domain}",
                                                     "any": f"{local.split('+')[0]}+*@{domain}",
                                                     "plus": f"++@{domain}"}[kind],
                        _quick_locals, _quick_domains, st.sampled_from(["addr", "ca", "any", "plus"]))


@settings(max_examples=3000, deadline=None)
@given(st.dictionaries(_quick_keys, _quick_values, max_size=8), _quick_locals, _quick_domains)
def test_quick_end_is_what_resolve_ends_with(table: dict[str, str], local: str, domain: str) -> None:
    """The qmail export's fast path: where it answers, resolve ends the same way (chains
    through '%1' templates, '+detail' keys, catch-alls); it leaves loops and odd values alone."""
    from virtc.lookup.resolve import Final, local_domain_set, quick_end, quick_path

    domains = local_domain_set(["d1.test", "d2.test"])
    lookup = LookupTable.from_pairs(table)
    address = f"{local}@{domain}"
    fast = quick_path(address, lookup, domains)
    assert quick_end(address, lookup, domains) == (fast and fast[0])
    if fast is not None:
        r = resolve(address, lookup, domains)
        path = [*(s.address for s in r.steps), r.steps[-1].substituted]
        ends = (Final(r.kind, r.result, r.status, r.text), path)
        assert fast == ends, (address, table)


def test_an_empty_domain_is_never_local() -> None:
    """Found by the fuzzer: prescan can leave an address with nothing after its last '@';
    with an empty string among the local domains (a junk list) resolve raised ValueError."""
    address = b"bareuse\n\n\\@n.t\xc2\xbd\xc2\xbdest 1\n\nb@x.bareuse\n\n\\@".decode("latin-1")
    r = resolve(address, LookupTable.from_pairs({"b@x.test": "1"}), {""}, virthost=True)
    assert r.kind == "not-local" and not r.steps


_FIRST_KEYS = st.sampled_from(["u+detail", "u++", "u+*", "u", "++", "+*", "", "U+*", "x"])
_FIRST_VALUES = st.sampled_from(["box", "@", " @ ", "!", "%1@out.test", "error:5.1.1:550 no",
                                 "%1%3@local.test", "u@probe.test", "%2"])
_FIRST_DOMAINS = st.sampled_from(["probe.test", "local.test", "out.test"])
_FIRST_ADDRESSES = ["u+detail@probe.test", "U+detail@Probe.test", "u@probe.test", "anyone+detail@probe.test",
                    "u+@probe.test"]
_NOT_PLAIN = ["u+detail@out.test", "u+detail@probe.test.", "a%b+d@probe.test"]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.tuples(_FIRST_KEYS, _FIRST_DOMAINS, _FIRST_VALUES), max_size=8),
       st.sampled_from(_FIRST_ADDRESSES + _NOT_PLAIN))
def test_first_key_is_resolves_first(rows: list[tuple[str, str, str]], address: str) -> None:
    """The first key found, looked up alone, is the first of resolve's chain ('@' and '!'
    markers, %N values and case included); False only for what is not a plain local address."""
    from virtc.lookup.resolve import first_key, local_domain_set

    table = LookupTable.from_pairs({f"{k}@{d}": v for k, d, v in rows})
    domains = local_domain_set(["probe.test", "local.test"])
    fast = first_key(address, table, domains)
    r = resolve(address, table, domains)
    if fast is False:
        assert address in _NOT_PLAIN
    else:
        assert fast == (r.chain[0] if r.chain else None), (rows, address)
