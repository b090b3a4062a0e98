"""``virtc makemap`` side by side with the real makemap: same flags, messages, exit codes, records.

Every case runs the real makemap (through the shared harness) and virtc's makemap
(in-process, ``virtc.maps.makemap.run``) on the same bytes with the same switches, and
checks: the exit code, makemap's per-line messages (byte for byte), the ``-v`` lines,
and the stored records (``makemap -u`` of both maps, map order included). Where
makemap complains, virtc must leave the target untouched (it writes nothing), but the
records it would have stored must equal what makemap stored.
"""

from __future__ import annotations

import io
import os
import pwd
import random
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.makemap import db_dump_p, makemap_dump, run_makemap
from support.oracles import TEST_DATA
from support.tables import generated

from virtc.maps.makemap import USAGE, Dialect, Options, compile_table, parse, run
from virtc.source.parse import parse_bytes

pytestmark = pytest.mark.oracle

DATA = TEST_DATA / "makemap"
NAME = "map"


@dataclass
class Ran:
    code: int
    stdout: bytes
    stderr: str


def virtc_makemap(args: list[str], source: bytes = b"") -> Ran:
    out, err = io.BytesIO(), io.BytesIO()
    code = run(args, io.BytesIO(source), out, err)
    return Ran(code, out.getvalue(), without_warnings(err.getvalue().decode("latin-1")))


def real_makemap(makemap: str, args: list[str], source: bytes = b"") -> Ran:
    proc = subprocess.run([makemap, *args], input=source, capture_output=True, timeout=60, check=False)
    return Ran(proc.returncode, proc.stdout, without_warnings(proc.stderr.decode("latin-1")))


def without_warnings(stderr: str) -> str:
    """Both warn about the (world-writable) /tmp above the test directory: compared apart."""
    return "".join(ln for ln in stderr.splitlines(keepends=True) if not ln.startswith("WARNING: "))


def empty_cf(tmp: Path) -> str:
    cf = tmp / "empty.cf"
    cf.write_text("# no TrustedUser\n")
    return str(cf)


def side_by_side(source: bytes, tmp: Path, flags: list[str], dbtype: str = "hash") -> None:
    """Assert virtc's makemap and the real one agree on ``source`` with ``flags``."""
    mm_dir, vc_dir = tmp / "makemap", tmp / "virtc"
    for d in (mm_dir, vc_dir):
        d.mkdir(exist_ok=True)
        (d / f"{NAME}.db").unlink(missing_ok=True)
    mm = run_makemap(source, mm_dir, dbtype=dbtype, flags=flags, name=NAME)
    # The same map name relative to each directory: messages name the map as given.
    cwd = os.getcwd()
    os.chdir(vc_dir)
    try:
        vc = virtc_makemap(["-C", empty_cf(vc_dir), *flags, dbtype, NAME], source)
    finally:
        os.chdir(cwd)
    context = f"flags={flags} source={source[:300]!r}"
    assert vc.code == mm.returncode, (context, vc.stderr, mm.stderr)
    mm_lines = [ln.replace(str(mm_dir / NAME), NAME) for ln in mm.stderr.decode("latin-1").splitlines()
                if not ln.startswith("WARNING: ")]
    vc_lines = [ln for ln in vc.stderr.splitlines() if not ln.startswith("WARNING: ")]
    if vc.code == 0:
        assert vc_lines == mm_lines, context
        ours = makemap_dump(vc_dir / NAME, dbtype, vc_dir)
        assert ours == makemap_dump(mm.map_file, dbtype, mm_dir), context
        # The same file layout too: header (hash) and data pages, as db_dump -p prints them.
        assert db_dump_p(vc_dir / f"{NAME}.db") == db_dump_p(mm.map_file), context
    else:
        # virtc adds one line saying it wrote nothing; the rest is makemap's, byte for byte.
        assert vc_lines[:-1] == mm_lines, context
        assert vc_lines[-1].startswith(f"makemap: {NAME}: virtc wrote nothing"), vc_lines
        assert not (vc_dir / f"{NAME}.db").exists()
        table = parse(source, "<stdin>", _dialect(flags))
        opts = Options(dbtype, NAME, _dialect(flags), foldcase="-f" not in flags, null="-N" in flags,
                       replace="-r" in flags, dups="-d" in flags)
        would = [k.split(b"\0")[0] + b"\t" + v.split(b"\0")[0] for k, v in compile_table(table, opts).records]
        stored = makemap_dump(mm.map_file, dbtype, mm_dir).split(b"\n")[:-1]
        assert sorted(would) == sorted(stored), context


