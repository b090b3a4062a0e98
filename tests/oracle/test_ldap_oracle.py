"""``virtc ldap sync`` against a real slapd, read back by the real sendmail's LDAP map.

The invariant: after a sync, sendmail with ``FEATURE(`virtusertable', `LDAP')`` resolves
every address exactly as it does through the hash map makemap builds from the same table
(mailer, host, user). Checked on the fixtures and on generated tables synced one after
another into the same base (so every sync after the first adds, changes and deletes);
a second sync changes nothing. Then a sync is stopped after every step and, separately,
by stopping slapd mid-sync: no state the directory passes through lets an unnamed
address through a domain that rejects them before and after.
"""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from support.oracles import FIXTURES, missing
from support.sendmail import LdapMap, SendmailOracle, SendmailResult
from support.slapd import Slapd
from support.tables import make_addresses, make_table

from virtc.errors import VirtcError
from virtc.exports.ldap_entries import Scope
from virtc.exports.ldap_sync import Directory, Step, plan_sync, sync
from virtc.source.parse import parse_file

pytestmark = pytest.mark.oracle

CLUSTER = "mxcluster"


@pytest.fixture(scope="module")
def slapd() -> Iterator[Slapd]:
    try:
        import ldap  # noqa: F401
    except ImportError:
        missing("python-ldap not installed (pip install -e '.[dev]')")
    with Slapd() as directory:
        yield directory


def new_base(slapd: Slapd, name: str) -> str:
    base = f"ou={name},{slapd.base}"
    slapd.add(f"dn: {base}\nobjectClass: organizationalUnit\nou: {name}\n")
    return base


def connect(slapd: Slapd) -> Directory:
    return Directory(slapd.uri, slapd.root_dn, slapd.password)


def fate(r: SendmailResult) -> tuple[object, ...]:
    return (r.mailer, r.host, r.user, r.recursion)


def compare(table: Path, base: str, slapd: Slapd, addresses: list[str]) -> None:
    with SendmailOracle(table) as hashed, \
            SendmailOracle(table, ldap=LdapMap(slapd.uri, base, CLUSTER)) as ldap_map:
        want = [fate(r) for r in hashed.resolve(addresses)]
        got = [fate(r) for r in ldap_map.resolve(addresses)]
    diffs = [(a, w, g) for a, w, g in zip(addresses, want, got) if w != g]
    assert diffs == [], f"{table}: LDAP and hash answer differently: {diffs[:5]}"


def addresses_of(table: Path) -> list[str]:
    """Every stored key as an address (wildcards filled), plussed and unnamed variants."""
    out = []
    for e in parse_file(table).entries:
        local, _, dom = e.key_text.rpartition("@")
        if not dom:
            continue
        user = local.removesuffix("+*").removesuffix("++") or "anyone"
        out += [f"{user}@{dom}", f"{user}+tag@{dom}", f"zz-unnamed@{dom}", f"postmaster@{dom}"]
    return list(dict.fromkeys(a for a in out if " " not in a and "\t" not in a))


def run_sync(slapd: Slapd, table: Path, base: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "virtc", "ldap", "sync", str(table), "--uri", slapd.uri,
                           "--base", base, "--cluster", CLUSTER, "--bind-dn", slapd.root_dn,
                           "--password-file", str(slapd.password_file), "--no-lint", *extra],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name", ["clean/virtusertable", "missing-catch-all/virtusertable"])
def test_fixture_synced_reads_as_the_hash_map(slapd: Slapd, name: str) -> None:
    table = FIXTURES / name
    base = new_base(slapd, name.split("/")[0])
    first = run_sync(slapd, table, base)
    assert first.returncode == 0, first.stderr
    again = run_sync(slapd, table, base)
    assert again.returncode == 0 and "0 added, 0 changed, 0 deleted" in again.stderr, again.stderr
    compare(table, base, slapd, addresses_of(table))


