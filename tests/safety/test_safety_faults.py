"""Disk and permission faults: a clear one-line error, a non-zero exit, the old map intact.

Full disk and read-only file systems use a real tmpfs mounted by the test (root
only: skipped locally when mounting is impossible, a failure under CI). A
simulated ENOSPC covers the same path without root. Ownership and mode of an
existing map survive a rebuild; links at the target are refused; an unsafe
directory draws makemap's own warning, checked against the real makemap.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.oracles import require_tool
from support.safety import (
    NOBODY,
    db_verify_ok,
    empty_cf,
    makemap_dump,
    one_line_error,
    public_dir,
    python_dump,
    records_of,
    require_root_mount,
    table,
    temps,
    unmount,
    virtc,
    virtc_as_nobody,
)

from virtc.errors import VirtcError
from virtc.writers import atomic, bdb


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs holding a small existing map ``old.db`` built from ``old``."""
    mnt = tmp_path / "mnt"
    require_root_mount(mnt, "size=1m,mode=0755")
    try:
        (tmp_path / "old").write_bytes(table(50, "old"))
        run = virtc("build", "--no-lint", "-q", tmp_path / "old", "-o", mnt / "old.db")
        assert run.returncode == 0, run.stderr
        yield mnt
    finally:
        unmount(mnt)


def assert_old_map(target: Path, cf: Path, source: Path) -> None:
    db_verify_ok(target)
    assert makemap_dump(target, cf) == records_of(source.read_bytes())


@pytest.mark.oracle
def test_full_disk(tmpfs: Path, tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.write_bytes(table(30_000, "new"))  # about 1.5 MiB of map: does not fit in 1 MiB
    before = os.statvfs(tmpfs).f_bfree
    run = virtc("build", "--no-lint", big, "-o", tmpfs / "old.db")
    assert run.returncode == 2
    line = one_line_error(run.stderr)
    assert re.fullmatch(r"virtc: .*old\.db: .*[Nn]o space left on device.*; the old map is unchanged",
                        line), line
    assert_old_map(tmpfs / "old.db", empty_cf(tmp_path), tmp_path / "old")
    assert temps(tmpfs / "old.db") == []
    assert os.statvfs(tmpfs).f_bfree == before, "the partial temporary map must be freed"


@pytest.mark.oracle
def test_read_only_file_system(tmpfs: Path, tmp_path: Path) -> None:
    run = subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], capture_output=True)
    assert run.returncode == 0, run.stderr
    (tmp_path / "new").write_bytes(table(10, "new"))
    run = virtc("build", "--no-lint", tmp_path / "new", "-o", tmpfs / "old.db")
    assert run.returncode == 2
    line = one_line_error(run.stderr)
    assert "read-only file system" in line and "old map is unchanged" in line, line
    assert_old_map(tmpfs / "old.db", empty_cf(tmp_path), tmp_path / "old")


def _chattr(flag: str, path: Path) -> None:
    run = subprocess.run(["chattr", flag, str(path)], capture_output=True)
    if run.returncode != 0:
        msg = f"chattr {flag} unsupported here: {run.stderr.decode().strip()}"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


@pytest.mark.oracle
@pytest.mark.parametrize("what", ["directory", "map"])
def test_immutable_directory_or_map(tmpfs: Path, tmp_path: Path, what: str) -> None:
    """Root ignores mode bits, so "unwritable" is the immutable attribute (tmpfs supports it)."""
    target = tmpfs / "old.db"
    victim = tmpfs if what == "directory" else target
    _chattr("+i", victim)
    try:
        (tmp_path / "new").write_bytes(table(10, "new"))
        run = virtc("build", "--no-lint", tmp_path / "new", "-o", target)
    finally:
        _chattr("-i", victim)
    assert run.returncode == 2
    line = one_line_error(run.stderr)
    assert "old map is unchanged" in line and ("not writable" in line or "not permitted" in line), line
    assert_old_map(target, empty_cf(tmp_path), tmp_path / "old")
    assert temps(target) == []


def test_unprivileged_user_cannot_take_over_a_root_map() -> None:
    """As nobody, in a directory nobody may write, a root-owned map cannot keep its owner: refused."""
    with public_dir() as d:
        _cannot_take_over(d)


def _cannot_take_over(public_tmp: Path) -> None:
    d = public_tmp / "maps"
    d.mkdir()
    src = public_tmp / "src"
    src.write_bytes(table(10, "new"))
    src.chmod(0o644)
    assert virtc("build", "--no-lint", "-q", src, "-o", d / "m.db").returncode == 0
    os.chown(d, NOBODY, NOBODY)
    before = (d / "m.db").read_bytes()
    run = virtc_as_nobody("build", "--no-lint", src, "-o", d / "m.db")
    assert run.returncode == 2
    line = one_line_error(run.stderr)
    assert "cannot give the new map the old owner (uid 0, gid 0)" in line, line
    assert (d / "m.db").read_bytes() == before
    assert temps(d / "m.db") == []


