"""``virtc export qmail`` read back by tinycdb's ``cdb`` and checked against the real sendmail.

The invariant: for every address without ``+``, jms1's validrcptto lookup (exact
``user@domain``, then ``prefix-default@domain`` for each ``-`` from the right, then
``@domain``; a value starting with ``-`` rejects; not found rejects) over the exported
cdb, as the real ``cdb -d`` dumps it, accepts exactly what sendmail accepts at RCPT
(``sendmail -bt``, with the mailers a daemon refuses at RCPT). Checked on the fixtures
and on generated tables, forwards, chains and loops included; only addresses a reported
line covers (QM103) and source routes (``%``, ``!``) are left out. The
cdb is byte-identical to ``cdb -c -m`` of the same records.
"""

from __future__ import annotations

import random
import re
import subprocess
from pathlib import Path

import pytest
from support.oracles import FIXTURES, require_tool
from support.sendmail import SendmailOracle
from support.tables import REFUSED, make_addresses, make_table

from virtc.exports.qmail import cdb_form, export_qmail, records
from virtc.source.parse import parse_file

pytestmark = pytest.mark.oracle
pytest.importorskip("cdblib", reason="pure-cdb is part of the dev install")


def dump(cdb: str, path: Path) -> dict[bytes, bytes]:
    """``cdb -d``: ``+klen,dlen:key->data`` lines; the first record of a key is what -q finds."""
    out = subprocess.run([cdb, "-d", str(path)], capture_output=True, check=True, timeout=60).stdout
    found: dict[bytes, bytes] = {}
    pos = 0
    for m in re.finditer(rb"\+(\d+),(\d+):", out):
        if m.start() < pos:
            continue
        klen, dlen = int(m[1]), int(m[2])
        key = out[m.end():m.end() + klen]
        data = out[m.end() + klen + 2:m.end() + klen + 2 + dlen]
        found.setdefault(key, data)
        pos = m.end() + klen + 2 + dlen
    return found


def jms1_accepts(cdb: dict[bytes, bytes], address: str) -> bool:
    address = address.encode("latin-1").lower()
    local, _, domain = address.rpartition(b"@")
    candidates = [address]
    for i in range(len(local) - 1, -1, -1):
        if local[i:i + 1] == b"-":
            candidates.append(local[:i + 1] + b"default@" + domain)
    candidates.append(b"@" + domain)
    for key in candidates:
        if key in cdb:
            return not cdb[key].startswith(b"-")
    return False


def derived(path: Path, extra: list[str]) -> list[str]:
    """Addresses without '+' in the table's domains (others are rcpthosts', not validrcptto's)."""
    out = []
    for e in parse_file(path).entries:
        local, _, dom = e.key_text.rpartition("@")
        if not dom or "+" in local or any(c.isspace() for c in e.key_text):
            continue
        user = local or "zz-unnamed"
        out += [f"{user}@{dom}", f"{user}-x@{dom}", f"zz-unnamed@{dom}", f"postmaster@{dom}", f"a-b-c@{dom}"]
    domains = {a.rpartition("@")[2].lower() for a in out}
    # '%' and '!' local parts are source routes: sendmail relays them (RCPT then depends on
    # its relaying rules), qmail takes them literally.
    return list(dict.fromkeys(a for a in [*out, *extra] if not set(a.rpartition("@")[0]) & set("+%!")
                              and a.rpartition("@")[2].lower() in domains))


def check(path: Path, tmp: Path, extra: list[str] = ()) -> int:  # type: ignore[assignment]
    cdb = require_tool("cdb")
    out = tmp / "validrcptto.cdb"
    diagnostics = export_qmail(parse_file(path), out)
    default_prefixes = [d.message.split("'")[1].rsplit("default@", 1)
                        for d in diagnostics if d.code == "QM103"]
    addresses = [a for a in derived(path, list(extra))
                 if not any(a.lower().startswith(p.lower()) and a.lower().endswith("@" + dom.lower())
                            for p, dom in default_prefixes)]
    table = dump(cdb, out)
    with SendmailOracle(path) as oracle:
        results = oracle.resolve(addresses, trace=False)
    # What a daemon answers at RCPT: programs, files and :include:s are refused there
    # (REFUSED, checked against sendmail -bs in test_query_harness), errors and loops too.
    verdicts = [r.mailer is not None and not r.is_error and not r.recursion and r.mailer not in REFUSED
                for r in results]
    wrong = [(a, r.mailer, r.user) for a, r, ok in zip(addresses, results, verdicts)
             if jms1_accepts(table, a) != ok]
    assert wrong == [], f"{path}: validrcptto and sendmail disagree on {len(wrong)}: {wrong[:5]}"
    return len(addresses)


@pytest.mark.parametrize("name", ["clean/virtusertable", "missing-catch-all/virtusertable", "virtusertable"])
def test_fixtures(name: str, tmp_path: Path) -> None:
    assert check(FIXTURES / name, tmp_path) > 5


@pytest.mark.parametrize("seed", range(6))
def test_generated_tables(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    path = tmp_path / "vt"
    path.write_text(make_table(rng, size=80))
    assert check(path, tmp_path, make_addresses(rng, 150)) > 100


def test_the_check_can_fail(tmp_path: Path) -> None:
    """A cdb that forgets one reject disagrees with sendmail."""
    path = tmp_path / "vt"
    path.write_text("@a.test\tall@out.test\nbad@a.test\terror:5.1.1:550 No\n")
    recs, _ = records(parse_file(path))
    assert recs == [("@a.test", ""), ("bad@a.test", "-")]
    out = tmp_path / "forgetful.cdb"
    out.write_bytes(cdb_form(recs[:1]))
    assert jms1_accepts(dump(require_tool("cdb"), out), "bad@a.test")


def test_byte_identical_to_cdb_make(tmp_path: Path) -> None:
    cdb = require_tool("cdb")
    path = tmp_path / "vt"
    path.write_text(make_table(random.Random(7), size=200))
    recs, _ = records(parse_file(path))
    (tmp_path / "in").write_bytes(b"".join(f"{k} {v}".rstrip().encode("latin-1") + b"\n" for k, v in recs))
    subprocess.run([cdb, "-c", "-m", str(tmp_path / "ref.cdb"), str(tmp_path / "in")], check=True, timeout=60)
    export_qmail(parse_file(path), tmp_path / "ours.cdb")
    assert (tmp_path / "ours.cdb").read_bytes() == (tmp_path / "ref.cdb").read_bytes()
