"""``virtc build`` and ``virtc dump`` as a user runs them: exit codes, one-line errors, files.

These run the installed ``.venv/bin/virtc`` in a subprocess (the real entry point,
with its error handling), and compare with the real makemap where it matters.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.makemap import db_verify, makemap_dump, run_makemap
from support.oracles import ROOT

VIRTC = ROOT / ".venv" / "bin" / "virtc"
if not VIRTC.exists():  # an install elsewhere (CI venv): the same entry point
    VIRTC = Path(sys.executable).with_name("virtc")

SOURCE = b"# demo\nAlice@Example.COM alice\nbob+*@example.com bob-detail\n@example.com error:nouser 550 no\n"


def virtc(*args: str | Path, cwd: Path | None = None,
          env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VIRTC), *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=60, check=False)


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("virtc: "), proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.fixture
def source(tmp_path: Path) -> Path:
    src = tmp_path / "virtusertable"
    src.write_bytes(SOURCE)
    return src


# --- help and version ------------------------------------------------------------------

def test_version() -> None:
    proc = virtc("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("virtc, version "), proc


@pytest.mark.parametrize("args", [["--help"], ["build", "--help"], ["dump", "--help"]])
def test_help(args: list[str]) -> None:
    proc = virtc(*args)
    assert proc.returncode == 0 and "Usage:" in proc.stdout and proc.stderr == "", proc


def test_help_on_every_command() -> None:
    from virtc.cli import COMMANDS

    listed = virtc("--help").stdout
    for name in COMMANDS:
        if f"  {name} " not in listed:  # not implemented yet: not listed either
            continue
        proc = virtc(name, "--help")
        assert proc.returncode == 0 and f"Usage: virtc {name}" in proc.stdout, (name, proc.stderr)


def test_build_help_lists_the_makemap_switches() -> None:
    out = virtc("build", "--help").stdout
    for option in ["-o, --output", "--type", "-f, --no-fold", "-N, --null", "-r, --replace", "--no-lint"]:
        assert option in out


# --- a successful build ----------------------------------------------------------------

def test_build_writes_source_db_by_default_mode_0640(source: Path, bdb: None) -> None:
    proc = virtc("build", source)
    assert proc.returncode == 0, proc.stderr
    target = source.with_name("virtusertable.db")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert "wrote" in proc.stderr and "(3 records)" in proc.stderr


def test_new_map_is_0640_whatever_the_umask(tmp_path: Path, source: Path, makemap: str,
                                           bdb: None) -> None:
    """A documented difference (docs/guarantees.md): makemap gives 0640 minus the umask,
    virtc gives new maps sendmail's DBMMODE 0640 as asked, so the mode does not depend
    on the shell a rebuild happens to run from."""
    umask = "umask 077 && exec \"$@\""
    subprocess.run(["sh", "-c", umask, "sh", str(VIRTC), "build", "-q", "--no-lint", str(source)],
                   capture_output=True, check=True)
    subprocess.run(["sh", "-c", umask, "sh", makemap, "-C", "/dev/null", "hash", str(tmp_path / "mm")],
                   stdin=source.open("rb"), capture_output=True, check=True)
    assert stat.S_IMODE(source.with_name("virtusertable.db").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "mm.db").stat().st_mode) == 0o600


@pytest.mark.parametrize(("output", "written"), [("out", "out.db"), ("out.db", "out.db"),
                                                 ("out.map", "out.map.db"), ("o.db.x", "o.db.x.db")])
def test_output_name_gets_db_appended_like_makemap(tmp_path: Path, source: Path, output: str,
                                                   written: str, makemap: str, bdb: None) -> None:
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir()
    theirs.mkdir()
    assert virtc("build", source, "-o", ours / output).returncode == 0
    subprocess.run([makemap, "-C", "/dev/null", "hash", str(theirs / output)],
                   stdin=source.open("rb"), capture_output=True, check=True)
    assert sorted(p.name for p in ours.iterdir()) == sorted(p.name for p in theirs.iterdir()) == [written]


def test_build_and_dump_through_the_cli_match_makemap(tmp_path: Path, source: Path, makemap: str,
                                                      bdb: None) -> None:
    """Every makemap switch, through the real command line."""
    source.write_bytes(SOURCE + b"ALICE@example.com again\nv@x.test value\r\n")
    cases = {"hash": ([], []), "btree": (["--type", "btree"], []), "N": (["-N"], ["-N"]),
             "f": (["--no-fold"], ["-f"]), "r": (["-r"], ["-r"])}
    for name, (ours_args, makemap_flags) in cases.items():
        dbtype = "btree" if "btree" in ours_args else "hash"
        work = tmp_path / name
        work.mkdir()
        mm = run_makemap(source.read_bytes(), work, dbtype=dbtype, flags=makemap_flags)
        proc = virtc("build", "--no-lint", *ours_args, source, "-o", work / "virtc")
        if mm.messages:  # the duplicate without -f/-r
            assert proc.returncode != 0 and not (work / "virtc.db").exists(), (name, proc.stderr)
            continue
        assert proc.returncode == 0, (name, proc.stderr)
        assert db_verify(work / "virtc.db")[0]
        dumped = subprocess.run([str(VIRTC), "dump", str(work / "virtc.db")], capture_output=True,
                                check=True)
        assert dumped.stdout == makemap_dump(mm.map_file, dbtype, work), name


def test_dump_hides_trailing_nul_like_makemap_u(tmp_path: Path, makemap: str, bdb: None) -> None:
    """makemap -u prints with %.*s: a -N map dumps without its NULs (was: virtc printed them)."""
    mm = run_makemap(b"a@x.test alice\nB@X.TEST bob\n", tmp_path, flags=["-N"])
    proc = subprocess.run([str(VIRTC), "dump", str(mm.map_file)], capture_output=True, check=True)
    assert proc.stdout == makemap_dump(mm.map_file, "hash", tmp_path)
    assert b"\0" not in proc.stdout


def test_dump_accepts_the_map_name_without_db(tmp_path: Path, source: Path, bdb: None) -> None:
    assert virtc("build", source).returncode == 0
    assert virtc("dump", source).stdout == virtc("dump", source.with_name("virtusertable.db")).stdout != ""


# --- makemap's rejections block the build -----------------------------------------------

BAD = b"a@x.test 1\n indented v\nnovalue\nA@X.TEST 2\n" + b"k " + b"v" * 1100 + b"\nn\0ul v\n"


def test_rejected_source_lists_every_problem_and_writes_nothing(tmp_path: Path, bdb: None) -> None:
    src = tmp_path / "vt"
    src.write_bytes(BAD)
    proc = virtc("build", "--no-lint", src)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    vt001 = [line for line in proc.stderr.splitlines() if " VT001 " in line]
    # line 5 is 1102 bytes: makemap rejects its first 1023 bytes and reads the rest
    # ("vvv...", a key without a value) as a new line; the NUL sits at column 2 of line 6.
    assert [line.split(" VT001 ")[0] for line in vt001] == [
        f"{src}:2:1:", f"{src}:3:1:", f"{src}:4:1:", f"{src}:5:1:", f"{src}:5:1024:", f"{src}:6:2:"]
    assert "line 1" in vt001[2]  # the duplicate names the first definition too
    assert proc.stderr.splitlines()[-1] == f"virtc: {src}.db not written: 6 errors in {src}"
    assert not src.with_name("vt.db").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["vt"]  # no temporary files either


def test_with_lint_every_rejection_is_reported_once(tmp_path: Path, bdb: None) -> None:
    """Lint on: each line makemap rejects is reported once (the duplicate as lint's VT103)."""
    src = tmp_path / "vt"
    src.write_bytes(BAD)
    proc = virtc("build", src)
    assert proc.returncode != 0 and not (tmp_path / "vt.db").exists()
    located = [line.split(" ", 2)[:2] for line in proc.stderr.splitlines() if line.startswith(f"{src}:")]
    blocking = [(where, code) for where, code in located if code in ("VT001", "VT103")]
    assert blocking == [(f"{src}:2:1:", "VT001"), (f"{src}:3:1:", "VT001"), (f"{src}:4:1:", "VT103"),
                        (f"{src}:5:1:", "VT001"), (f"{src}:5:1024:", "VT001"), (f"{src}:6:2:", "VT001")]


@pytest.mark.parametrize("lint", [[], ["--no-lint"]])
def test_existing_map_is_untouched_by_a_rejected_build(tmp_path: Path, lint: list[str], bdb: None) -> None:
    src = tmp_path / "vt"
    src.write_bytes(SOURCE)
    assert virtc("build", src).returncode == 0
    target = tmp_path / "vt.db"
    before = target.read_bytes(), target.stat()
    src.write_bytes(BAD)
    assert virtc("build", *lint, src).returncode != 0
    after = target.read_bytes(), target.stat()
    assert after[0] == before[0]
    assert (after[1].st_ino, after[1].st_mtime_ns) == (before[1].st_ino, before[1].st_mtime_ns)


def test_replace_flag_accepts_duplicates(tmp_path: Path, bdb: None) -> None:
    src = tmp_path / "vt"
    src.write_bytes(b"a@x.test first\nA@x.test second\n")
    assert virtc("build", "--no-lint", src).returncode != 0
    proc = virtc("build", "--no-lint", "-r", src)
    assert proc.returncode == 0, proc.stderr
    assert virtc("dump", tmp_path / "vt.db").stdout == "a@x.test\tsecond\n"


# --- one-line errors, exit 2 ----------------------------------------------------------------

def test_missing_source(tmp_path: Path) -> None:
    assert_one_line_error(virtc("build", tmp_path / "nope"), "nope", "no such file")
    assert list(tmp_path.iterdir()) == []


def test_source_is_a_directory(tmp_path: Path) -> None:
    assert_one_line_error(virtc("build", tmp_path), str(tmp_path), "directory")


def test_output_directory_missing(source: Path, bdb: None) -> None:
    assert_one_line_error(virtc("build", source, "-o", source.parent / "no" / "such" / "x"),
                          "no such directory")


def test_output_is_a_directory(source: Path, tmp_path: Path, bdb: None) -> None:
    (tmp_path / "d.db").mkdir()
    assert_one_line_error(virtc("build", source, "-o", tmp_path / "d.db"), "not a regular file")


def test_dump_missing_map(tmp_path: Path, bdb: None) -> None:
    assert_one_line_error(virtc("dump", tmp_path / "nope"), "nope.db", "no such file")


def test_dump_not_a_map(tmp_path: Path, bdb: None) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a Berkeley DB file\n" * 100)
    assert_one_line_error(virtc("dump", junk), "junk.db")


# Runs virtc's main() as an unprivileged user: the interpreter lives under /root, so
# everything is imported first (as root), then the process drops to nobody.
AS_NOBODY = textwrap.dedent("""
    import importlib, os, pkgutil, sys
    import difflib, lark, berkeleydb.db, virtc, virtc.source.grammar
    for module in pkgutil.walk_packages(virtc.__path__, "virtc."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    virtc.source.grammar.parser(), virtc.source.grammar.terminal_regexps()
    os.setgid(65534); os.setuid(65534)
    sys.argv = ["virtc", *sys.argv[1:]]
    virtc.cli.main()
""")


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A directory nobody can enter (pytest's tmp_path sits in a 0700 directory)."""
    with tempfile.TemporaryDirectory(prefix="virtc-cli-") as tmp:
        path = Path(tmp)
        path.chmod(0o755)
        yield path


def _as_nobody(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", AS_NOBODY, *map(str, args)], capture_output=True,
                          text=True, timeout=60, check=False)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop privileges to nobody")
def test_unreadable_source(open_dir: Path, bdb: None) -> None:
    src = open_dir / "secret"
    src.write_bytes(SOURCE)
    src.chmod(0o600)
    out = open_dir / "out"
    out.mkdir(mode=0o777)
    out.chmod(0o777)
    assert_one_line_error(_as_nobody("build", src, "-o", out / "x"), "secret", "permission denied")
    assert list(out.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop privileges to nobody")
def test_unwritable_output_directory(open_dir: Path, bdb: None) -> None:
    src = open_dir / "vt"
    src.write_bytes(SOURCE)
    src.chmod(0o644)
    assert_one_line_error(_as_nobody("build", src), str(open_dir), "not writable")
    assert sorted(p.name for p in open_dir.iterdir()) == ["vt"]


def test_libdb_missing(tmp_path: Path, source: Path) -> None:
    """Without the berkeleydb package, build and dump fail with one line naming the fix."""
    shim = tmp_path / "shim"
    (shim / "berkeleydb").mkdir(parents=True)
    (shim / "berkeleydb" / "__init__.py").write_text("raise ImportError('libdb-5.3.so: not found')\n")
    env = {**os.environ, "PYTHONPATH": str(shim)}
    build = virtc("build", source, env=env)
    assert_one_line_error(build, "berkeleydb")
    assert not source.with_name("virtusertable.db").exists()
    assert_one_line_error(virtc("dump", source, env=env), "berkeleydb")


# --- the source is never overwritten ------------------------------------------------------

def test_source_named_like_its_map_is_not_overwritten(tmp_path: Path, bdb: None) -> None:
    """``virtc build table.db`` would have replaced the source text by the map (was: it did)."""
    src = tmp_path / "table.db"
    src.write_bytes(SOURCE)
    assert_one_line_error(virtc("build", "--no-lint", src), "table.db", "source itself")
    assert src.read_bytes() == SOURCE
    assert_one_line_error(virtc("build", "--no-lint", src, "-o", tmp_path / "table"), "source itself")
    assert src.read_bytes() == SOURCE


def test_stdin_source_needs_an_output(tmp_path: Path, bdb: None) -> None:
    """``virtc build -`` used to write a map named '-.db'."""
    proc = subprocess.run([str(VIRTC), "build", "--no-lint", "-"], input=SOURCE, cwd=tmp_path,
                          capture_output=True, timeout=60, check=False)
    assert proc.returncode == 2 and b"-o" in proc.stderr and len(proc.stderr.splitlines()) == 1, proc
    assert list(tmp_path.iterdir()) == []


def test_stdin_source_with_output_matches_makemap(tmp_path: Path, makemap: str, bdb: None) -> None:
    proc = subprocess.run([str(VIRTC), "build", "--no-lint", "-", "-o", str(tmp_path / "ours")],
                          input=SOURCE, capture_output=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    mm = run_makemap(SOURCE, tmp_path)
    assert makemap_dump(tmp_path / "ours.db", "hash", tmp_path) == makemap_dump(mm.map_file, "hash", tmp_path)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root gives a map away (make test runs as root)")
def test_a_new_map_built_by_root_goes_to_trusted_user_as_makemap_does(tmp_path: Path) -> None:
    """#17: virtc build as root left a new map to root; makemap gives it to TrustedUser."""
    import pwd

    nobody = pwd.getpwnam("nobody").pw_uid
    cf = tmp_path / "sendmail.cf"
    cf.write_text("V10/Berkeley\nO TrustedUser=nobody\n")
    src = tmp_path / "vt"
    src.write_bytes(SOURCE)
    done = virtc("build", "--sendmail-cf", cf, src, "-o", tmp_path / "virtc.db")
    assert done.returncode == 0, done.stderr
    real = run_makemap(SOURCE, tmp_path, flags=["-C", str(cf)])
    assert real.returncode == 0
    assert (tmp_path / "virtc.db").stat().st_uid == (tmp_path / "makemap-map.db").stat().st_uid == nobody
    # Replacing a map keeps its owner, whoever builds it.
    os.chown(tmp_path / "virtc.db", 0, 0)
    assert virtc("build", "--sendmail-cf", cf, src, "-o", tmp_path / "virtc.db").returncode == 0
    assert (tmp_path / "virtc.db").stat().st_uid == 0