def test_unprivileged_user_and_unwritable_directory() -> None:
    with public_dir() as d:
        _unwritable_directory(d)


def _unwritable_directory(public_tmp: Path) -> None:
    src = public_tmp / "src"
    src.write_bytes(table(10, "new"))
    src.chmod(0o644)
    target = public_tmp / "m.db"
    assert virtc("build", "--no-lint", "-q", src, "-o", target).returncode == 0
    before = target.read_bytes()
    run = virtc_as_nobody("build", "--no-lint", src, "-o", target)
    assert run.returncode == 2
    line = one_line_error(run.stderr)
    assert line == f"virtc: {public_tmp}: directory is not writable; the old map is unchanged", line
    assert target.read_bytes() == before
    # A new map: there is no old map to speak of (#17).
    run = virtc_as_nobody("build", "--no-lint", src, "-o", public_tmp / "new.db")
    assert run.returncode == 2
    line = one_line_error(run.stderr)
    assert line == f"virtc: {public_tmp}: directory is not writable; nothing was written", line
    assert not (public_tmp / "new.db").exists()


def test_simulated_enospc_in_write(tmp_path: Path) -> None:
    target = tmp_path / "m.db"
    target.write_bytes(b"old map")

    def write(tmp: Path, mode: int) -> int:
        tmp.write_bytes(b"partial")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(VirtcError, match=r"m\.db: no space left on device; the old map is unchanged"):
        atomic.replace_atomically(target, write)
    assert target.read_bytes() == b"old map"
    assert temps(target) == []


def test_simulated_enospc_in_fsync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "m.db"
    target.write_bytes(b"old map")

    def fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic.os, "fsync", fsync)
    with pytest.raises(VirtcError, match="no space left on device; the old map is unchanged"):
        atomic.replace_atomically(
            target, lambda tmp, mode: bdb.write_new_map(tmp, [(b"k", b"v")], "hash", mode))
    assert target.read_bytes() == b"old map"
    assert temps(target) == []


def test_verify_mismatch_keeps_old_map(tmp_path: Path) -> None:
    target = tmp_path / "m.db"
    target.write_bytes(b"old map")
    with pytest.raises(VirtcError, match="wrote 1 record but read back 2; the old map is unchanged"):
        atomic.replace_atomically(target, lambda tmp, mode: (tmp.write_bytes(b"x"), 1)[1], lambda tmp: 2)
    assert target.read_bytes() == b"old map"
    assert temps(target) == []


@pytest.mark.oracle
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o000])
def test_new_map_is_0640(tmp_path: Path, umask: int) -> None:
    src = tmp_path / "src"
    src.write_bytes(table(5, "x"))
    run = virtc("build", "--no-lint", "-q", src, "-o", tmp_path / "m.db",
                preexec_fn=lambda: os.umask(umask))
    assert run.returncode == 0, run.stderr
    assert stat.S_IMODE((tmp_path / "m.db").stat().st_mode) == 0o640
    db_verify_ok(tmp_path / "m.db")


@pytest.mark.oracle
@pytest.mark.parametrize(("uid", "gid", "mode"), [(8, 8, 0o644), (0, 8, 0o640), (65534, 0, 0o600)])
def test_rebuild_keeps_owner_and_mode(tmp_path: Path, uid: int, gid: int, mode: int) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to chown the old map")
    src = tmp_path / "src"
    src.write_bytes(table(5, "old"))
    target = tmp_path / "m.db"
    assert virtc("build", "--no-lint", "-q", src, "-o", target).returncode == 0
    os.chown(target, uid, gid)
    target.chmod(mode)
    inode = target.stat().st_ino
    src.write_bytes(table(7, "new"))
    run = virtc("build", "--no-lint", "-q", src, "-o", target)
    assert run.returncode == 0, run.stderr
    st = target.stat()
    assert st.st_ino != inode, "the map must have been replaced, not rewritten"
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (uid, gid, mode)
    assert python_dump(target) == records_of(src.read_bytes())


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_links_at_the_target_are_refused(tmp_path: Path, link: str) -> None:
    src = tmp_path / "src"
    src.write_bytes(table(3, "new"))
    real = tmp_path / "real.db"
    real.write_bytes(b"not touched")
    target = tmp_path / "m.db"
    if link == "symlink":
        target.symlink_to(real)
    else:
        os.link(real, target)
    run = virtc("build", "--no-lint", src, "-o", target)
    assert run.returncode == 2
    line = one_line_error(run.stderr)
    assert ("symbolic link" if link == "symlink" else "2 hard links") in line, line
    assert real.read_bytes() == b"not touched"
    assert (target.is_symlink() if link == "symlink" else target.stat().st_nlink == 2)
    assert temps(target) == []


