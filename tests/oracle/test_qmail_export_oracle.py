"""``virtc export qmail`` read back by tinycdb's ``cdb`` and checked against the real sendmail.

The invariant: jms1's validrcptto lookup (exact ``user@domain``, then
``prefix-default@domain`` for each ``-`` from the right, then ``@domain``; a value
starting with ``-`` rejects; not found rejects) over the exported cdb, as the real
``cdb -d`` dumps it, accepts exactly the addresses the real sendmail accepts at
``RCPT TO`` (``sendmail -bs``), forwards, chains and loops included. Checked on the
fixtures and on generated tables, for every key's address, ``+detail`` and ``-``
variants, an unnamed local part and ``postmaster`` in each domain. Left out: the
addresses a reported line covers (:func:`covered`), and ``%``/``!`` source routes
(sendmail re-parses them as relaying; qmail takes them literally). The cdb is
byte-identical to ``cdb -c -m`` of the same records.
"""

from __future__ import annotations

import random
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from support.oracles import FIXTURES, require_tool
from support.sendmail import SendmailOracle
from support.tables import make_addresses, make_table

from virtc.diagnostics import Diagnostic
from virtc.exports.qmail import cdb_form, export_qmail, records
from virtc.lookup.resolve import resolve
from virtc.lookup.table import LookupTable
from virtc.model import Entry, KeyKind
from virtc.source.parse import parse_file

pytestmark = pytest.mark.oracle
pytest.importorskip("cdblib", reason="pure-cdb is part of the dev install")

ALIAS_NAME = re.compile(r"[^#\s][!-~]*")
"""A local name an aliases file can hold (no blanks; ':' and '#' are checked below)."""


def dump(path: Path) -> dict[bytes, bytes]:
    """The cdb as tinycdb's ``cdb -d`` prints it (``+klen,dlen:key->data`` records);
    a key's first record is the one ``cdb -q`` finds."""
    out = subprocess.run([require_tool("cdb"), "-d", str(path)], capture_output=True, check=True,
                         timeout=60).stdout
    found: dict[bytes, bytes] = {}
    pos = 0
    while pos < len(out) and out[pos:pos + 1] == b"+":
        m = re.compile(rb"\+(\d+),(\d+):").match(out, pos)
        assert m, out[pos:pos + 40]
        klen, dlen = int(m[1]), int(m[2])
        key = out[m.end():m.end() + klen]
        assert out[m.end() + klen:m.end() + klen + 2] == b"->"
        found.setdefault(key, out[m.end() + klen + 2:m.end() + klen + 2 + dlen])
        pos = m.end() + klen + 2 + dlen + 1  # the record's newline
    assert out[pos:] == b"\n", out[pos:pos + 40]
    return found


def jms1_accepts(cdb: dict[bytes, bytes], address: str) -> bool:
    """qmail-smtpd's ``vrtcheck()``: exact, ``prefix-default`` per ``-`` from the right, ``@domain``."""
    lowered = address.encode("latin-1").lower()
    local, _, domain = lowered.rpartition(b"@")
    candidates = [lowered]
    candidates += [local[:i + 1] + b"default@" + domain
                   for i in range(len(local) - 1, -1, -1) if local[i:i + 1] == b"-"]
    candidates.append(b"@" + domain)
    for key in candidates:
        if key in cdb:
            return not cdb[key].startswith(b"-")
    return False


def test_jms1_lookup_order() -> None:
    cdb = {b"a-b-default@d": b"", b"a-default@d": b"-", b"@d": b"", b"x@d": b"-"}
    assert jms1_accepts(cdb, "A-B-C@D") and not jms1_accepts(cdb, "a-x@d")
    assert not jms1_accepts(cdb, "X@d") and jms1_accepts(cdb, "y@d") and not jms1_accepts(cdb, "y@e")


def derived(entries: Sequence[Entry], extra: Sequence[str] = ()) -> list[str]:
    """Addresses to ask both servers, in the table's domains only (others are rcpthosts')."""
    out: list[str] = []
    for e in entries:
        k = e.key
        if k.kind is KeyKind.UNMATCHABLE or not k.domain:
            continue
        d = k.domain
        users = [k.user] if k.user else []
        if k.kind is KeyKind.ADDRESS:
            out.append(k.text)
        out += [f"{u}{suffix}@{d}" for u in [*users, "zz"] for suffix in ("+x", "+", "-x", "-default")]
        out += [f"zz-unnamed@{d}", f"postmaster@{d}", f"a-b-c@{d}", f"zz+y@{d}"]
    # Every name in every domain: an alias catch-all ('@d  %1@other') answers other's names.
    names = {e.key.user for e in entries if e.key.user}
    out += [f"{u}{suffix}@{d}" for u in sorted(names) for d in sorted({fold(a) for a in out})
            for suffix in ("", "+x")]
    domains = {fold(a) for a in out}
    return list(dict.fromkeys(
        a for a in [*out, *extra]
        if not set(a.rpartition("@")[0]) & set("%!") and fold(a) in domains and a.isascii()))


