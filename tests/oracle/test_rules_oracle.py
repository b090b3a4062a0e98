"""Evidence: the real sendmail does what each lint rule says it does.

Each test feeds a rule's own ``bad.vt`` fixture (tests/data/rules/CODE/) to the real
makemap + sendmail (tests/support/sendmail.py) and checks the behaviour the rule's
messages claim: the reply a sender gets, the key that is never looked up, the address
that is accepted although nobody meant it. Where a message quotes a reply
(``rejects with '553 5.3.0 ...'``), the quote itself is compared with the real RCPT reply.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from support.rules import DATA, apply_fix, lint_file, local_domains_of
from support.sendmail import SendmailOracle

from virtc.compat import zip_strict
from virtc.lint.config import LintConfig
from virtc.lint.registry import rule_by_id
from virtc.lint.rule import LintContext
from virtc.source.parse import parse_bytes

pytestmark = pytest.mark.oracle

# A reply quoted in a message: "rejects with '553 5.3.0 No such user'", "replies '550 5.0.0'" ...
_QUOTED_REPLY = re.compile(r"(?:rejects with|replies|sends|rejects it with|rejects this with)"
                           r"(?: a garbled)? '([1-9]\d\d [^']*)'")


def oracle_for(code: str, **kw: object) -> SendmailOracle:
    return SendmailOracle(DATA / code / "bad.vt", **kw)  # type: ignore[arg-type]


def verify(oracle: SendmailOracle, address: str) -> str:
    """What ``sendmail -bv`` says about one address (the checks delivery would make)."""
    # run() appends "-C cf" after the arguments, where -bv would take them for addresses: give it first.
    out = oracle.run(["-C", str(oracle.cf), "-bv", address], "")
    return next(line.split("... ", 1)[1] for line in out.splitlines() if line.startswith(address + "..."))


def line_address(code: str, line: int) -> str:
    """The key of line ``line`` of a fixture, which is also the address to ask about."""
    text = (DATA / code / "bad.vt").read_bytes().decode("latin-1")
    return text.split("\n")[line - 1].split("\t", 1)[0]


def check_quoted_replies(code: str, oracle: SendmailOracle) -> int:
    """Every reply quoted in a finding of ``code`` is the real RCPT reply for that line's key."""
    _, _, findings = lint_file(code, "bad.vt")
    claims = [(line_address(code, f.line), m[1]) for f in findings
              if (m := _QUOTED_REPLY.search(f.message))]
    replies = oracle.smtp_replies([a for a, _ in claims])
    for (address, claim), real in zip_strict(claims, replies):
        assert real.startswith(claim), (address, claim, real)
    return len(claims)


def test_vt101_missing_catch_all_accepts_unknown_users(sendmail: str, tmp_path: Path) -> None:
    with oracle_for("VT101") as o:
        org, com = o.resolve(["nosuch@example.org", "nosuch@example.com"])
        assert (org.mailer, org.user) == ("local", "nosuch")  # $=w: the local user of that name
        assert org.lookups == (("nosuch@example.org", None), ("@example.org", None))
        assert com.reply == "550 5.1.1 User unknown"
    with oracle_for("VT101", virthost=True) as o:
        (org,) = o.resolve(["nosuch@example.org"])
        assert (org.mailer, org.host) == ("esmtp", "example.org.")  # VirtHost: relayed to the domain
    # The fix makes sendmail reject it.
    _, table, findings = lint_file("VT101", "bad.vt")
    fixed = tmp_path / "fixed.vt"
    fix = findings[0].fix
    assert fix is not None
    fixed.write_bytes(apply_fix(table.text, fix).encode("latin-1"))
    with SendmailOracle(fixed) as o:
        assert o.smtp_replies(["nosuch@example.org"]) == ["550 5.1.1 User unknown"]


def test_vt102_local_domain_without_catch_all_falls_to_local_users(sendmail: str) -> None:
    local = sorted(local_domains_of(DATA / "VT102" / "local-domains") or ())
    with oracle_for("VT102", local_domains=local) as o:
        root, org = o.resolve(["root@example.net", "nosuch@example.org"])
        assert (root.mailer, root.user) == ("local", "root")
        assert (org.mailer, org.user) == ("local", "nosuch")


