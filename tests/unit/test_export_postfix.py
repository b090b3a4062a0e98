"""The Postfix translation, file by file (the real Postfix answers in tests/oracle)."""

from __future__ import annotations

from pathlib import Path

import pytest

from virtc.exports.postfix import CODES, FILES, export_postfix
from virtc.source.parse import parse_bytes

REJECT = "error:5.1.1:550 User unknown"


def export(tmp_path: Path, text: str) -> tuple[dict[str, str], list[str]]:
    diagnostics = export_postfix(parse_bytes(text.encode("latin-1"), "vt"), tmp_path)
    files = {name: (tmp_path / name).read_text() for name in FILES}
    return files, [f"{d.line}:{d.code}" for d in diagnostics]


def test_plain_domain_goes_to_the_hash_maps(tmp_path: Path) -> None:
    files, diags = export(tmp_path, f"a@d.test\talice\nB@D.test\tbob@far.test\n@d.test\t{REJECT}\n")
    assert diags == []
    assert files["virtual"] == "a@d.test\talice\nb@d.test\tbob@far.test\n"
    assert files["recipient_access"] == ("a@d.test\tDUNNO\nb@d.test\tDUNNO\n"
                                         "d.test\t550 5.1.1 User unknown\n")
    assert files["virtual_domains"] == "d.test\n"
    assert files["virtual_regexp"] == files["recipient_access_regexp"] == ""
    assert "recipient_delimiter = +\npropagate_unmatched_extensions = canonical\n" in files["main.cf"]
    assert "mydestination" not in files["main.cf"]


def test_chains_are_followed_to_their_end(tmp_path: Path) -> None:
    """sendmail answers RCPT for where the chain ends; Postfix only checks the first address."""
    files, _ = export(tmp_path, f"a@d.test\tb@d.test\nb@d.test\tbob\nc@d.test\tx@d.test\n@d.test\t{REJECT}\n")
    assert "a@d.test\tbob\n" in files["virtual"]
    assert "c@d.test\t550 5.1.1 User unknown\n" in files["recipient_access"]
    assert "c@d.test" not in files["virtual"]


def test_a_domain_without_catch_all_is_local(tmp_path: Path) -> None:
    files, _ = export(tmp_path, "a@d.test\talice\nb@d.test\terror:nouser 550 gone\n")
    assert files["virtual_domains"] == ""
    assert files["main.cf"].endswith("mydestination = $myhostname, localhost.$mydomain, localhost, d.test\n")
    assert files["recipient_access"] == "a@d.test\tDUNNO\nb@d.test\t550 5.0.0 gone\nd.test\tDUNNO\n"


def test_wildcards_are_regexp_rules_in_sendmails_order(tmp_path: Path) -> None:
    text = f"++@d.test\tplus\nbob@d.test\tbob\nbob+*@d.test\tany\n@d.test\t{REJECT}\n"
    files, diags = export(tmp_path, text)
    assert diags == []
    assert files["virtual"] == "bob@d.test\tbob\n"  # step 1: Postfix's first lookup too
    assert files["virtual_regexp"].splitlines() == [
        "/^(bob)\\+([^@]*)@d\\.test$/\tany",  # bob+*@ (step 3) before bob@ (step 4)
        "/^(bob)\\+([^@]*)@d\\.test$/\tbob",
        "/^([^@][^+@]*)\\+([^@]+)@d\\.test$/\tplus",  # ++@ after every user's own keys
    ]
    assert files["recipient_access_regexp"].splitlines()[-2:] == [
        "/^([^@][^+@]*)\\+([^@]*)@d\\.test$/\t550 5.1.1 User unknown",
        "/^([^@]+)@d\\.test$/\t550 5.1.1 User unknown",
    ]
    assert files["recipient_access"] == "d.test\tDUNNO\n"


def test_substitutions_become_captures(tmp_path: Path) -> None:
    files, diags = export(tmp_path, "@d.test\t%1%3@far.test\n")
    assert diags == []
    assert files["virtual_regexp"].splitlines() == [
        "/^([^@][^+@]*)\\+([^@]*)@d\\.test$/\t${1}+${2}@far.test",  # %3 is +detail
        "/^([^@]+)@d\\.test$/\t${1}@far.test",  # no '+': %3 is empty
    ]


def test_a_dollar_in_a_regexp_reply_is_doubled(tmp_path: Path) -> None:
    files, _ = export(tmp_path, "x+*@d.test\terror:5.7.1:550 pay $5\n@d.test\tall\n")
    assert "\t550 5.7.1 pay $$5\n" in files["recipient_access_regexp"]


@pytest.mark.parametrize(("text", "expected"), [
    ("a@d.test\t|/bin/prog\n", "1:PF102"),
    ("a@d.test\terror:5.1.1:450 later\n", "1:PF104"),
    ("a@d.test\terror:2.0.0:250 fine\n", "1:PF103"),
    ("\xe9@d.test\talice\n", "1:PF105"),
    ("a@d.test\t@\n", "1:PF107"),
    ("a@d.test\t%0\n", "1:PF108"),
    ("@d.test\t%1@e.test\n@e.test\terror:5.1.1:550 no\n", "1:PF101"),
])
def test_what_postfix_reads_differently_is_reported(tmp_path: Path, text: str, expected: str) -> None:
    assert export(tmp_path, text)[1] == [expected]
    assert expected.split(":")[1] in CODES


def test_a_late_check_into_an_accepting_domain_is_exact(tmp_path: Path) -> None:
    files, diags = export(tmp_path, "@d.test\t%1@e.test\n@e.test\tall\n")
    assert diags == []
    assert "/^([^@]+)@d\\.test$/\t${1}@e.test\n" in files["virtual_regexp"]