def test_a_table_build_refuses_is_not_synced(slapd: Slapd) -> None:
    """fixtures/virtusertable has a duplicate key (makemap rejects it): exit 1, nothing written;
    its map as makemap would build it still reads the same through LDAP."""
    table = FIXTURES / "virtusertable"
    base = new_base(slapd, "messy")
    refused = run_sync(slapd, table, base)
    assert refused.returncode == 1 and "the directory was not changed" in refused.stderr
    assert slapd.search(base, "(objectClass=sendmailMTAMapObject)") == {}
    directory = connect(slapd)
    try:
        sync(parse_file(table), directory, base, Scope("sendmailMTACluster", CLUSTER))
    finally:
        directory.close()
    compare(table, base, slapd, addresses_of(table))


def test_generated_tables_synced_in_turn_read_as_the_hash_map(slapd: Slapd, tmp_path: Path) -> None:
    base = new_base(slapd, "generated")
    rng = random.Random(2026)
    directory = connect(slapd)
    try:
        for n in range(6):
            path = tmp_path / f"t{n}"
            path.write_text(make_table(rng, size=60))
            plan = sync(parse_file(path), directory, base, Scope("sendmailMTACluster", CLUSTER))
            if n:
                assert plan.count("deleted") and plan.count("changed") + plan.count("added")
            assert sync(parse_file(path), directory, base, Scope("sendmailMTACluster", CLUSTER)).steps == []
            compare(path, base, slapd, make_addresses(rng, 120) + addresses_of(path))
    finally:
        directory.close()


DOMAINS = ("a.test", "b.test", "c.test")


def make_pair(rng: random.Random) -> tuple[str, str]:
    """Two tables whose domains mostly reject unnamed addresses, with entries that come,
    change and go between them (as in tests/unit/test_ldap_sync_plan.py)."""
    def table() -> str:
        lines = []
        for dom in DOMAINS:
            for user in ("bob", "carol", "dave", "bob+*", "++", "+*"):
                if rng.random() < 0.4:
                    value = rng.choice(["mbox", f"dave@{dom}", "error:5.1.1:550 gone"])
                    lines.append(f"{user}@{dom}\t{value}\n")
            if rng.random() < 0.8:
                lines.append(f"@{dom}\terror:5.1.1:550 {rng.choice(['No such user', 'Unknown'])}\n")
        rng.shuffle(lines)
        return "".join(lines)
    return table(), table()


UNNAMED = [f"{local}@{dom}" for dom in DOMAINS for local in ("zz-unnamed", "zz-unnamed+x")]


def closed(results: list[SendmailResult]) -> set[str]:
    """Domains whose unnamed addresses all fail (5xx, 4xx or a loop)."""
    ok: dict[str, bool] = {}
    for a, r in zip(UNNAMED, results):
        dom = a.rpartition("@")[2]
        ok[dom] = ok.get(dom, True) and (r.is_error or r.recursion)
    return {d for d, v in ok.items() if v}


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.integers(0, 2**32 - 1))
def test_no_state_a_sync_passes_through_opens_a_domain(slapd: Slapd, tmp_path_factory: pytest.TempPathFactory,
                                                       seed: int) -> None:
    tmp = tmp_path_factory.mktemp("pair")
    old, new = make_pair(random.Random(seed))
    (tmp / "old").write_text(old)
    (tmp / "new").write_text(new)
    base = new_base(slapd, f"pair{seed}")
    scope = Scope("sendmailMTACluster", CLUSTER)
    # The oracle's class w: the domains of both tables.
    (tmp / "both").write_text(old + new)
    with SendmailOracle(tmp / "both", ldap=LdapMap(slapd.uri, base, CLUSTER)) as oracle:
        directory = connect(slapd)
        try:
            sync(parse_file(tmp / "old"), directory, base, scope)
            before = closed(oracle.resolve(UNNAMED, trace=False))
            seen: list[set[str]] = []
            sync(parse_file(tmp / "new"), directory, base, scope,
                 after_step=lambda step: seen.append(closed(oracle.resolve(UNNAMED, trace=False))))
            after = closed(oracle.resolve(UNNAMED, trace=False))
        finally:
            directory.close()
    assert seen, "the sync made no step"
    assume(before & after)
    for n, state in enumerate(seen):
        assert before & after <= state, f"step {n}: {sorted(before & after - state)} open mid-sync"