def fold(address: str) -> str:
    return address.rpartition("@")[2].lower()


def covered(address: str, diagnostics: Sequence[Diagnostic], entries: dict[int, Entry]) -> bool:
    """Whether a reported line covers ``address`` (README, "What does not translate")."""
    local, _, domain = address.lower().rpartition("@")
    plussed = "+" in local[1:]
    for d in diagnostics:
        k = entries[d.line].key
        if k.folded_domain != domain:
            continue
        user = k.user.lower()
        if d.code == "QM101" and plussed and (not user or local.startswith(user + "+")):
            return True
        if d.code == "QM104" and plussed:  # one finding for the domain's plussed addresses
            return True
        if d.code in ("QM103", "QM105") and (local == user or k.kind is KeyKind.CATCH_ALL):
            return True
    return False


def check(path: Path, tmp: Path, extra: Sequence[str] = ()) -> int:
    """Export ``path``, and compare jms1 over ``cdb -d`` with sendmail's RCPT replies.

    sendmail runs as a daemon does by default (``DeliveryMode=background``: programs,
    files and ``:include:`` are refused at RCPT), with an alias for every local name
    the table leads to: which accounts exist is the host's business, not the table's,
    and validrcptto lists addresses, not accounts.
    """
    out = tmp / "validrcptto.cdb"
    table = parse_file(path)
    diagnostics = export_qmail(table, out)
    by_line = {e.line: e for e in table.entries}
    addresses = [a for a in derived(table.entries, extra) if not covered(a, diagnostics, by_line)]
    cdb = dump(out)
    lookup = LookupTable.from_table(table)
    names = {r.result for r in (resolve(a, lookup) for a in addresses)
             if r.kind in ("local", "unmatched") and r.result and ALIAS_NAME.fullmatch(r.result)
             and ":" not in r.result}
    with SendmailOracle(path, aliases=[f"{n}: root" for n in sorted(names)]) as oracle:
        replies = oracle.smtp_replies(addresses, delivery_mode="background")
    wrong = [(a, r) for a, r in zip(addresses, replies) if jms1_accepts(cdb, a) != r.startswith("2")]
    assert wrong == [], f"{path}: validrcptto and sendmail disagree on {len(wrong)}: {wrong[:6]}"
    return len(addresses)


@pytest.mark.parametrize("name", ["clean/virtusertable", "missing-catch-all/virtusertable", "virtusertable"])
def test_fixtures(name: str, tmp_path: Path) -> None:
    assert check(FIXTURES / name, tmp_path) > 5


# Each example runs sendmail: no shrinking (the seed in the report reproduces the table).
@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32), size=st.integers(5, 60))
def test_generated_tables(seed: int, size: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    path = tmp_path / "vt"
    path.write_text(make_table(rng, size=size))
    assert check(path, tmp_path, make_addresses(rng, 60)) > 20


def test_the_check_can_fail(tmp_path: Path) -> None:
    """A cdb that forgets one reject disagrees with sendmail."""
    path = tmp_path / "vt"
    path.write_text("@a.test\tall@out.test\nbad@a.test\terror:5.1.1:550 No\n")
    recs, _ = records(parse_file(path))
    assert recs == [("@a.test", ""), ("bad@a.test", "-")]
    out = tmp_path / "forgetful.cdb"
    out.write_bytes(cdb_form(recs[:1]))
    assert jms1_accepts(dump(out), "bad@a.test")
    with SendmailOracle(path) as oracle:
        assert oracle.smtp_replies(["bad@a.test"])[0].startswith("550")


def test_byte_identical_to_cdb_make(tmp_path: Path) -> None:
    cdb = require_tool("cdb")
    path = tmp_path / "vt"
    path.write_text(make_table(random.Random(7), size=200))
    recs, _ = records(parse_file(path))
    assert len(recs) > 20
    (tmp_path / "in").write_bytes(b"".join(f"{k} {v}".rstrip().encode("ascii") + b"\n" for k, v in recs))
    subprocess.run([cdb, "-c", "-m", str(tmp_path / "ref.cdb"), str(tmp_path / "in")], check=True, timeout=60)
    export_qmail(parse_file(path), tmp_path / "ours.cdb")
    assert (tmp_path / "ours.cdb").read_bytes() == (tmp_path / "ref.cdb").read_bytes()
