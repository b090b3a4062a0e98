"""``virtc export qmail``'s records: sendmail's RCPT verdict as a validrcptto accept list."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from virtc.exports.qmail import records, text_form
from virtc.source.parse import parse_text


def recs(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    out, diagnostics = records(parse_text(text, "t"))
    return out, [f"{d.line} {d.code}" for d in diagnostics]


CASES = {
    "a closed domain lists what it accepts, keys lower-cased": (
        "Alice@A.test\talice\nbob@a.test\terror:5.1.1:550 gone\n@a.test\terror:5.1.1:550 No\n",
        [("alice@a.test", "")], ["1 QM104"]),
    "an open domain is @domain, with its rejects as '-'": (
        "@b.test\tall@out.test\nbad@b.test\terror:5.1.1:550 no\ngood@b.test\tgood\n",
        [("@b.test", ""), ("bad@b.test", "-")], ["2 QM104"]),
    "a domain without a catch-all delivers unknown names locally: open": (
        "x@c.test\tx\n", [("@c.test", "")], []),
    "a loop is rejected at RCPT (554)": (
        "@b.test\tall@out.test\nping@b.test\tpong@b.test\npong@b.test\tping@b.test\n",
        [("@b.test", ""), ("ping@b.test", "-"), ("pong@b.test", "-")], ["2 QM104"]),
    "a forward into a rejecting key is rejected": (
        "@b.test\tall@out.test\nfwd@b.test\tgone@a.test\ngone@a.test\terror:5.1.1:550 gone\n"
        "@a.test\terror:5.1.1:550 No\n",
        [("@b.test", ""), ("fwd@b.test", "-")], ["2 QM104"]),
    "an alias domain accepts the names its target accepts": (
        "@alias.test\t%1@a.test\nann@a.test\tann\n@a.test\terror:5.1.1:550 No\n",
        [("ann@alias.test", ""), ("ann@a.test", "")], ["1 QM104", "2 QM104"]),
    "an alias domain with a prefix: '@d  list-%1@a' reaches list-x@a": (
        "@l.test\tlist-%1@a.test\nlist-dev@a.test\tdev\n@a.test\terror:5.1.1:550 No\n",
        [("dev@l.test", ""), ("list-dev@a.test", "")], ["1 QM104", "2 QM104"]),
    "'+' wildcards cannot be said: reported": (
        "bob+*@a.test\tbob\n@a.test\terror:5.1.1:550 No\n", [], ["1 QM101"]),
    "a key ending in -default is a wildcard to qmail: not exported, reported": (
        "x-default@a.test\tx\n@a.test\terror:5.1.1:550 No\n", [], ["1 QM103", "1 QM104"]),
    "a -default key answered like unknown addresses needs no key: exact, not reported": (
        "x-default@a.test\terror:5.1.1:550 gone\n@a.test\terror:5.1.1:550 No\n", [], []),
    "a -default name an alias catch-all reaches is left out too": (
        "@l.test\t%1@a.test\nx-default@a.test\tx\n@a.test\terror:5.1.1:550 No\n", [],
        ["1 QM103", "1 QM104", "2 QM103", "2 QM104"]),
    "a name whose answer is the domain's needs no key, and its +detail agrees: silent": (
        "@b.test\tall@out.test\ngood@b.test\tgood\nbad@a.test\terror:5.1.1:550 No\n"
        "@a.test\terror:5.1.1:550 No\n", [("@b.test", "")], []),
    "a key with '+' in it is an exact address to both": (
        "joe+box@a.test\tjoe\n@a.test\terror:5.1.1:550 No\n", [("joe+box@a.test", "")], []),
    "a catch-all whose %3 sends +detail elsewhere is reported on the catch-all": (
        "@b.test\t%1%3@a.test\nx+*@a.test\tx\n@a.test\terror:5.1.1:550 No\n",
        [], ["1 QM104", "2 QM101"]),
    "a non-ASCII key cannot be a validrcptto key: left out, reported": (
        "j\u00fcrgen@a.test\tj\n@a.test\terror:5.1.1:550 No\n", [], ["1 QM104", "1 QM105"]),
    "a 4xx reject becomes qmail's permanent 553: reported": (
        "full@a.test\terror:4.2.2:450 full\n@b.test\terror:4.3.0:451 later\n"
        "@a.test\terror:5.1.1:550 No\n", [], ["1 QM102", "2 QM102"]),
}


@pytest.mark.parametrize("name", CASES)
def test_case(name: str) -> None:
    text, want, reported = CASES[name]
    got, diagnostics = recs(text)
    assert sorted(got) == sorted(want)
    assert diagnostics == reported


def test_text_form() -> None:
    assert text_form([("@b.test", ""), ("bad@b.test", "-"), ("a@c.test", "")]) == \
        b"@b.test\n-bad@b.test\na@c.test\n"


def test_names_with_a_dash_never_become_default_keys() -> None:
    """jms1 tries 'a-default@d' for 'a-b@d': no key the export writes may end in '-default'."""
    got, _ = recs("a@d.test\ta\na-b@d.test\terror:5.1.1:550 No\n@d.test\terror:5.1.1:550 No\n")
    assert got == [("a@d.test", "")]
    assert not any(k.split("@")[0].endswith("-default") for k, _ in got)


def test_text_form_cannot_hold_a_key_starting_with_dash() -> None:
    """In control/validrcptto '-x@d' is the reject of 'x@d': such a key is reported, not written."""
    table = parse_text("-x@a.test\tx\n@a.test\terror:5.1.1:550 No\n", "t")
    assert records(table)[0] == [("-x@a.test", "")]
    got, diagnostics = records(table, text=True)
    assert got == [] and [d.code for d in diagnostics] == ["QM104", "QM105"]


def test_messages_say_what_qmail_does_instead() -> None:
    _, diagnostics = records(parse_text("bob+*@a.test\tbob\n@a.test\terror:5.1.1:550 No\n", "t"))
    assert diagnostics[0].severity.name == "WARNING"
    assert "'@a.test', which rejects them" in diagnostics[0].message


_locals = st.sampled_from(["a", "b", "a+x", "a+", "c", "+z", "A.b", "x_1", "virtc-unnamed-7f3q"])
_domains = st.sampled_from(["d1.test", "d2.test", "D3.test"])
_keys = st.builds(lambda local, domain, kind: {"addr": f"{local}@{domain}", "ca": f"@{domain}",
                                               "any": f"{local.split('+')[0] or 'u'}+*@{domain}",
                                               "plus": f"++@{domain}"}[kind],
                  _locals, _domains, st.sampled_from(["addr", "addr", "ca", "any", "plus"]))
_values = st.one_of(
    st.sampled_from(["a", "b@d2.test", "c@out.test", "%1@d2.test", "%1%3@d1.test", "%1%3@D3.test",
                     "%1%3@out.test", "%2@d1.test", "x%1@d2.test", "%1+%2@d1.test", "@", "!", "%0",
                     "error:5.1.1:550 no", "error:4.2.2:450 later", "error:5.1.1:550 a  b", "(c)@"]),
    st.text(alphabet="aZ09_-.:%@!<>\"() ,+=", min_size=1, max_size=12).map(str.strip).filter(bool))


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.tuples(_keys, _values), min_size=1, max_size=8))
def test_quick_verdicts_are_resolves(lines: list[tuple[str, str]]) -> None:
    """The export's shortcuts (quick_end for a verdict, the '+detail' probes answered as the
    plain address) give the records and findings that resolving every probe gives."""
    import virtc.exports.qmail as qmail

    table = parse_text("".join(f"{k}\t{v}\n" for k, v in lines), "t")
    fast = records(table)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(qmail, "quick_end", lambda *_: None)
        mp.setattr(qmail, "_plus_like_plain", lambda *_: False)
        slow = records(table)
    assert fast == slow, lines
