"""The sendmail -bt oracle harness itself: it must report what sendmail really does."""

from __future__ import annotations

from pathlib import Path

from support.oracles import TEST_DATA
from support.sendmail import SendmailOracle, error_reply, resolve_with_sendmail

from virtc.compat import zip_strict

DATA = TEST_DATA / "query"


def test_harness_reads_bt_output(sendmail: str) -> None:
    addrs = ["alice@example.com", "Bob+foo@Example.COM", "nosuch@example.com", "info@example.org",
             "list@example.net", "loop1@example.net", "x@example.net", "a@elsewhere.test"]
    r = {x.address: x for x in resolve_with_sendmail(DATA / "basic.vt", addrs)}
    assert (r["alice@example.com"].mailer, r["alice@example.com"].user) == ("local", "alice")
    assert r["Bob+foo@Example.COM"].lookups[:3] == (
        ("Bob+foo@Example.COM", None), ("Bob++@Example.COM", None), ("Bob+*@Example.COM", "bob-detail"))
    assert r["Bob+foo@Example.COM"].matched == ("Bob+*@Example.COM",)
    nosuch = r["nosuch@example.com"]
    assert (nosuch.mailer, nosuch.host, nosuch.user) == ("error", "nouser", "550 5.1.1 User unknown")
    assert (r["info@example.org"].mailer, r["info@example.org"].host) == ("esmtp", "other.example.net.")
    assert r["list@example.net"].reply == "553 5.1.3 Invalid route address"
    assert r["loop1@example.net"].recursion and not r["alice@example.com"].recursion
    assert (r["x@example.net"].mailer, r["x@example.net"].lookups) == ("local", (
        ("x@example.net", None), ("@example.net", None)))
    assert r["a@elsewhere.test"].lookups == () and r["a@elsewhere.test"].mailer == "esmtp"


def test_harness_virthost_and_db(sendmail: str, tmp_path: Path) -> None:
    with SendmailOracle(DATA / "basic.vt", virthost=True) as oracle:
        (x,) = oracle.resolve(["x@example.net"])
        assert (x.mailer, x.host) == ("esmtp", "example.net.")  # unmatched VirtHost: relayed
        db = tmp_path / "copy.db"
        db.write_bytes((oracle.dir / "virtusertable.db").read_bytes())
    (alice,) = resolve_with_sendmail(db, ["ALICE@example.com"])
    assert (alice.mailer, alice.user, alice.matched) == ("local", "alice", ("ALICE@example.com",))


def test_reply_formula_matches_smtp(sendmail: str, tmp_path: Path) -> None:
    """error_reply() (used for -bt results) agrees with real RCPT TO replies."""
    values = ["error:nouser 550 No such user here", "error:5.1.1:550 User unknown",
              "error:4.2.2:450 mailbox full", "error:tempfail 451 try later",
              "error:nouser No such user", "error:550 Just text", "error:5.1.1:User unknown",
              "error:5.1.1:550", "error:5.1.1:550 5.2.2 text", "error:nouser \"550 quoted text\"",
              "error:bogus 550 x", "error:a.b.c:550 x", "error:5.1.1x:550 x",
              "ERROR:5.7.0:550 Address invalid", "a, b", "root root",
              "@other.test", "|/bin/prog", "/some/file", ":include:/x"]
    table = tmp_path / "vt"
    table.write_text("".join(f"e{i}@d.test {v}\n" for i, v in enumerate(values)))
    addrs = [f"e{i}@d.test" for i in range(len(values))]
    with SendmailOracle(table) as oracle:
        bt = oracle.resolve(addrs)
        smtp = oracle.smtp_replies(addrs)
    for value, r, real in zip_strict(values, bt, smtp):
        if r.is_error:
            assert r.reply == real, value
    assert error_reply("nouser", "550 No such user") == "550 5.0.0 No such user"