def test_a_directory_at_the_target_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.write_bytes(table(3, "new"))
    (tmp_path / "m.db").mkdir()
    run = virtc("build", "--no-lint", src, "-o", tmp_path / "m.db")
    assert run.returncode == 2
    assert "not a regular file" in one_line_error(run.stderr)


def test_missing_output_directory(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.write_bytes(table(3, "new"))
    run = virtc("build", "--no-lint", src, "-o", tmp_path / "nope" / "m.db")
    assert run.returncode == 2
    assert "nope: no such directory" in one_line_error(run.stderr)


def test_stale_temp_cleanup_removes_only_ours(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.write_bytes(table(3, "new"))
    target = tmp_path / "m.db"
    ours = tmp_path / ".m.db.virtc-tmp-0123456789ab"
    keep = [
        tmp_path / ".other.db.virtc-tmp-0123456789ab",  # another map's build
        tmp_path / ".m.db.virtc-tmp-notours",  # not our naming pattern
        tmp_path / ".m.db.virtc-tmp-0123456789ab.bak",
        tmp_path / "m.db.virtc-tmp-0123456789ab",
    ]
    for p in [ours, *keep]:
        p.write_bytes(b"x")
    planted = tmp_path / ".m.db.virtc-tmp-ba9876543210"
    planted.symlink_to(src)  # a link with our name: removed neither it nor what it points to
    run = virtc("build", "--no-lint", "-q", src, "-o", target)
    assert run.returncode == 0, run.stderr
    assert not ours.exists()
    assert all(p.exists() for p in keep)
    assert planted.is_symlink() and src.exists()


def _warned_dirs(stderr: bytes, pattern: str) -> list[tuple[str, str]]:
    return re.findall(pattern, stderr.decode())


@pytest.mark.oracle
def test_unsafe_directory_warning_matches_makemap(tmp_path: Path) -> None:
    """The same directories as the real makemap's WARNING lines; the build still succeeds."""
    makemap = require_tool("makemap")
    ww = tmp_path / "ww"
    gw = ww / "gw"
    gw.mkdir(parents=True)
    ww.chmod(0o777)
    gw.chmod(0o775)
    src = tmp_path / "src"
    src.write_bytes(table(3, "x"))
    run = virtc("build", "--no-lint", src, "-o", gw / "m.db")
    assert run.returncode == 0, run.stderr
    ours = _warned_dirs(run.stderr, r"warning: \S+: (World|Group) writable directory (\S+): sendmail refuses")
    mm = subprocess.run([makemap, "-C", str(empty_cf(tmp_path)), "hash", str(gw / "mm")],
                        input=src.read_bytes(), capture_output=True)
    assert mm.returncode == 0
    theirs = list(dict.fromkeys(_warned_dirs(mm.stderr, r"WARNING: (World|Group) writable directory (\S+)")))
    assert ours == theirs
    assert ("World", str(ww)) in ours and ("Group", str(gw)) in ours


def test_safe_directory_draws_no_warning_for_itself(tmp_path: Path) -> None:
    d = tmp_path / "safe"
    d.mkdir(mode=0o755)
    d.chmod(0o755)
    src = tmp_path / "src"
    src.write_bytes(table(3, "x"))
    run = virtc("build", "--no-lint", src, "-o", d / "m.db")
    assert run.returncode == 0
    assert str(d) + ":" not in run.stderr.decode().replace(f"{d}/m.db:", "")


def test_no_write_when_the_source_is_rejected(tmp_path: Path) -> None:
    target = tmp_path / "m.db"
    src = tmp_path / "src"
    src.write_bytes(table(3, "old"))
    assert virtc("build", "--no-lint", "-q", src, "-o", target).returncode == 0
    before = target.read_bytes()
    src.write_bytes(b"good@example.com x\n  leading@space y\n")
    run = virtc("build", "--no-lint", src, "-o", target)
    assert run.returncode == 1
    assert target.read_bytes() == before
    assert temps(target) == []
    shutil.rmtree(tmp_path / "nothing", ignore_errors=True)


@pytest.mark.oracle
def test_sendmail_really_ignores_a_map_in_an_unsafe_directory(tmp_path: Path) -> None:
    """Why the warning matters: the real sendmail stops using the map (checked with -bt)."""
    from support.sendmail import SendmailOracle

    src = tmp_path / "vt"
    src.write_bytes(b"alice@example.com\tbob\n@example.com\terror:5.1.1:550 No such user\n")
    assert virtc("build", "-q", src, "-o", tmp_path / "vt.db").returncode == 0
    with SendmailOracle(tmp_path / "vt.db") as oracle:
        seen = {}
        for mode in (0o755, 0o777, 0o775):
            oracle.dir.chmod(mode)
            seen[mode] = oracle.resolve(["alice@example.com"])[0].matched
        oracle.dir.chmod(0o755)
    assert seen == {0o755: ("alice@example.com",), 0o777: (), 0o775: ()}