def test_vt103_makemap_keeps_the_first_value(sendmail: str) -> None:
    with oracle_for("VT103") as o:
        assert any("duplicate key" in m for m in o.makemap_messages)
        bob, alice = o.resolve(["bob@example.com", "alice@example.com"])
        assert (bob.user, alice.user) == ("bob", "alice")
    _, _, findings = lint_file("VT103", "bad.vt")
    assert "keeps the value from line 2 ('bob')" in findings[0].message


def test_vt104_keys_are_never_matched(sendmail: str) -> None:
    _, _, findings = lint_file("VT104", "bad.vt")
    with oracle_for("VT104") as o:
        # The addresses these keys were meant for go to the catch-all instead.
        meant = ["alice@example.com", "info@example.com", "anyone@example.com", "user1@example.com",
                 "bob+foo1@example.com", "sales@example.com", "abuse@example.com"]
        for r in o.resolve(meant):
            assert r.matched == ("@example.com",), r
        # Addresses spelt like the keys are not even valid addresses.
        dot, colon = o.resolve(["x@.example.com", "abuse@example.com:"])
        assert dot.mailer == colon.mailer == "error" and not dot.matched and not colon.matched
        long_key = line_address("VT104", 41)
        assert "too long" in o.run(["-bt"], f"/parse {long_key}\n")
    assert len(findings) == 15


def test_vt106_domains_outside_class_w_are_never_looked_up(sendmail: str) -> None:
    with oracle_for("VT106", local_domains=["example.com"]) as o:
        info, alice = o.resolve(["info@example.org", "alice@example.com"])
        assert info.lookups == () and info.mailer == "esmtp"
        assert alice.matched == ("alice@example.com",)


def test_vt201_replies_are_what_the_messages_say(sendmail: str) -> None:
    with oracle_for("VT201") as o:
        assert check_quoted_replies("VT201", o) >= 13
        # Not rejects at all: accepted for a local user of a strange name.
        quoted, reject, spaced = o.resolve(["c@example.com", "i@example.com", "j@example.com"])
        assert (quoted.mailer, reject.mailer, spaced.mailer) == ("local", "local", "local")
        assert (reject.user, spaced.user) == ("reject", "error.550.spaced")
        assert o.smtp_replies(["c@example.com"])[0].startswith("250 ")
        # No text: a garbled reply built from the address.
        (g,) = o.resolve(["g@example.com"])
        assert g.reply == "553 5.3.0 >g<@example.com."
        # Unknown status name: 5.0.0.
        assert o.smtp_replies(["e@example.com"]) == ["550 5.0.0 Rejected"]


def test_vt202_targets_sendmail_cannot_deliver_to(sendmail: str) -> None:
    with oracle_for("VT202") as o:
        assert check_quoted_replies("VT202", o) == 2
        assert verify(o, "b@example.com") == "Cannot mail directly to programs"
        assert verify(o, "c@example.com") == "Cannot mail directly to files"
        assert verify(o, "d@example.com") == "Cannot mail directly to :include:s"
        words, at, bang = o.resolve(["e@example.com", "g@example.com", "h@example.com"])
        assert (words.mailer, words.user) == ("local", "root.root")
        assert at.matched == ("g@example.com", "@example.com")  # '@' = not found, lookup goes on
        assert at.reply == "550 5.1.1 User unknown"
        assert bang.lookups == (("h@example.com", "!"),)  # '!' ends the lookup: no catch-all
        assert (bang.mailer, bang.user) == ("local", "h")


def test_vt203_makemap_stores_the_cr_and_blanks(makemap: str, tmp_path: Path) -> None:
    src = (DATA / "VT203" / "bad.vt").read_bytes()
    subprocess.run([makemap, "-C", "/dev/null", "hash", str(tmp_path / "m")], input=src, check=True,
                   capture_output=True)
    dump = subprocess.run([makemap, "-C", "/dev/null", "-u", "hash", str(tmp_path / "m")], check=True,
                          capture_output=True)
    stored = dict(line.split(b"\t", 1) for line in dump.stdout.split(b"\n") if line)
    assert stored[b"a@example.com"] == b"alice\r"
    assert stored[b"b@example.com"] == b"bob  "
    assert stored[b"c@example.com"] == b"carol\t"


