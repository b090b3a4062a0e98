"""virtc build == makemap, fixture by fixture (tests/data/makemap/*.vt, one behaviour each).

Every fixture is compiled by the real makemap and by virtc (``--no-lint``) with each
set of switches; see :mod:`support.makemap_compare` for what must agree.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from support.makemap import Message, db_dump_p, db_verify, run_makemap
from support.makemap_compare import Flags, compare
from support.oracles import TEST_DATA

DATA = TEST_DATA / "makemap"
FIXTURES = sorted(DATA.glob("*.vt"))

# Every fixture with these by default; the rest of the matrix under -m slow (make test-all).
FLAG_SETS = {
    "hash": Flags(),
    "N": Flags(null=True),
    "btree-f-N-r": Flags(dbtype="btree", foldcase=False, null=True, replace=True),
}
SLOW_FLAG_SETS = {
    "btree": Flags(dbtype="btree"),
    "f": Flags(foldcase=False),
    "r": Flags(replace=True),
}

pytestmark = pytest.mark.oracle


@pytest.mark.parametrize(
    "flags",
    [*FLAG_SETS.values(), *(pytest.param(f, marks=pytest.mark.slow) for f in SLOW_FLAG_SETS.values())],
    ids=[*FLAG_SETS, *SLOW_FLAG_SETS],
)
@pytest.mark.parametrize("fixture", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_fixture_matches_makemap(fixture: Path, flags: Flags, tmp_path: Path,
                                 makemap: str, db_dump: str, db_verify: str, bdb: None) -> None:
    compare(fixture.read_bytes(), tmp_path, flags)


def test_harness_reads_makemaps_complaints_and_dump(tmp_path: Path, makemap: str) -> None:
    """The oracle harness itself, on makemap's output as printed (checked by hand once)."""
    result = run_makemap(b"A@X.test v1\n b\nc@X\n#c\n\nA@x.test v2\nd@x\tcrlf\r\n" + b"x" * 1030 + b"\n",
                         tmp_path)
    assert result.returncode == 65
    assert result.messages == [Message(2, "leading-space"), Message(3, "missing-value", b"c@x"),
                               Message(6, "duplicate", b"a@x.test"), Message(8, "too-long"),
                               Message(9, "missing-value", b"xxxxxxx")]
    assert sorted(result.records) == [(b"a@x.test", b"v1"), (b"d@x", b"crlf\r")]
    assert "h_nelem=4098" in db_dump_p(result.map_file)
    assert db_verify(result.map_file)[0]


def test_fixture_set_covers_every_makemap_complaint(tmp_path: Path, makemap: str) -> None:
    """The fixtures make makemap say each of its complaints, and some are accepted cleanly."""
    kinds: set[str] = set()
    clean = 0
    for fixture in FIXTURES:
        result = run_makemap(fixture.read_bytes(), tmp_path)
        kinds |= {m.kind for m in result.messages}
        clean += not result.messages
    assert kinds == {"too-long", "leading-space", "missing-value", "duplicate"}
    assert clean >= 20


SENDMAIL_TABLE = (b"# demo\nAlice@Example.COM alice\nbob+*@example.com bob-detail\n"
                  b"@example.com error:nouser 550 5.1.1 User unknown\ninfo@example.org %1@other.example.net\n"
                  b"@example.org %1@catchall.example.net\nweird@example.net error:5.7.1:550 Relaying denied\n"
                  b"J\xd6RG@example.net joerg\n")
SENDMAIL_ADDRESSES = ["alice@example.com", "ALICE@EXAMPLE.COM", "bob+foo@example.com", "bob@example.com",
                      "nosuch@example.com", "info@example.org", "zed@example.org", "weird@example.net",
                      "j\xf6rg@example.net", "nobody@example.net"]


@pytest.mark.parametrize("null", [False, True], ids=["plain", "N"])
def test_sendmail_resolves_through_a_virtc_map(tmp_path: Path, null: bool, sendmail: str,
                                               makemap: str, bdb: None) -> None:
    """The real sendmail reads virtc's map and resolves exactly as through makemap's."""
    from support.sendmail import resolve_with_sendmail

    from virtc.maps.build import build
    from virtc.maps.records import BuildOptions

    src = tmp_path / "virtusertable"
    src.write_bytes(SENDMAIL_TABLE)
    result = build(src, tmp_path / "virtc.db", BuildOptions(null=null, lint=False))
    assert result.written
    ours = resolve_with_sendmail(result.output, SENDMAIL_ADDRESSES)
    theirs = resolve_with_sendmail(src, SENDMAIL_ADDRESSES)  # compiled by the real makemap
    assert [(r.mailer, r.host, r.user, r.matched) for r in ours] == [
        (r.mailer, r.host, r.user, r.matched) for r in theirs]
    by_address = {r.address: r for r in ours}
    upper = by_address["ALICE@EXAMPLE.COM"]
    assert (upper.mailer, upper.user) == ("local", "alice")
    assert by_address["bob+foo@example.com"].user == "bob-detail"
    assert by_address["nosuch@example.com"].reply == "550 5.1.1 User unknown"
    assert by_address["zed@example.org"].user == "zed@catchall.example.net"


@pytest.mark.parametrize("dbtype", ["hash", "btree"])
def test_large_table_same_layout(tmp_path: Path, dbtype: str, makemap: str, db_dump: str,
                                 db_verify: str, bdb: None) -> None:
    """Thousands of keys (bucket splits, page splits) and values near the line limit
    (overflow pages): still the same ``db_dump -p``, header included."""
    lines = []
    for i in range(6000):
        key = f"User{i}@Example{i % 7}.COM"
        value = f"user{i}@example.net" if i % 50 else "v" * (990 - len(key) + i % 30)  # <= 1020 bytes
        lines.append(f"{key} {value}")
    mm = compare(("\n".join(lines) + "\n").encode(), tmp_path, Flags(dbtype=dbtype))
    assert mm.messages == [] and len(mm.records) == 6000


@pytest.mark.parametrize("flags", [Flags(replace=True), Flags(dbtype="btree", replace=True),
                                   Flags(null=True, foldcase=False, replace=True)],
                         ids=["hash-r", "btree-r", "hash-N-f-r"])
def test_many_overwrites_same_layout(tmp_path: Path, flags: Flags, makemap: str, db_dump: str,
                                     db_verify: str, bdb: None) -> None:
    """With -r, thousands of keys repeat (in varying case) with values of varying size: the
    overwrites move items between pages, and the map still matches makemap's page for page."""
    rnd = random.Random(7)
    lines = []
    for i in range(8000):
        k = rnd.randrange(3000)
        key = f"U{k}@D{k % 13}.Test"
        value = "v" * rnd.choice([1, 10, 300, 900]) + str(i)
        lines.append(f"{key.upper() if rnd.random() < 0.3 else key}\t{value}")
    mm = compare(("\n".join(lines) + "\n").encode(), tmp_path, flags)
    assert mm.messages == [] and 2000 < len(mm.records) < 8000