def _dialect(flags: list[str]) -> Dialect:
    d = Dialect()
    for i, f in enumerate(flags):
        first_byte = os.fsencode(flags[i + 1])[:1].decode("latin-1") if i + 1 < len(flags) else ""
        if f == "-t" and first_byte:
            d = Dialect(first_byte, d.comment, d.allow_empty)
        elif f == "-D":
            d = Dialect(d.sep, first_byte, d.allow_empty)
        elif f == "-e":
            d = Dialect(d.sep, d.comment, True)
    return d


# -- generated sources -------------------------------------------------------------------------

FLAG_SETS = [
    [], ["-f"], ["-N"], ["-r"], ["-e"], ["-d"], ["-v"], ["-t", ":"], ["-t", " "], ["-t", ";", "-e"],
    ["-D", ";"], ["-D", ""], ["-D", ";", "-t", ":"], ["-e", "-f", "-r"], ["-N", "-d", "-v"],
    ["-t", "\t"], ["-D", " "], ["-D", "#", "-t", "#"], ["-t", "ü"],
]


@pytest.mark.parametrize("flags", FLAG_SETS, ids=[" ".join(f) or "default" for f in FLAG_SETS])
def test_generated_sources_match_makemap(flags: list[str], tmp_path: Path, makemap: str, bdb: None) -> None:
    rng = random.Random(" ".join(flags))
    for _ in range(12):
        side_by_side(generated(rng), tmp_path, flags)


@pytest.mark.parametrize("dbtype", ["btree", "implicit"])
def test_other_types_match_makemap(dbtype: str, tmp_path: Path, makemap: str, bdb: None) -> None:
    rng = random.Random(dbtype)
    for _ in range(4):
        side_by_side(generated(rng), tmp_path, ["-r"], dbtype)


@pytest.mark.parametrize("fixture", sorted(DATA.glob("*.vt")), ids=lambda p: p.stem)
def test_build_fixtures_match_makemap(fixture: Path, tmp_path: Path, makemap: str, bdb: None) -> None:
    side_by_side(fixture.read_bytes(), tmp_path, [])


def test_default_dialect_is_the_grammar_path() -> None:
    """Without -t/-D/-e the drop-in parses exactly as virtc.source.parse does."""
    rng = random.Random(7)
    for _ in range(200):
        src = generated(rng)
        assert parse(src, "x").items == parse_bytes(src, "x").items


# -- command line, types, files ----------------------------------------------------------------

@pytest.mark.parametrize("args", [[], ["hash"], ["hash", "a", "b"], ["-Z", "hash", "a"], ["-t"]],
                         ids=["none", "one", "three", "bad-option", "missing-argument"])
def test_usage_matches_makemap(args: list[str], tmp_path: Path, makemap: str) -> None:
    mm, vc = real_makemap(makemap, args), virtc_makemap(args)
    assert vc.code == mm.code == 64
    assert vc.stderr.endswith(USAGE) and mm.stderr.endswith(USAGE)
    # getopt's complaint: glibc prefixes argv[0], virtc says "makemap".
    assert vc.stderr.removesuffix(USAGE) == mm.stderr.removesuffix(USAGE).replace(makemap, "makemap")


@pytest.mark.parametrize("flag", ["-l", "-x", "-L"])
def test_type_listings_match_makemap(flag: str, makemap: str) -> None:
    mm, vc = real_makemap(makemap, [flag]), virtc_makemap([flag])
    assert (vc.code, vc.stdout) == (mm.code, mm.stdout) == (0, mm.stdout)


@pytest.mark.parametrize("dbtype", ["foo", "dbm", "cdb", "Hash"])
def test_unavailable_types_match_makemap(dbtype: str, tmp_path: Path, makemap: str, bdb: None) -> None:
    cf = empty_cf(tmp_path)
    name = str(tmp_path / "m")
    mm = real_makemap(makemap, ["-C", cf, dbtype, name], b"a b\n")
    vc = virtc_makemap(["-C", cf, dbtype, name], b"a b\n")
    assert (vc.code, vc.stderr) == (mm.code, mm.stderr) == (73, mm.stderr)