def test_the_check_sees_a_domain_opened_by_a_wrong_order(slapd: Slapd, tmp_path: Path) -> None:
    """The reverse of the plan points a.test's catch-all at b.test before b.test rejects:
    the real sendmail then accepts an unnamed address, so the test above can fail."""
    old, new = "@a.test\terror:5.1.1:550 No\n", "@a.test\t%1@b.test\n@b.test\terror:5.1.1:550 No\n"
    (tmp_path / "old").write_text(old)
    (tmp_path / "new").write_text(new)
    (tmp_path / "both").write_text(old + new)
    base = new_base(slapd, "reverse")
    scope = Scope("sendmailMTACluster", CLUSTER)
    directory = connect(slapd)
    try:
        sync(parse_file(tmp_path / "old"), directory, base, scope)
        plan = plan_sync(parse_file(tmp_path / "new"), base, scope, *directory.current(base))
        with SendmailOracle(tmp_path / "both", ldap=LdapMap(slapd.uri, base, CLUSTER)) as oracle:
            assert oracle.resolve(["zz@a.test"], trace=False)[0].is_error
            for step in reversed(plan.steps):
                directory.apply(step)
                if not oracle.resolve(["zz@a.test"], trace=False)[0].is_error:
                    break
            else:
                pytest.fail("the reversed plan never opened a.test")
    finally:
        directory.close()


def test_slapd_stopped_mid_sync(slapd: Slapd, tmp_path: Path) -> None:
    """An outage mid-sync: one-line exit 2, the directory as closed as before, and the next
    sync finishes the job."""
    old = "".join(f"u{i}@a.test\tmbox{i}\n" for i in range(20)) + "@a.test\terror:5.1.1:550 No such user\n"
    new = "".join(f"v{i}@a.test\tmbox{i}\n" for i in range(20)) + "@a.test\terror:5.1.1:550 Gone\n" \
        "@b.test\terror:5.1.1:550 No such user\n+*@b.test\tdave@b.test\ndave@b.test\tmbox\n"
    (tmp_path / "old").write_text(old)
    (tmp_path / "new").write_text(new)
    (tmp_path / "both").write_text(old + new)
    base = new_base(slapd, "outage")
    scope = Scope("sendmailMTACluster", CLUSTER)
    directory = connect(slapd)
    sync(parse_file(tmp_path / "old"), directory, base, scope)
    steps: list[Step] = []

    def outage(step: Step) -> None:
        steps.append(step)
        if len(steps) == 12:
            slapd.stop()

    with pytest.raises(VirtcError) as stopped:
        sync(parse_file(tmp_path / "new"), directory, base, scope, after_step=outage)
    assert "\n" not in str(stopped.value) and stopped.value.exit_code == 2
    slapd.start()
    addresses = ["zz-unnamed@a.test", "zz-unnamed+x@a.test", "u19@a.test", "v0@a.test"]
    with SendmailOracle(tmp_path / "both", ldap=LdapMap(slapd.uri, base, CLUSTER)) as oracle:
        mid = oracle.resolve(addresses, trace=False)
        assert mid[0].is_error and mid[1].is_error, [r.raw[-200:] for r in mid]
        assert mid[3].mailer == "local"  # the sync had got that far
        finished = run_sync(slapd, tmp_path / "new", base)
        assert finished.returncode == 0, finished.stderr
        assert ", 20 deleted," in finished.stderr  # the rest of the job
        compare(tmp_path / "new", base, slapd, [*addresses, "zz@b.test", "zz+x@b.test", "dave@b.test"])


