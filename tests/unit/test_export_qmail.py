"""``virtc export qmail``'s records: sendmail's RCPT verdict as a validrcptto accept list."""

from __future__ import annotations

import pytest

from virtc.exports.qmail import records, text_form
from virtc.source.parse import parse_text


def recs(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    out, diagnostics = records(parse_text(text, "t"))
    return out, [f"{d.line} {d.code}" for d in diagnostics]


CASES = {
    "a closed domain lists what it accepts, keys lower-cased": (
        "Alice@A.test\talice\nbob@a.test\terror:5.1.1:550 gone\n@a.test\terror:5.1.1:550 No\n",
        [("alice@a.test", "")], []),
    "an open domain is @domain, with its rejects as '-'": (
        "@b.test\tall@out.test\nbad@b.test\terror:5.1.1:550 no\ngood@b.test\tgood\n",
        [("@b.test", ""), ("bad@b.test", "-")], []),
    "a domain without a catch-all delivers unknown names locally: open": (
        "x@c.test\tx\n", [("@c.test", "")], []),
    "a loop is rejected at RCPT (554)": (
        "@b.test\tall@out.test\nping@b.test\tpong@b.test\npong@b.test\tping@b.test\n",
        [("@b.test", ""), ("ping@b.test", "-"), ("pong@b.test", "-")], []),
    "a forward into a rejecting key is rejected": (
        "@b.test\tall@out.test\nfwd@b.test\tgone@a.test\ngone@a.test\terror:5.1.1:550 gone\n"
        "@a.test\terror:5.1.1:550 No\n",
        [("@b.test", ""), ("fwd@b.test", "-")], []),
    "an alias domain accepts the names its target accepts": (
        "@alias.test\t%1@a.test\nann@a.test\tann\n@a.test\terror:5.1.1:550 No\n",
        [("ann@alias.test", ""), ("ann@a.test", "")], []),
    "an alias domain with a prefix: '@d  list-%1@a' reaches list-x@a": (
        "@l.test\tlist-%1@a.test\nlist-dev@a.test\tdev\n@a.test\terror:5.1.1:550 No\n",
        [("dev@l.test", ""), ("list-dev@a.test", "")], []),
    "'+' wildcards cannot be said: reported": (
        "bob+*@a.test\tbob\n@a.test\terror:5.1.1:550 No\n", [], ["1 QM101"]),
    "a key ending in -default is a wildcard to qmail: not exported, reported": (
        "x-default@a.test\tx\n@a.test\terror:5.1.1:550 No\n", [], ["1 QM103"]),
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