def test_vt203_sendmail_ignores_the_cr_so_it_is_a_warning(sendmail: str, tmp_path: Path) -> None:
    """#17: a CRLF value was an error blocking build; sendmail resolves it as without the CR."""
    crlf, plain = tmp_path / "crlf.vt", tmp_path / "plain.vt"
    crlf.write_bytes(b"a@example.com\talice\r\nb@example.com\terror:5.1.1:550 Gone\r\n")
    plain.write_bytes(b"a@example.com\talice\nb@example.com\terror:5.1.1:550 Gone\n")
    answers = []
    for path in (crlf, plain):
        with SendmailOracle(path) as o:
            answers.append(([(r.mailer, r.user) for r in o.resolve(["a@example.com", "b@example.com"])],
                            o.smtp_replies(["b@example.com"])))
    assert answers[0] == answers[1]
    assert answers[0][1] == ["550 5.1.1 Gone"]


def test_vt204_inline_comment_becomes_part_of_the_value(sendmail: str) -> None:
    with oracle_for("VT204") as o:
        web, x = o.resolve(["webmaster@example.org", "x@example.org"])
        assert (web.mailer, web.user) == ("local", "alice.#.the.webmaster")
        assert o.smtp_replies(["x@example.org"]) == ["550 5.1.1 Gone # since 2024"]
        assert x.is_error


def test_vt206_substitutions(sendmail: str) -> None:
    with oracle_for("VT206") as o:
        org, zero, four, cx, d, dplus, plus = o.resolve([
            "joe+list@example.org", "a@example.com", "b@example.com", "c+x@example.com",
            "d@example.com", "d+foo@example.com", "x+y@example.com"])
        assert org.user == "joe@example.net"  # +list dropped
        assert zero.reply == "553 5.1.3 Invalid route address"
        assert (four.user, cx.user, d.user) == ("b-", "c-", "d-")
        assert dplus.matched == ("d+*@example.com",)  # never d@example.com with a detail
        assert plus.matched == ("+*@example.com",)  # never the catch-all with a detail


def test_vt207_forwarding_catch_all_accepts_anything(sendmail: str) -> None:
    with oracle_for("VT207") as o:
        (r,) = o.resolve(["no-such-user-xyz@example.com"])
        assert (r.mailer, r.user) == ("local", "alice")
    for name in ("bad.vt", "good.vt"):
        check_vt207_claims(DATA / "VT207" / name)


def check_vt207_claims(path: Path) -> int:
    """VT207 reports a catch-all exactly where sendmail accepts RCPT TO an address nobody
    names in its domain (not where a domain alias hands it to a domain that rejects it)."""
    rule = rule_by_id("VT207")
    assert rule is not None
    table = parse_bytes(path.read_bytes(), str(path))
    reported = {f.message.split("'")[3] for f in rule.check(table, LintContext(LintConfig(), None))}
    forwarding = sorted({e.key_text[1:].lower() for e in table.entries
                         if e.key_text.startswith("@") and not e.value_text.lower().startswith("error")})
    with SendmailOracle(path) as o:
        replies = o.smtp_replies([f"nobody-virtc-zz@{d}" for d in forwarding])
    for domain, reply in zip_strict(forwarding, replies):
        assert (domain in reported) == reply.startswith("2"), (path.read_text(), domain, reply)
    return len(reported)


@pytest.mark.parametrize("order", ["table", "reversed"])
def test_vt207_long_alias_chains_meet_the_recursion_limit(sendmail: str, tmp_path: Path, order: str) -> None:
    """A chain of 20 domain aliases down to a domain that accepts everyone: sendmail rejects
    the addresses of the aliases more than 15 hops away (excessive recursion), so VT207
    reports only the others, whichever order the chain is written in."""
    lines = ["@top.example\t%1@remote.example.net"]
    lines += [f"@a{k}.example\t%1%3@{f'a{k - 1}' if k else 'top'}.example" for k in range(20)]
    path = tmp_path / "t.vt"
    path.write_text("".join(line + "\n" for line in (lines if order == "table" else lines[::-1])))
    assert check_vt207_claims(path) == 16


