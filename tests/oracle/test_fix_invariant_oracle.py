"""The invariant of every fix, checked with the real sendmail -bt before and after
``virtc lint --fix --unsafe-fixes``: no address the table names changes how sendmail
resolves it (every key without wildcards, every address a value forwards to in a local
domain, postmaster@ of every domain), and the open domains, the host's own names
excepted, now reject the addresses nobody names.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.oracles import ROOT
from support.sendmail import SendmailOracle, SendmailResult

from virtc.lint.config import LintConfig
from virtc.lint.fix import fix_source
from virtc.lint.schedule import lint_table
from virtc.model import fold
from virtc.source.parse import parse_bytes

HOST = socket.gethostname().split(".")[0].lower()
USERS = ["alice", "bob", "carol", "dave", "trash", "sales"]
UNNAMED = "nobody-virtc-probe"


def make_case(rng: random.Random) -> tuple[str, list[str]]:
    """A table (forwards into other local domains, catch-alls, wildcards, the host's own
    name) and its local domains (the table's, the forward-only ones, the host name)."""
    domains = [f"d{i}.example" for i in range(rng.randint(2, 4))]
    extra = [f"post.{d}" for d in domains if rng.random() < 0.6]  # local, with no keys at first
    local = [*domains, *extra, HOST]
    lines: list[str] = []
    for d in domains:
        for user in rng.sample(USERS, rng.randint(1, 4)):
            r = rng.random()
            if r < 0.4:
                value = user
            elif r < 0.7:
                value = f"{rng.choice(USERS)}@{rng.choice(local)}"
            elif r < 0.8:
                value = f"{user}@remote.example.net"
            elif r < 0.9:
                value = f"{user}+tag@{rng.choice(local)}"
            else:
                value = "error:5.1.1:550 Gone"
            lines.append(f"{user}@{d}\t{value}")
        if rng.random() < 0.3:
            lines.append(f"{rng.choice(USERS)}+*@{d}\t%1@{rng.choice(local)}")
        if rng.random() < 0.2:
            lines.append(f"postmaster@{d}\t{rng.choice(['root', 'error:5.1.1:550 no'])}")
        r = rng.random()
        if r < 0.35:
            lines.append(f"@{d}\terror:5.1.1:550 User unknown")
        elif r < 0.5:
            lines.append(f"@{d}\t%1@{rng.choice(local)}")
    for d in extra:
        if rng.random() < 0.3:
            lines.append(f"{rng.choice(USERS)}@{d}\t{rng.choice(USERS)}")
    lines.append(f"root@{HOST}\troot")
    rng.shuffle(lines)
    return "".join(line + "\n" for line in lines), local


def named(text: str, local: list[str]) -> list[str]:
    """What the invariant keeps: keys without wildcards, plain forward targets in local
    domains, postmaster@ every domain."""
    out: dict[str, None] = {}
    for line in text.splitlines():
        key, value = line.split("\t")
        if not key.startswith("@") and "+*@" not in key and "++@" not in key:
            out.setdefault(key)
        if "@" in value and "%" not in value and value.rpartition("@")[2] in local:
            out.setdefault(value)
    for d in local:
        out.setdefault(f"postmaster@{d}")
    return list(out)


def fate(r: SendmailResult) -> tuple[object, ...]:
    return (r.mailer, r.host, r.user, r.recursion)


def check_invariant(tmp_path: Path, text: str, local: list[str]) -> None:
    before_path, after_path = tmp_path / "before.vt", tmp_path / "after.vt"
    before_path.write_text(text)
    table = parse_bytes(text.encode(), str(before_path))
    domains = frozenset(fold(d) for d in local)
    # The catch-all fix (VT213's adds postmaster entries on purpose: it turns a named
    # address from rejected to accepted, and is tested on its own).
    config = LintConfig(select=frozenset({"VT101", "VT102"}))
    result = fix_source(table, lambda t: lint_table(t, config, domains), unsafe=True)
    after_path.write_text(result.text)
    addresses = named(text, local)
    probes = [f"{UNNAMED}@{d}" for d in local]
    with SendmailOracle(before_path, local_domains=local) as oracle:
        old = oracle.resolve(addresses + probes, trace=False)
    with SendmailOracle(after_path, local_domains=local) as oracle:
        new = oracle.resolve(addresses + probes, trace=False)
    for a, o, n in zip(addresses, old, new):
        assert fate(o) == fate(n), (a, o.raw, n.raw, result.text)
    catch_alls = {line.split("\t")[0][1:] for line in text.splitlines() if line.startswith("@")}
    for probe, o, n in zip(probes, old[len(addresses):], new[len(addresses):]):
        domain = probe.partition("@")[2]
        if domain in (HOST, "localhost"):
            assert fate(n) == fate(o), (probe, n.raw)  # the host's own names: never a catch-all
        elif o.mailer == "local" and domain not in catch_alls:
            assert n.mailer == "error", (probe, o.raw, n.raw, result.text)  # open before: closed now
    assert not [d for d in result.diagnostics if d.code in ("VT101", "VT102")], result.diagnostics


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.integers(0, 2**32 - 1))
def test_the_catch_all_fix_changes_no_named_address(sendmail: str, tmp_path_factory: object,
                                                     seed: int) -> None:
    import pytest

    assert isinstance(tmp_path_factory, pytest.TempPathFactory)
    text, local = make_case(random.Random(seed))
    check_invariant(tmp_path_factory.mktemp("inv"), text, local)


