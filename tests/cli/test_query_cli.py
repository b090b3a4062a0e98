"""`virtc query`: the CLI over virtc.lookup, checked against the real sendmail."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from support.oracles import TEST_DATA
from support.sendmail import SendmailOracle
from support.tables import REFUSED, make_addresses, make_table

from virtc.compat import zip_strict

DATA = TEST_DATA / "query"
BASIC = DATA / "basic.vt"


def virtc(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "virtc", *args], input=stdin, capture_output=True,
                          text=True, timeout=120)


def test_json_fields(sendmail: str) -> None:
    # The expected values below were checked against sendmail -bt (tests/oracle/test_query_harness.py).
    out = virtc("query", "--json", "--table", str(BASIC), "nosuch@example.com", "Bob+foo@Example.COM",
                "loop1@example.net", "a@elsewhere.test", "x@example.net", "info@example.org")
    assert out.returncode == 0, out.stderr
    got = {o["address"]: o for o in json.loads(out.stdout)}
    assert got["nosuch@example.com"] == {
        "address": "nosuch@example.com", "kind": "error", "result": None, "status": "nouser",
        "text": "550 5.1.1 User unknown", "chain": ["@example.com"]}
    assert got["Bob+foo@Example.COM"]["kind"] == "local"
    assert got["Bob+foo@Example.COM"]["result"] == "bob-detail"
    assert got["Bob+foo@Example.COM"]["chain"] == ["bob+*@example.com"]
    assert got["loop1@example.net"]["kind"] == "loop" and got["loop1@example.net"]["result"] is None
    assert got["a@elsewhere.test"]["kind"] == "not-local"
    assert (got["x@example.net"]["kind"], got["x@example.net"]["result"]) == ("unmatched", "x")
    assert got["info@example.org"]["result"] == "info@other.example.net"


def test_text_output_lists_keys_in_order() -> None:
    out = virtc("query", "--table", str(BASIC), "Bob+foo@Example.COM", "loop1@example.net")
    assert out.returncode == 0, out.stderr
    lines = [line.strip() for line in out.stdout.splitlines()]
    assert lines[:5] == ["Bob+foo@Example.COM", "Bob+foo@Example.COM  -", "Bob++@Example.COM  -",
                         "Bob+*@Example.COM  bob-detail (matched, line 2)", "local user bob-detail"]
    assert "loop: loop1@example.net -> loop2@example.net -> loop1@example.net" in out.stdout


def test_stdin_and_local_domains(tmp_path: Path) -> None:
    hosts = tmp_path / "local-host-names"
    hosts.write_text("# local\nexample.com extra words\n\n")
    out = virtc("query", "--json", "--table", str(BASIC), "--local-domains", str(hosts), "-",
                stdin="alice@example.com\n\ninfo@example.org\n")
    assert out.returncode == 0, out.stderr
    kinds = [(o["address"], o["kind"]) for o in json.loads(out.stdout)]
    assert kinds == [("alice@example.com", "local"), ("info@example.org", "not-local")]


def test_errors_are_one_line(tmp_path: Path) -> None:
    missing = virtc("query", "--table", str(tmp_path / "nope"), "a@b.test")
    assert (missing.returncode, missing.stderr.count("\n")) == (2, 1)
    assert "nope: no such file" in missing.stderr
    empty_db = tmp_path / "bad.db"
    empty_db.write_bytes(b"\0" * 12 + (0x00061561).to_bytes(4, "little") + b"\0" * 100)
    bad = virtc("query", "--table", str(empty_db), "a@b.test")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    hosts = virtc("query", "--table", str(BASIC), "--local-domains", str(tmp_path / "nohosts"), "a@b.test")
    assert hosts.returncode == 2 and "nohosts" in hosts.stderr and hosts.stderr.count("\n") == 1


def test_source_query_does_not_import_berkeleydb() -> None:
    code = ("import sys; from virtc.cli import main; sys.argv=['virtc','query','--table',"
            f"{str(BASIC)!r},'a@example.com']\ntry: main()\nexcept SystemExit: pass\n"
            "assert 'berkeleydb' not in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_query_json_on_real_db_matches_sendmail(sendmail: str, bdb: None, tmp_path: Path) -> None:
    """`virtc query --json` on a .db built by the real makemap agrees with sendmail -bt."""
    rng = random.Random(11)
    source = tmp_path / "virtusertable"
    source.write_text(make_table(rng))
    addresses = make_addresses(rng, 1500)
    with SendmailOracle(source) as oracle:
        # the engine writes sendmail's own name as $j
        results = [replace(r, user=r.user.replace(oracle.hostname, "$j") if r.user else r.user)
                   for r in oracle.resolve(addresses)]
        db = tmp_path / "virtusertable.db"
        db.write_bytes((oracle.dir / "virtusertable.db").read_bytes())
    out = virtc("query", "--json", "--table", str(db), "-", stdin="\n".join(addresses) + "\n")
    assert out.returncode == 0, out.stderr
    objs = json.loads(out.stdout)
    assert [o["address"] for o in objs] == addresses
    problems = []
    for o, sm in zip_strict(objs, results):
        if o["kind"] == "loop":
            ok = sm.recursion
        elif sm.mailer in REFUSED:
            ok = (o["kind"], o["text"]) == ("error", REFUSED[sm.mailer])
        elif sm.mailer == "error":
            ok = (o["kind"], o["status"], o["text"]) == ("error", sm.host, sm.reply)
        else:
            ok = not sm.recursion and o["result"] == sm.user and o["kind"] in (
                ("local", "unmatched") if sm.mailer == "local" else ("remote", "not-local"))
        if ok and o["kind"] != "loop":
            # A value '@' or '!' is found, but sendmail reads it as 'not found'.
            ok = o["chain"] == [k.lower() for k, v in sm.lookups if v not in (None, "@", "!")]
        if not ok:
            problems.append(f"{o} vs {sm.mailer} {sm.host} {sm.user} {sm.matched}")
    assert not problems, "\n".join(problems[:20])


def test_virthost_and_entire_domain_flags(sendmail: str) -> None:
    """The flags reach the engine: checked against sendmail with the same setup."""
    addrs = ["x@example.net", "a@sub.example.com", "alice@example.com"]
    out = virtc("query", "--json", "--virthost", "--entire-domain", "--table", str(BASIC), *addrs)
    assert out.returncode == 0, out.stderr
    got = {o["address"]: o for o in json.loads(out.stdout)}
    with SendmailOracle(BASIC, virthost=True, features=("virtuser_entire_domain",)) as oracle:
        sm = {r.address: r for r in oracle.resolve(addrs)}
    # unmatched in a VirtHost domain: relayed to the domain itself
    assert (got["x@example.net"]["kind"], got["x@example.net"]["result"]) == ("unmatched", "x@example.net")
    assert (sm["x@example.net"].mailer, sm["x@example.net"].user) == ("esmtp", "x@example.net")
    # a subdomain is looked up with its own keys only: no walk up to @example.com
    assert got["a@sub.example.com"]["kind"] == "unmatched"
    assert [k for k, _ in sm["a@sub.example.com"].lookups] == ["a@sub.example.com", "@sub.example.com"]
    assert got["alice@example.com"]["result"] == sm["alice@example.com"].user == "alice"


def test_lines_makemap_rejects_are_said_to_be_skipped(sendmail: str, tmp_path: Path) -> None:
    """#17: query was silent about a line makemap rejects; sendmail never sees it either."""
    src = tmp_path / "vt"
    src.write_text("a@x.example\ta\n  lead@x.example\tb\nnovalue@x.example\n@x.example\terror:5.1.1:550 no\n")
    out = virtc("query", "--json", "--table", str(src), "lead@x.example", "novalue@x.example")
    assert out.returncode == 0, out.stderr
    assert [line.split(": makemap")[0] for line in out.stderr.splitlines()] == [
        f"virtc: note: {src}:2", f"virtc: note: {src}:3"]
    with SendmailOracle(src, local_domains=["x.example"]) as oracle:
        real = oracle.resolve(["lead@x.example", "novalue@x.example"], trace=False)
    assert [o["kind"] for o in json.loads(out.stdout)] == ["error", "error"]
    assert [r.mailer for r in real] == ["error", "error"]  # the catch-all: the lines are not in the map
