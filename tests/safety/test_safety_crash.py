"""Crash safety: a build killed at any point leaves the old map intact, and leaves no litter.

A build runs over an existing map and is killed:
  * with SIGKILL at each named checkpoint of the atomic writer (the test-only
    ``VIRTC_TEST_STOP_AT`` hook makes the build SIGSTOP itself there);
  * with SIGKILL at random delays into the write phase of a 200k-entry build
    (the test proves that some kills landed while the temporary map existed);
  * with SIGTERM/SIGINT at the checkpoints: the build cleans up and exits non-zero.
After each kill the map is read back with the real ``makemap -u`` and checked
with ``db_verify``; the next successful build removes what SIGKILL left behind.
"""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from support.safety import (
    db_verify_ok,
    digest,
    empty_cf,
    kill,
    makemap_dump,
    records_of,
    spawn_build,
    table,
    temps,
    virtc,
    wait_stopped,
)

ENTRIES = 200_000
SMALL = 5_000
BEFORE_RENAME = ("locked", "written", "verified")


def _scene(d: Path, entries: int) -> dict[str, object]:
    """An existing map built from OLD, a NEW source, and their record sets."""
    old_src, new_src = d / "old", d / "new"
    old_src.write_bytes(table(entries, "old"))
    new_src.write_bytes(table(entries, "new"))
    run = virtc("build", "--no-lint", "-q", old_src, "-o", d / "pristine.db")
    assert run.returncode == 0, run.stderr
    return {"dir": d, "old_src": old_src, "new_src": new_src, "cf": empty_cf(d),
            "old": digest(records_of(old_src.read_bytes())),
            "new": digest(records_of(new_src.read_bytes()))}


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """For kills at named checkpoints, where the size of the table does not matter."""
    return _scene(tmp_path_factory.mktemp("crash"), SMALL)