def test_exported_ldif_loads_with_ldapadd_and_reads_as_the_hash_map(slapd: Slapd, tmp_path: Path) -> None:
    table = tmp_path / "t"
    table.write_text("Joe+*@Example.com\tjoe-plus\n@example.com\terror:5.1.1:550 No such user\n"
                     "user@example.com\tlocaluser  \n#x\n+*@example.org\t%1-%2\n"
                     "@example.org\t%1@example.net\na,b=c@example.org\tcomma\n")
    base = new_base(slapd, "ldif")
    done = subprocess.run([sys.executable, "-m", "virtc", "export", "ldif", str(table), "--base", base,
                           "--cluster", CLUSTER, "--no-lint"], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    slapd.add(done.stdout.decode("ascii"))
    found = slapd.search(base, "(objectClass=sendmailMTAMapObject)")
    assert {v[0] for e in found.values() for v in [e["sendmailMTAMapValue"]]} >= {b"localuser  ", b"comma"}
    compare(table, base, slapd, [*addresses_of(table), "joe+x@example.com", "fred+y@example.org"])


def test_dry_run_changes_nothing_and_errors_are_one_line(slapd: Slapd, tmp_path: Path) -> None:
    table = tmp_path / "t"
    table.write_text("a@example.com\tmbox\n@example.com\terror:5.1.1:550 No such user\n")
    base = new_base(slapd, "dry")
    dry = run_sync(slapd, table, base, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would make" in dry.stderr and "2 added" in dry.stderr
    assert f"add sendmailMTAKey=a@example.com,sendmailMTAMapName=virtuser,{base}" in dry.stdout
    assert slapd.search(base, "(objectClass=sendmailMTAMapObject)") == {}
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-password\n")
    for args, why in ((["--password-file", str(wrong)], "Invalid credentials"),
                      (["--uri", "ldap://127.0.0.1:1"], "Can't contact LDAP server"),
                      (["--base", "ou=nowhere,dc=example,dc=com"], "does not exist")):
        done = run_sync(slapd, table, base, *args)
        assert done.returncode == 2, done.stderr
        last = done.stderr.splitlines()[-1]
        assert last.startswith("virtc: ") and why in last and done.stderr.count("\n") == 1, done.stderr


@pytest.mark.parametrize(("code", "refusal"), [("VT301", "invalid per syntax"), ("VT302", "Already exists")])
def test_what_the_ldap_rules_report_the_directory_refuses(slapd: Slapd, tmp_path: Path, code: str,
                                                          refusal: str) -> None:
    """Linted, the table is refused before any write (exit 1); with --no-lint the sync
    runs into slapd's refusal (exit 2), which is why those rules are errors."""
    from support.oracles import TEST_DATA

    table = tmp_path / "t"
    lines = (TEST_DATA / "rules" / code / "bad.vt").read_bytes().splitlines(keepends=True)
    table.write_bytes(b"".join(ln for ln in lines if b"a" * 200 not in ln and b"b" * 200 not in ln))
    base = new_base(slapd, code)
    linted = run_sync(slapd, table, base, "--no-lint")
    assert linted.returncode == 2 and refusal in linted.stderr, linted.stderr
    refused = subprocess.run([sys.executable, "-m", "virtc", "ldap", "sync", str(table), "--uri", slapd.uri,
                              "--base", base, "--cluster", CLUSTER, "--bind-dn", slapd.root_dn,
                              "--password-file", str(slapd.password_file)],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and f"{code} " in refused.stderr, refused.stderr


def test_an_outage_accepts_what_the_catch_all_rejects(tmp_path: Path) -> None:
    """VT303's claim: with the directory down, RCPT gets 250 for an address the catch-all rejects."""
    table = tmp_path / "t"
    table.write_text("a@example.com\tmbox\n@example.com\terror:5.1.1:550 No such user\n")
    with Slapd() as directory:
        base = new_base(directory, "outage")
        d = connect(directory)
        try:
            sync(parse_file(table), d, base, Scope("sendmailMTACluster", CLUSTER))
        finally:
            d.close()
        with SendmailOracle(table, ldap=LdapMap(directory.uri, base, CLUSTER)) as oracle:
            # virtc reads the real m4-generated cf's ldap K line: VT303 applies.
            linted = subprocess.run([sys.executable, "-m", "virtc", "lint", "--isolated", "--sendmail-cf",
                                     str(oracle.cf), str(table)], capture_output=True, text=True, timeout=60)
            assert "VT303 ldap-outage-accepts" in linted.stdout, linted.stdout + linted.stderr
            assert oracle.smtp_replies(["nobody@example.com"])[0].startswith("550 5.1.1")
            directory.stop()
            assert oracle.smtp_replies(["nobody@example.com"])[0].startswith("250 ")


def test_a_key_held_for_the_cluster_and_the_host_is_no_match(slapd: Slapd, tmp_path: Path) -> None:
    """sendmail's ldap map (-1) treats two matches as none: the address falls to the
    catch-all. ldap sync warns about such a key."""
    table = tmp_path / "t"
    table.write_text("dup@example.com\tmbox\n@example.com\terror:5.1.1:550 No such user\n")
    base = new_base(slapd, "twoscopes")
    assert run_sync(slapd, table, base).returncode == 0
    with SendmailOracle(table, ldap=LdapMap(slapd.uri, base, CLUSTER)) as oracle:
        assert oracle.resolve(["dup@example.com"])[0].mailer == "local"
        slapd.add(f"dn: sendmailMTAKey=dup@example.com,{base}\nobjectClass: sendmailMTAMapObject\n"
                  f"objectClass: sendmailMTAMap\nobjectClass: sendmailMTA\nsendmailMTAMapName: virtuser\n"
                  f"sendmailMTAHost: {oracle.hostname}\nsendmailMTAKey: dup@example.com\n"
                  "sendmailMTAMapValue: other\n")
        assert oracle.resolve(["dup@example.com"])[0].is_error
    again = run_sync(slapd, table, base)
    assert again.returncode == 0 and "two matches" in again.stderr and oracle.hostname in again.stderr


def test_entries_for_one_host_are_read_by_that_host(slapd: Slapd, tmp_path: Path) -> None:
    """--host FQDN: sendmail without confLDAP_CLUSTER sees the entries for its own $j."""
    table = tmp_path / "t"
    table.write_text("a@example.com\tmbox\n@example.com\terror:5.1.1:550 No such user\n"
                     "postmaster@example.com\tpostmaster\n")
    base = new_base(slapd, "host")
    with SendmailOracle(table, ldap=LdapMap(slapd.uri, base, None)) as oracle:
        assert not oracle.resolve(["zz@example.com"])[0].is_error  # nothing for this host yet
        done = subprocess.run([sys.executable, "-m", "virtc", "ldap", "sync", str(table), "--uri", slapd.uri,
                               "--base", base, "--host", oracle.hostname, "--bind-dn", slapd.root_dn,
                               "--password-file", str(slapd.password_file)],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert [r.mailer for r in oracle.resolve(["a@example.com", "zz@example.com"])] == ["local", "error"]


@pytest.mark.parametrize(("limits", "pages"), [
    ('limits dn.exact="cn=virtc,dc=example,dc=com" size.prtotal=unlimited', True), ("", False)])
def test_a_size_limited_account_pages_or_stops_before_any_change(tmp_path: Path, limits: str,
                                                                  pages: bool) -> None:
    """An account that is not the rootdn is held to slapd's size limit (20 here): the sync
    reads the entries in pages; where the server refuses to page past the limit, it stops
    with one line before changing anything (a partial view would add entries twice)."""
    table = tmp_path / "t"
    table.write_text("".join(f"u{i}@a.test\tm{i}\n" for i in range(60)) +
                     "@a.test\terror:5.1.1:550 No\npostmaster@a.test\tpostmaster\n")
    with Slapd(f"sizelimit 20\n{limits}") as directory:
        def as_user(*extra: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([sys.executable, "-m", "virtc", "ldap", "sync", str(table), "--uri",
                                   directory.uri, "--base", directory.base, "--cluster", CLUSTER,
                                   "--bind-dn", directory.user_dn, "--password-file",
                                   str(directory.password_file), *extra],
                                  capture_output=True, text=True, timeout=120)

        assert as_user().returncode == 0  # nothing there yet: the search is within the limit
        table.write_text(table.read_text().replace("m7\n", "changed\n"))
        again = as_user()
        entries = directory.search(filter="(sendmailMTAKey=u7@a.test)")
        value = next(iter(entries.values()))["sendmailMTAMapValue"]
        if pages:
            assert again.returncode == 0 and "1 changed" in again.stderr, again.stderr
            assert value == [b"changed"]
        else:
            last = again.stderr.splitlines()[-1]  # after lint's warnings: one line
            assert again.returncode == 2 and last.startswith("virtc: "), again.stderr
            assert "size limit" in last and "nothing was changed" in last
            assert value == [b"m7"]
