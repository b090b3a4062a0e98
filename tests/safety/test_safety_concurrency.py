"""Concurrency: builds of one map serialise, and readers never see a partial map.

* Two builds at once: the second waits on the directory lock while the first
  holds it (seen in /proc as a process asleep in the kernel's lock wait), and
  the map ends as one of the two complete record sets.
* Readers in a loop during rebuilds, the real ``makemap -u hash MAP`` and an
  unlocked Python berkeleydb reader: every read is one complete record set.
* The real makemap rewriting the same map in place while virtc rebuilds it:
  the map ends complete (one of the two) and passes db_verify.
"""

from __future__ import annotations

import fcntl
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from support.oracles import require_tool
from support.safety import (
    db_verify_ok,
    digest,
    empty_cf,
    makemap_dump,
    proc_state,
    python_dump,
    records_of,
    spawn_build,
    table,
    temps,
    virtc,
    wait_stopped,
)

ENTRIES = 20_000


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("concurrency")
    paths = {}
    for tag in ("a", "b"):
        paths[tag] = d / tag
        paths[tag].write_bytes(table(ENTRIES, tag))
    return paths


def _sets(sources: dict[str, Path]) -> dict[str, str]:
    return {digest(records_of(p.read_bytes())): tag for tag, p in sources.items()}