_VT207_VALUES = ["%1%3@{d}", "%1@{d}", "%1@remote.example.net", "alice", "bob@{d}", "error:5.1.1:550 Nope",
                 "error:4.2.2:450 Later", "%1@{d}"]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.integers(0, 3), st.sampled_from(_VT207_VALUES), st.integers(0, 3)),
                min_size=1, max_size=8),
       st.lists(st.tuples(st.sampled_from(["bob", "alice"]), st.integers(0, 3),
                          st.sampled_from(["bob", "error:5.1.1:550 Gone", "carol@remote.example.net"])),
                max_size=3))
def test_vt207_reports_where_sendmail_accepts_unknown_users(
        sendmail: str, tmp_path_factory: pytest.TempPathFactory,
        catch_alls: list[tuple[int, str, int]], users: list[tuple[str, int, str]]) -> None:
    """Generated domains whose catch-alls alias, forward and reject into each other."""
    lines = [f"@d{d}.example\t{value.format(d=f'd{to}.example')}" for d, value, to in catch_alls]
    lines += [f"{user}@d{d}.example\t{value}" for user, d, value in users]
    path = tmp_path_factory.mktemp("vt207") / "t.vt"
    path.write_text("".join(line + "\n" for line in lines))
    event(f"VT207 findings: {min(check_vt207_claims(path), 2)}")


def test_vt208_and_vt209_replies(sendmail: str) -> None:
    with oracle_for("VT208") as o:
        assert o.smtp_replies(["a@example.com", "b@example.com"]) == [
            "450 4.2.2 Mailbox full", "451 4.0.0 Try later"]
    with oracle_for("VT209") as o:
        assert o.smtp_replies(["a@example.com"]) == ["550 5.0.0 No such user"]


def test_vt210_makemap_truncates_at_the_nul(makemap: str, tmp_path: Path) -> None:
    src = (DATA / "VT210" / "bad.vt").read_bytes()
    made = subprocess.run([makemap, "-C", "/dev/null", "hash", str(tmp_path / "m")], input=src,
                          capture_output=True)
    assert made.returncode == 0 and b"line" not in made.stderr  # silently
    dump = subprocess.run([makemap, "-C", "/dev/null", "-u", "hash", str(tmp_path / "m")], check=True,
                          capture_output=True)
    assert b"bob@example.com\tbo\n" in dump.stdout


def test_vt105_redundant_entries_change_nothing(sendmail: str, tmp_path: Path) -> None:
    """sendmail answers the same with and without each entry VT105 reports."""
    _, table, findings = lint_file("VT105", "bad.vt")
    flagged = {f.line for f in findings}
    assert flagged == {2, 11, 12, 18}
    lines = table.text.splitlines(keepends=True)
    without = tmp_path / "without.vt"
    without.write_text("".join(line for n, line in enumerate(lines, 1) if n not in flagged))
    probes = ["info@example.com", "info+x@example.com", "alice@example.org", "alice+x@example.org",
              "carol@example.org", "anyone+x@example.info", "anyone+@example.info", "bob@example.com"]
    with oracle_for("VT105") as o:
        before = [(r.mailer, r.host, r.user) for r in o.resolve(probes)]
    with SendmailOracle(without, local_domains=["example.com", "example.org", "example.info"]) as o:
        after = [(r.mailer, r.host, r.user) for r in o.resolve(probes)]
    assert before == after


def test_vt107_plus_plus_shadows_plus_star(sendmail: str) -> None:
    with oracle_for("VT107") as o:
        bob_x, bob_empty, any_x, any_empty = o.resolve([
            "bob+news@example.com", "bob+@example.com", "joe+news@example.com", "joe+@example.com"])
        assert bob_x.matched == ("bob++@example.com",)
        assert bob_empty.matched == ("bob+*@example.com",)  # the only way in
        assert any_x.matched == ("++@example.com",)
        assert any_empty.matched == ("+*@example.com",)