@pytest.mark.parametrize("flags", [["-u"], ["-o"]])
def test_missing_map_matches_makemap(flags: list[str], tmp_path: Path, makemap: str, bdb: None) -> None:
    cf = empty_cf(tmp_path)
    name = str(tmp_path / "absent")
    mm = real_makemap(makemap, ["-C", cf, *flags, "hash", name], b"a b\n")
    vc = virtc_makemap(["-C", cf, *flags, "hash", name], b"a b\n")
    assert (vc.code, vc.stderr) == (mm.code, mm.stderr) == (73, mm.stderr)


def test_missing_cf_as_root_matches_makemap(tmp_path: Path, makemap: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("makemap reads sendmail.cf only when run as root")
    args = ["-C", str(tmp_path / "no.cf"), "hash", str(tmp_path / "m")]
    mm, vc = real_makemap(makemap, args, b"a b\n"), virtc_makemap(args, b"a b\n")
    assert vc.code == mm.code == 66
    assert vc.stderr.rstrip("\n") == mm.stderr.rstrip("\n")  # makemap forgets the newline


@pytest.mark.parametrize("flags", [[], ["-t", ":"], ["-N"]])
def test_dump_matches_makemap(flags: list[str], tmp_path: Path, makemap: str, bdb: None) -> None:
    cf = empty_cf(tmp_path)
    name = str(tmp_path / "m")
    source = b"b:2\nA:1\nc:x y\n" if flags[:1] == ["-t"] else b"b 2\nA 1\nc x y\n"
    assert real_makemap(makemap, ["-C", cf, *flags, "hash", name], source).code == 0
    mm = real_makemap(makemap, ["-C", cf, *flags, "-u", "hash", name])
    vc = virtc_makemap(["-C", cf, *flags, "-u", "hash", name])
    assert (vc.code, vc.stdout, vc.stderr) == (mm.code, mm.stdout, "") == (0, mm.stdout, "")


def test_append_matches_makemap(tmp_path: Path, makemap: str, bdb: None) -> None:
    """-o: the old records stay, old keys count as duplicates (makemap: first kept, exit 65)."""
    for second, flags in ((b"c 3\nd 4\n", ["-o"]), (b"a 9\ne 5\n", ["-o"]), (b"a 9\ne 5\n", ["-o", "-r"])):
        mm_dir, vc_dir = tmp_path / "mm", tmp_path / "vc"
        for d in (mm_dir, vc_dir):
            d.mkdir(exist_ok=True)
            (d / "m.db").unlink(missing_ok=True)
        cf = empty_cf(tmp_path)
        first = b"a 1\nb 2\n"
        mm = [real_makemap(makemap, ["-C", cf, *f, "hash", str(mm_dir / "m")], s)
              for f, s in (([], first), (flags, second))]
        vc = [virtc_makemap(["-C", cf, *f, "hash", str(vc_dir / "m")], s)
              for f, s in (([], first), (flags, second))]
        assert [r.code for r in vc] == [r.code for r in mm]
        assert vc[1].stderr.splitlines()[: len(mm[1].stderr.splitlines())] == [
            ln.replace(str(mm_dir), str(vc_dir)) for ln in mm[1].stderr.splitlines()]
        def stored(d: Path) -> list[bytes]:
            return sorted(makemap_dump(d / "m", "hash").split(b"\n")[:-1])

        if mm[1].code == 0:
            assert stored(vc_dir) == stored(mm_dir)
            assert (b"a\t9" in stored(vc_dir)) == ("-r" in flags)
        else:
            assert stored(mm_dir) == [b"a\t1", b"b\t2", b"e\t5"]  # makemap added the rest
            assert stored(vc_dir) == [b"a\t1", b"b\t2"]  # virtc kept the old map as it was


# -- what virtc does differently on purpose ----------------------------------------------------

def test_nothing_written_on_error(tmp_path: Path, bdb: None) -> None:
    """makemap installs a partial map on exit 65; virtc leaves the old one byte for byte."""
    cf = empty_cf(tmp_path)
    name = str(tmp_path / "m")
    assert virtc_makemap(["-C", cf, "hash", name], b"a 1\n").code == 0
    before = (tmp_path / "m.db").read_bytes()
    os.chmod(tmp_path / "m.db", 0o604)
    ran = virtc_makemap(["-C", cf, "hash", name], b"a 2\nb\n b 3\n")
    assert ran.code == 65
    assert ran.stderr.splitlines() == [
        f"makemap: {name}: line 2: no RHS for LHS b",
        f"makemap: {name}: line 3: syntax error (leading space)",
        f"makemap: {name}: virtc wrote nothing (2 errors); the old map is unchanged",
    ]
    assert (tmp_path / "m.db").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.cf", "m.db"]
    # A good rebuild keeps the map's mode (makemap truncates in place, so it keeps it too).
    assert virtc_makemap(["-C", cf, "hash", name], b"a 2\n").code == 0
    assert (tmp_path / "m.db").stat().st_mode & 0o777 == 0o604


def test_new_map_belongs_to_trusted_user_as_makemap_does(tmp_path: Path, makemap: str, bdb: None) -> None:
    if os.geteuid() != 0:
        pytest.skip("makemap chowns to TrustedUser only when run as root")
    user = next((u for u in ("smmta", "daemon", "nobody") if _uid(u) is not None), None)
    if user is None:
        pytest.skip("no unprivileged user to be TrustedUser")
    cf = tmp_path / "trusted.cf"
    cf.write_text(f"O TrustedUser={user}\n")
    for tool, name in ((None, "vc"), (makemap, "mm")):
        args = ["-C", str(cf), "hash", str(tmp_path / name)]
        code = virtc_makemap(args, b"a b\n").code if tool is None else real_makemap(tool, args, b"a b\n").code
        assert code == 0
    assert (tmp_path / "vc.db").stat().st_uid == (tmp_path / "mm.db").stat().st_uid == _uid(user)
    assert (tmp_path / "vc.db").stat().st_mode & 0o777 == (tmp_path / "mm.db").stat().st_mode & 0o777


def _uid(user: str) -> int | None:
    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        return None


def test_symlink_refused_unless_s(tmp_path: Path, makemap: str, bdb: None) -> None:
    cf = empty_cf(tmp_path)
    real = tmp_path / "real.db"
    assert virtc_makemap(["-C", cf, "hash", str(tmp_path / "real")], b"a 1\n").code == 0
    (tmp_path / "link.db").symlink_to(real.name)
    mm = real_makemap(makemap, ["-C", cf, "hash", str(tmp_path / "link")], b"a 2\n")
    vc = virtc_makemap(["-C", cf, "hash", str(tmp_path / "link")], b"a 2\n")
    assert vc.code == mm.code == 73
    assert vc.stderr.startswith(f"makemap: error opening type hash map {tmp_path / 'link'}: ")
    # -s: makemap writes through the link; virtc replaces the file it names, the link stays.
    assert virtc_makemap(["-C", cf, "-s", "hash", str(tmp_path / "link")], b"a 3\n").code == 0
    assert (tmp_path / "link.db").is_symlink()
    assert makemap_dump(tmp_path / "real", "hash") == b"a\t3\n"


# The rule Debian's /etc/mail/Makefile uses for every map, with the makemap made a variable.
MAKEFILE = """\
MAKEMAP = /usr/sbin/makemap
%.db: % FORCE
\t@echo 'Updating $@...';
\t@if true; then \\
\t\t$(MAKEMAP) hash $@.new.db < $<; \\
\t\tchmod 0640 $@.new.db; \\
\t\tmv -f $@.new.db $@; \\
\t\tfi;
FORCE: ;
"""


def test_etc_mail_makefile_switch(tmp_path: Path, makemap: str, bdb: None) -> None:
    """MAKEMAP = virtc makemap: same map from a good source; a bad one no longer gets installed."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("make not installed")
    virtc = Path(sys.executable).with_name("virtc")
    cf = empty_cf(tmp_path)
    results = {}
    for tool, command in (("makemap", f"{makemap} -C {cf}"), ("virtc", f"{virtc} makemap -C {cf}")):
        d = tmp_path / tool
        d.mkdir()
        (d / "Makefile").write_text(MAKEFILE)
        (d / "virtusertable").write_bytes(b"alice@example.com alice\n@example.com error:nouser 550 No\n")
        good = subprocess.run([make, "-s", f"MAKEMAP={command}", "virtusertable.db"], cwd=d,
                              capture_output=True, text=True, timeout=60, check=False)
        assert good.returncode == 0, good.stderr
        first = makemap_dump(d / "virtusertable", "hash")
        (d / "virtusertable").write_bytes(b"bob@example.com bob\nBob@example.com x\ncarol@example.com\n")
        bad = subprocess.run([make, "-s", f"MAKEMAP={command}", "virtusertable.db"], cwd=d,
                             capture_output=True, text=True, timeout=60, check=False)
        results[tool] = (first, bad, makemap_dump(d / "virtusertable", "hash"))
    mm_first, mm_bad, mm_after = results["makemap"]
    vc_first, vc_bad, vc_after = results["virtc"]
    assert vc_first == mm_first
    # makemap complains, and the recipe still installs the partial map (the exit status is mv's).
    assert mm_bad.returncode == 0 and b"bob@example.com\tbob\n" in mm_after
    # virtc makemap says the same lines, writes nothing, and the recipe fails: the old map stays.
    complaints = [ln for ln in mm_bad.stderr.splitlines() if ln.startswith("makemap: ")]
    assert complaints and all(ln in vc_bad.stderr.splitlines() for ln in complaints)
    assert vc_bad.returncode != 0 and vc_after == vc_first


def test_cli_bytes_match_makemap(tmp_path: Path, makemap: str, bdb: None) -> None:
    """Through the installed `virtc makemap` entry point: non-ASCII keys and map names echo byte
    for byte, and the exit code is makemap's."""
    virtc = Path(sys.executable).with_name("virtc")
    cf = empty_cf(tmp_path)
    source = "Jörg@Exämple.com\nok@x.org ok\nok@X.org dup\n".encode()
    results = []
    for argv0, name in (([makemap], "mm-café"), ([str(virtc), "makemap"], "vc-café")):
        proc = subprocess.run([*argv0, "-C", cf, "hash", str(tmp_path / name)], input=source,
                              capture_output=True, timeout=60, check=False)
        lines = [ln.replace(os.fsencode(tmp_path / name), b"MAP") for ln in proc.stderr.splitlines()
                 if not ln.startswith(b"WARNING: ")]
        results.append((proc.returncode, lines))
    (mm_code, mm_lines), (vc_code, vc_lines) = results
    assert vc_code == mm_code == 65
    assert mm_lines == ["makemap: MAP: line 1: no RHS for LHS jörg@exämple.com".encode(),
                        b"makemap: MAP: line 3: key ok@x.org: duplicate key"]
    assert vc_lines[:-1] == mm_lines


def test_unsafe_directory_warning_as_makemap_words_it(tmp_path: Path, makemap: str, bdb: None) -> None:
    """A map below a world-writable directory (here /tmp): makemap warns, sendmail refuses it."""
    cf = empty_cf(tmp_path)
    args = ["-C", cf, "hash", str(tmp_path / "m")]
    mm = subprocess.run([makemap, *args], input=b"a b\n", capture_output=True, timeout=60, check=False)
    err = io.BytesIO()
    assert run(args, io.BytesIO(b"a b\n"), io.BytesIO(), err) == mm.returncode == 0
    warnings = set(err.getvalue().splitlines())
    assert b"WARNING: World writable directory /tmp" in warnings
    assert warnings <= set(mm.stderr.splitlines())


@pytest.mark.parametrize("stop_at", ["locked", "written", "verified", "renamed"])
def test_killed_makemap_leaves_old_or_new_map(stop_at: str, tmp_path: Path, makemap: str,
                                              bdb: None) -> None:
    """SIGKILL at each step of the atomic write: the map is the old one or the complete new one,
    never a mix; the next run removes the temporary file left behind."""
    from support.safety import STOP_ENV, kill, table, temps, wait_stopped

    cf = empty_cf(tmp_path)
    target = tmp_path / "m.db"
    old, new = table(300, "old"), table(300, "new")
    assert virtc_makemap(["-C", cf, "hash", str(tmp_path / "m")], old).code == 0
    before = makemap_dump(tmp_path / "m", "hash")
    env = {**os.environ, STOP_ENV: stop_at}
    source = tmp_path / "new.src"
    source.write_bytes(new)
    with source.open("rb") as stdin:
        proc = subprocess.Popen([sys.executable, "-m", "virtc", "makemap", "-C", cf, "hash",
                                 str(tmp_path / "m")], stdin=stdin, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env)
    wait_stopped(proc)
    kill(proc)
    after = makemap_dump(tmp_path / "m", "hash")
    if stop_at == "renamed":
        assert sorted(after.split(b"\n")) == sorted(makemap_dump_of(new, tmp_path, makemap).split(b"\n"))
    else:
        assert after == before
    assert bool(temps(target)) == (stop_at in ("written", "verified"))  # a killed write's leftover
    assert virtc_makemap(["-C", cf, "hash", str(tmp_path / "m")], new).code == 0
    assert temps(target) == []


def makemap_dump_of(source: bytes, tmp: Path, makemap: str) -> bytes:
    mm = run_makemap(source, tmp, name="expected")
    assert mm.returncode == 0
    return makemap_dump(mm.map_file, "hash", tmp)