def test_the_issues_tables(sendmail: str, tmp_path: Path) -> None:
    """The reports of the issue: a forward into another domain of the host; localhost and
    the host's own name in local-host-names; postmaster of a domain."""
    text = (f"trash@a.example\ttrash@post.a.example\ninfo@a.example\tinfo\nroot@{HOST}\troot\n"
            "bob@b.example\tbob\n")
    check_invariant(tmp_path, text, ["a.example", "post.a.example", "b.example", "localhost", HOST])


def test_every_fixture(sendmail: str, tmp_path: Path) -> None:
    """Each fixture's lines makemap accepts (as key TAB value), local domains its own."""
    for i, path in enumerate(sorted((ROOT / "fixtures").glob("**/virtusertable"))):
        table = parse_bytes(path.read_bytes(), str(path))
        lines = [f"{e.key_text}\t{e.value_text.strip()}" for e in table.entries
                 if "\t" not in e.value_text.strip() and e.value_text.strip()]
        local = sorted({fold(line.split("\t")[0].rpartition("@")[2]) for line in lines} - {""})
        work = tmp_path / str(i)
        work.mkdir()
        check_invariant(work, "".join(line + "\n" for line in lines), local)


def test_the_postmaster_fix_makes_postmaster_deliverable(sendmail: str, tmp_path: Path) -> None:
    """VT213's (unsafe) fix: postmaster@ goes from rejected to the local postmaster; no other
    named address changes."""
    text = "alice@a.example\talice\n@a.example\terror:5.1.1:550 User unknown\nbob@b.example\tbob\n"
    path, fixed = tmp_path / "before.vt", tmp_path / "after.vt"
    path.write_text(text)
    config = LintConfig(select=frozenset({"VT213"}))
    result = fix_source(parse_bytes(text.encode(), str(path)),
                        lambda t: lint_table(t, config, frozenset({"a.example", "b.example"})), unsafe=True)
    fixed.write_text(result.text)
    addresses = ["postmaster@a.example", "alice@a.example", "postmaster@b.example", "bob@b.example"]
    with SendmailOracle(path) as oracle:
        old = oracle.resolve(addresses, trace=False)
    with SendmailOracle(fixed) as oracle:
        new = oracle.resolve(addresses, trace=False)
    assert old[0].mailer == "error" and (new[0].mailer, new[0].user) == ("local", "postmaster")
    assert [fate(r) for r in old[1:]] == [fate(r) for r in new[1:]]
    assert not result.diagnostics