def test_vt205_loops_end_in_excessive_recursion(sendmail: str) -> None:
    _, _, findings = lint_file("VT205", "bad.vt")
    probes = [re.search(r"resolves '([^']+)'", f.message)[1] for f in findings]  # type: ignore[index]
    # Past the limit: each of a ring of 17 keys, of a ring of 17 domain aliases, and the
    # head of 16 keys and a domain alias; not the key after that head.
    rings = [f"r{i}@example.info" for i in range(1, 18)]
    rings += [f"virtc-probe@ring{i}.example" for i in range(1, 18)]
    assert {*rings, "g1@example.info"} <= set(probes)
    assert "g2@example.info" not in probes
    with oracle_for("VT205") as o:
        results = o.resolve([*probes, "c@example.com", "e@example.com", "g2@example.info"])
        for r in results[: len(probes)]:
            assert r.recursion, r
        lead_in, fine, shorter = results[len(probes):]
        assert lead_in.recursion  # leads into the a/b loop (reported on a and b)
        assert not fine.recursion and (fine.mailer, fine.user) == ("local", "dave")
        assert not shorter.recursion and (shorter.mailer, shorter.user) == ("local", "g17"), shorter
        claimed = [re.search(r"rejects it with '([^']+)'", f.message)[1] for f in findings]  # type: ignore[index]
        assert o.smtp_replies(probes) == claimed


def test_vt108_non_ascii_capitals_are_not_folded(sendmail: str) -> None:
    # Addresses as UTF-8 bytes (the harness speaks Latin-1: one character per byte).
    lower, upper = ("jörg@example.com".encode().decode("latin-1"),
                    "JÖRG@example.com".encode().decode("latin-1"))
    with oracle_for("VT108") as o:
        assert "j\xc3\x96rg@example.com" in o.keys  # stored with the capital Ö
        (r,) = o.resolve([lower])
        assert r.matched == ("@example.com",)
        assert o.smtp_replies([lower, upper])[1].startswith("501 5.1.3 8-bit character")
        # Latin-1 capitals: stored as written, so the lower-case address misses the key.
        assert "j\xd6rg2@example.com" in o.keys
        (r,) = o.resolve(["j\xf6rg2@example.com"])
        assert r.matched == ("@example.com",)


def test_vt211_forward_to_a_missing_mailbox_is_rejected(sendmail: str) -> None:
    _, _, findings = lint_file("VT211", "bad.vt")
    claims = {line_address("VT211", f.line): re.search(r"with '([^']+)'$", f.message)[1]  # type: ignore[index]
              for f in findings}
    with oracle_for("VT211") as o:
        addresses = [*claims, "info@example.com"]
        replies = o.smtp_replies(addresses)
        assert replies[: len(claims)] == list(claims.values())
        assert replies[-1].startswith("250 ")  # Carol@Example.NET exists: not reported


def test_vt206_pseudo_domain_routes(sendmail: str, tmp_path: Path) -> None:
    """#17: 'user@dom  %0.VIRTMAIL' routes the address to a mailertable pseudo-domain (VT206 must
    not ask for %1 there); on a catch-all %0 is the key, and the advised %1%3@dom.VIRTMAIL works."""
    src = tmp_path / "vt"
    src.write_text("bob@route.example\t%0.VIRTMAIL\n@route.example\t%1%3@route.example.VIRTMAIL\n"
                   "@r2.example\t%0.VIRTMAIL\n")
    with SendmailOracle(src) as o:
        exact, wild, bad = o.resolve(["bob@route.example", "a+x@route.example", "a@r2.example"])
        assert bad.mailer == "error"
        replies = o.smtp_replies(["bob@route.example", "a+x@route.example", "a@r2.example"])
    assert (exact.mailer, exact.user) == ("esmtp", "bob@route.example.VIRTMAIL")
    assert (wild.mailer, wild.user) == ("esmtp", "a+x@route.example.VIRTMAIL")
    assert replies[2] == "553 5.1.3 User address required"
    _, _, good = lint_file("VT206", "good.vt")
    assert good == []
    _, _, bad_findings = lint_file("VT206", "bad.vt")
    assert any("rejects '@r2.example.VIRTMAIL' with '553 5.1.3 User address required'" in f.message
               for f in bad_findings)