@pytest.fixture(scope="module")
def big_scene(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """For kills at random delays: the write must last long enough to be hit."""
    return _scene(tmp_path_factory.mktemp("crash-big"), ENTRIES)


def fresh_map(scene: dict[str, object], name: str) -> Path:
    d = scene["dir"]
    assert isinstance(d, Path)
    target = d / f"{name}.db"
    shutil.copyfile(d / "pristine.db", target)
    return target


def map_is(scene: dict[str, object], target: Path) -> str:
    """'old' or 'new' if the map holds exactly one complete record set; fails otherwise."""
    db_verify_ok(target)
    got = digest(makemap_dump(target, scene["cf"]))  # type: ignore[arg-type]
    for which in ("old", "new"):
        if got == scene[which]:
            return which
    pytest.fail(f"{target} holds neither the old nor the new record set")


@pytest.mark.oracle
@pytest.mark.parametrize("point", BEFORE_RENAME)
def test_sigkill_before_rename_keeps_old_map(scene: dict[str, object], point: str) -> None:
    target = fresh_map(scene, f"kill-{point}")
    inode = target.stat().st_ino
    proc = spawn_build(scene["new_src"], target, stop_at=point)  # type: ignore[arg-type]
    wait_stopped(proc)
    if point != "locked":
        assert temps(target), "the temporary map should exist at this point"
    kill(proc)
    assert map_is(scene, target) == "old"
    assert target.stat().st_ino == inode
    # The next successful build removes the killed build's temporary file.
    run = virtc("build", "--no-lint", "-q", scene["new_src"], "-o", target)
    assert run.returncode == 0, run.stderr
    assert temps(target) == []
    assert map_is(scene, target) == "new"


@pytest.mark.oracle
def test_sigkill_after_rename_gives_the_complete_new_map(scene: dict[str, object]) -> None:
    target = fresh_map(scene, "kill-renamed")
    proc = spawn_build(scene["new_src"], target, stop_at="renamed")  # type: ignore[arg-type]
    wait_stopped(proc)
    kill(proc)
    assert map_is(scene, target) == "new"
    assert temps(target) == []


def _resumed_at_lock(scene: dict[str, object], target: Path,
                     extra: tuple[str, ...] = ("--no-lint", "-q")) -> subprocess.Popen[bytes]:
    """A build that parsed its source, took the lock, and now writes (the window that matters)."""
    proc = spawn_build(scene["new_src"], target, stop_at="locked", extra=extra)  # type: ignore[arg-type]
    wait_stopped(proc)
    proc.send_signal(signal.SIGCONT)
    return proc


def _random_kills(scene: dict[str, object], kills: int, seed: int,
                  extra: tuple[str, ...] = ("--no-lint", "-q")) -> None:
    target = fresh_map(scene, f"random-{seed}-{len(extra)}")
    # How long the write phase (lock to exit) takes on this machine, right now.
    start = time.monotonic()
    proc = _resumed_at_lock(scene, target, extra)
    proc.communicate(timeout=120)
    window = time.monotonic() - start
    assert proc.returncode == 0
    shutil.copyfile(target.with_name("pristine.db"), target)
    rng = random.Random(seed)
    mid_write = 0
    for _ in range(kills):
        proc = _resumed_at_lock(scene, target, extra)
        time.sleep(rng.uniform(0.0, 1.1) * window)
        if proc.poll() is None:
            mid_write += bool(temps(target))
            kill(proc)
        assert map_is(scene, target) in ("old", "new")
    # Proof that the kills hit the dangerous window, not only the end.
    assert mid_write > 0, "no kill landed while the temporary map was being written"
    run = virtc("build", "--no-lint", "-q", scene["new_src"], "-o", target)
    assert run.returncode == 0, run.stderr
    assert temps(target) == []
    assert map_is(scene, target) == "new"


@pytest.mark.oracle
def test_sigkill_at_random_delays(big_scene: dict[str, object]) -> None:
    _random_kills(big_scene, kills=4, seed=7)


@pytest.mark.oracle
def test_sigkill_at_random_delays_while_linting(big_scene: dict[str, object]) -> None:
    """With lint, a large table's map is written by a helper process while the build lints:
    killing the build leaves the old map, and the helper (which still holds the lock) never
    lets another build see a half-written temporary file."""
    _random_kills(big_scene, kills=4, seed=11, extra=("-q", "-j", "2"))


@pytest.mark.slow
@pytest.mark.oracle
def test_sigkill_at_many_random_delays(big_scene: dict[str, object]) -> None:
    _random_kills(big_scene, kills=60, seed=int(time.time()))


@pytest.mark.oracle
@pytest.mark.parametrize(("sig", "point"), [
    (signal.SIGTERM, "written"), (signal.SIGTERM, "verified"),
    (signal.SIGINT, "written"), (signal.SIGHUP, "verified"),
])
def test_sigterm_cleans_up_and_keeps_old_map(scene: dict[str, object], sig: int, point: str) -> None:
    target = fresh_map(scene, f"term-{point}-{sig}")
    proc = spawn_build(scene["new_src"], target, stop_at=point)  # type: ignore[arg-type]
    wait_stopped(proc)
    assert temps(target)
    rc = kill(proc, sig)
    assert rc != 0
    assert proc.stderr is not None
    assert temps(target) == [], "the interrupted build must remove its temporary file"
    assert map_is(scene, target) == "old"


def _sigterm_at(scene: dict[str, object], target: Path, point: str) -> tuple[int, bytes]:
    """A build stopped at ``point``, sent SIGTERM and let go: its exit status and stderr."""
    proc = spawn_build(scene["new_src"], target, stop_at=point)  # type: ignore[arg-type]
    wait_stopped(proc)
    proc.send_signal(signal.SIGTERM)
    proc.send_signal(signal.SIGCONT)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


@pytest.mark.oracle
def test_sigterm_during_the_commit_is_reported_after_it(scene: dict[str, object]) -> None:
    """A signal that arrives between rename and fsync is held back: the map is complete and new."""
    target = fresh_map(scene, "term-renamed")
    returncode, err = _sigterm_at(scene, target, "renamed")
    assert returncode == 130
    assert b"interrupted just after the new map was put in place" in err
    assert b"Traceback" not in err
    assert map_is(scene, target) == "new"
    assert temps(target) == []


@pytest.mark.oracle
def test_sigterm_message_is_one_line(scene: dict[str, object]) -> None:
    returncode, err = _sigterm_at(scene, fresh_map(scene, "term-message"), "written")
    assert returncode == 128 + signal.SIGTERM
    assert err.decode().splitlines() == ["virtc: interrupted by SIGTERM; nothing was changed"]