def _wchan(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return ""


@pytest.mark.oracle
def test_second_build_waits_for_the_first(sources: dict[str, Path], tmp_path: Path) -> None:
    target = tmp_path / "m.db"
    first = spawn_build(sources["a"], target, stop_at="locked")
    wait_stopped(first)
    second = spawn_build(sources["b"], target)
    deadline = time.monotonic() + 60
    while "lock" not in _wchan(second.pid):  # asleep in flock (locks_lock_inode_wait)
        assert second.poll() is None, "the second build ran while the first held the lock"
        assert time.monotonic() < deadline, f"second build never waited on the lock: {_wchan(second.pid)!r}"
        time.sleep(0.02)
    assert not target.exists() and temps(target) == []
    first.send_signal(signal.SIGCONT)
    assert first.wait(60) == 0
    assert second.wait(60) == 0
    db_verify_ok(target)
    assert _sets(sources)[digest(makemap_dump(target, empty_cf(tmp_path)))] == "b"
    assert temps(target) == []


@pytest.mark.oracle
def test_simultaneous_builds_end_with_one_complete_map(sources: dict[str, Path], tmp_path: Path) -> None:
    target = tmp_path / "m.db"
    sets = _sets(sources)
    for _ in range(3):
        procs = [spawn_build(sources[t], target) for t in ("a", "b")]
        assert [p.wait(120) for p in procs] == [0, 0]
        db_verify_ok(target)
        assert digest(python_dump(target)) in sets
        assert temps(target) == []


def _rebuild_loop(sources: dict[str, Path], target: Path, rounds: int, errors: list[str]) -> None:
    for i in range(rounds):
        run = virtc("build", "--no-lint", "-q", sources["ab"[i % 2]], "-o", target)
        if run.returncode != 0:
            errors.append(run.stderr.decode())


@pytest.mark.oracle
def test_readers_never_see_a_partial_map(sources: dict[str, Path], tmp_path: Path) -> None:
    target = tmp_path / "m.db"
    cf = empty_cf(tmp_path)
    assert virtc("build", "--no-lint", "-q", sources["b"], "-o", target).returncode == 0
    sets = _sets(sources)
    errors: list[str] = []
    writer = threading.Thread(target=_rebuild_loop, args=(sources, target, 8, errors))
    writer.start()
    seen: dict[str, list[str]] = {"makemap": [], "python": []}
    readers = {"makemap": lambda: makemap_dump(target, cf), "python": lambda: python_dump(target)}
    while writer.is_alive():
        for name, read in readers.items():
            got = digest(read())
            assert got in sets, f"{name} reader saw a map that is neither complete record set"
            seen[name].append(sets[got])
    writer.join()
    assert errors == []
    for name, tags in seen.items():
        assert len(tags) >= 3, f"{name} reader read only {len(tags)} times"
    # The readers really did read across rebuilds (both record sets were seen).
    assert set(seen["makemap"]) | set(seen["python"]) == {"a", "b"}


@pytest.mark.oracle
def test_makemap_and_virtc_on_the_same_map(sources: dict[str, Path], tmp_path: Path) -> None:
    makemap = require_tool("makemap")
    target = tmp_path / "m.db"
    cf = empty_cf(tmp_path)
    shutil.copyfile(sources["a"], tmp_path / "a")
    sets = _sets(sources)
    for _ in range(3):
        with (tmp_path / "a").open("rb") as stdin:
            mm = subprocess.Popen([makemap, "-C", str(cf), "hash", str(target)], stdin=stdin,
                                  stderr=subprocess.PIPE)
            vb = spawn_build(sources["b"], target)
            assert vb.wait(120) == 0
            mm.wait(120)
        assert mm.returncode == 0, mm.stderr.read() if mm.stderr else ""
        db_verify_ok(target)
        assert digest(makemap_dump(target, cf)) in sets


@pytest.mark.oracle
def test_control_makemap_in_place_rewrite_is_seen_half_written(sources: dict[str, Path],
                                                              tmp_path: Path) -> None:
    """The same unlocked reader DOES see partial maps while the real makemap rewrites in place.

    This is the hazard virtc removes, and the proof that the reader check above can fail.
    """
    makemap = require_tool("makemap")
    cf = empty_cf(tmp_path)
    target = tmp_path / "m.db"
    data = [p.read_bytes() for p in (sources["a"], sources["b"])]
    subprocess.run([makemap, "-C", str(cf), "hash", str(tmp_path / "m")], input=data[0],
                   capture_output=True, check=True)
    sets = _sets(sources)
    stop = threading.Event()

    def rewrite() -> None:
        i = 0
        while not stop.is_set():
            subprocess.run([makemap, "-C", str(cf), "hash", str(tmp_path / "m")], input=data[i % 2],
                           capture_output=True)
            i += 1

    writer = threading.Thread(target=rewrite)
    writer.start()
    partial = 0
    deadline = time.monotonic() + 10
    try:
        while partial == 0 and time.monotonic() < deadline:
            try:
                partial += digest(python_dump(target)) not in sets
            except Exception:  # a half-written file may not even open
                partial += 1
    finally:
        stop.set()
        writer.join()
    assert partial > 0, "makemap's in-place rewrite was never caught half-way"


@pytest.mark.parametrize("how", [fcntl.LOCK_EX, fcntl.LOCK_SH], ids=["makemap-writing", "sendmail-lookup"])
def test_rename_waits_for_a_lock_on_the_old_map(sources: dict[str, Path], tmp_path: Path, how: int) -> None:
    """makemap holds LOCK_EX on the .db while rewriting it, sendmail LOCK_SH around a lookup."""
    target = tmp_path / "m.db"
    assert virtc("build", "--no-lint", "-q", sources["a"], "-o", target).returncode == 0
    inode = target.stat().st_ino
    with target.open("rb") as held:
        fcntl.flock(held, how)
        proc = spawn_build(sources["b"], target)
        deadline = time.monotonic() + 60
        while proc_state(proc.pid) != "T" and not temps(target):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(2)  # far longer than the rest of a 20k-entry build takes
        assert proc.poll() is None, "the build renamed over a locked map"
        assert target.stat().st_ino == inode
    assert proc.wait(60) == 0
    assert target.stat().st_ino != inode
    assert _sets(sources)[digest(python_dump(target))] == "b"


def test_a_map_locked_too_long_is_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from virtc.errors import VirtcError
    from virtc.writers import atomic, bdb

    target = tmp_path / "m.db"
    target.write_bytes(b"old map")
    monkeypatch.setattr(atomic, "MAP_LOCK_TIMEOUT", 0.3)
    with target.open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        expected = r"m\.db: still locked by another process \(makemap\?\) .*; the old map is unchanged"
        with pytest.raises(VirtcError, match=expected):
            atomic.replace_atomically(
                target, lambda tmp, mode: bdb.write_new_map(tmp, [(b"k", b"v")], "hash", mode))
    assert target.read_bytes() == b"old map"
    assert temps(target) == []
