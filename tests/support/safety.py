"""Helpers shared by the tests/safety/test_safety_*.py suites (crash, concurrency, faults, input).

They run the real ``virtc`` CLI in subprocesses, generate large tables, read maps
back with the real ``makemap -u`` and check them with ``db_verify``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from support.oracles import require_tool

VIRTC = [sys.executable, "-m", "virtc"]
STOP_ENV = "VIRTC_TEST_STOP_AT"  # virtc.writers.atomic.CHECKPOINT_ENV (test-only hook)
EMPTY_CF_NAME = "empty.cf"


def table(n: int, tag: str) -> bytes:
    """A clean table of ``n`` addresses whose values carry ``tag`` (so two tables differ everywhere)."""
    lines = [f"user{i}@example.com\t{tag}{i}@mail.example.net\n" for i in range(n)]
    lines.append(f"@example.com\terror:nouser 550 No such user ({tag})\n")
    return "".join(lines).encode()


def records_of(source: bytes) -> frozenset[tuple[bytes, bytes]]:
    """The (key, value) pairs makemap stores for a clean ``table()`` source."""
    pairs = (line.split(b"\t", 1) for line in source.splitlines())
    return frozenset((k.lower(), v) for k, v in pairs)


def virtc(*args: str | Path, env: dict[str, str] | None = None, stdin: bytes | None = None,
          timeout: float = 300, **kw: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*VIRTC, *map(str, args)], input=stdin, capture_output=True,
                          timeout=timeout, env=env, **kw)  # type: ignore[call-overload, no-any-return]


def spawn_build(source: Path, output: Path, stop_at: str | None = None,
                extra: Sequence[str] = ("--no-lint", "-q")) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.pop(STOP_ENV, None)
    if stop_at:
        env[STOP_ENV] = stop_at
    return subprocess.Popen([*VIRTC, "build", *extra, str(source), "-o", str(output)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def proc_state(pid: int) -> str:
    """The one-letter state in /proc (T = stopped, S = sleeping, Z = exited)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "?"
    return stat.rsplit(")", 1)[1].split()[0]


def wait_stopped(proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    """Wait until a build stopped itself at its checkpoint; fail if it ended instead."""
    deadline = time.monotonic() + timeout
    while proc_state(proc.pid) != "T":
        if proc.poll() is not None:
            _, err = proc.communicate()
            pytest.fail(f"build ended (rc {proc.returncode}) before its checkpoint: {err.decode()!r}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("build never reached its checkpoint")
        time.sleep(0.01)


def kill(proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> int:
    proc.send_signal(sig)
    if sig != signal.SIGKILL:
        proc.send_signal(signal.SIGCONT)
    proc.communicate(timeout=120)
    return proc.returncode


def temps(target: Path) -> list[Path]:
    """virtc's temporary files for ``target`` (``.NAME.virtc-tmp-XXXXXXXXXXXX``), and Berkeley DB's
    own name for one it is still creating (``__db.`` before it)."""
    return sorted([*target.parent.glob(f".{target.name}.virtc-tmp-*"),
                   *target.parent.glob(f"__db..{target.name}.virtc-tmp-*")])


def empty_cf(directory: Path) -> Path:
    """An empty sendmail.cf: makemap run as root reads it (TrustedUser) instead of the host's."""
    cf = directory / EMPTY_CF_NAME
    cf.touch()
    return cf


def makemap_dump(map_path: Path, cf: Path) -> frozenset[tuple[bytes, bytes]]:
    """Every record of the map as the real ``makemap -u hash`` prints it."""
    makemap = require_tool("makemap")
    run = subprocess.run([makemap, "-C", str(cf), "-u", "hash", str(map_path)],
                         capture_output=True, timeout=120)
    assert run.returncode == 0, run.stderr
    pairs = [line.split(b"\t", 1) for line in run.stdout.splitlines()]
    return frozenset((p[0], p[1] if len(p) > 1 else b"") for p in pairs)


def python_dump(map_path: Path) -> frozenset[tuple[bytes, bytes]]:
    """Every record, read with the berkeleydb package (no lock, as a careless reader would)."""
    from berkeleydb import db

    d = db.DB()
    try:
        d.open(str(map_path), dbtype=db.DB_HASH, flags=db.DB_RDONLY)
        return frozenset(d.items())
    finally:
        d.close()


def db_verify_ok(map_path: Path) -> None:
    run = subprocess.run([require_tool("db_verify"), "-q", str(map_path)], capture_output=True, timeout=120)
    assert run.returncode == 0, f"db_verify {map_path}: {run.stderr.decode()}"


def digest(records: frozenset[tuple[bytes, bytes]]) -> str:
    h = hashlib.sha256()
    for k, v in sorted(records):
        h.update(k + b"\0" + v + b"\n")
    return h.hexdigest()


def one_line_error(stderr: bytes) -> str:
    """The single ``virtc: ...`` line a failed command prints; fails on tracebacks or chatter."""
    text = stderr.decode("utf-8", "replace")
    assert "Traceback" not in text, text
    lines = [line for line in text.splitlines() if "warning:" not in line]
    assert len(lines) == 1, f"expected one error line, got: {text!r}"
    assert lines[0].startswith("virtc: "), lines[0]
    return lines[0]


def require_root_mount(directory: Path, options: str) -> None:
    """Mount a tmpfs at ``directory``; skip locally (fail in CI) when mounting is impossible."""
    directory.mkdir(parents=True, exist_ok=True)
    run = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(directory)],
                         capture_output=True, timeout=30)
    if run.returncode != 0:
        msg = f"cannot mount a tmpfs (needs root): {run.stderr.decode().strip()}"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the disk-fault tests: {msg}")
        pytest.skip(msg)


def unmount(directory: Path) -> None:
    subprocess.run(["umount", "-l", str(directory)], capture_output=True, timeout=30)


NOBODY = 65534
_AS_NOBODY = """
import os, sys, tempfile
from virtc.cli import main

ARGV = sys.argv[1:]

def run(argv):
    sys.argv = ["virtc", *argv]
    try:
        main()
    except SystemExit as exc:
        return exc.code

# Warm-up as root, output discarded: loads every module the command needs lazily
# while the interpreter's files (under /root, mode 0700) are still readable.
with tempfile.TemporaryDirectory() as d:
    with open(os.path.join(d, "src"), "wb") as f:
        f.write(b"a@example.com b\\n@example.com error:nouser no\\n")
    saved = os.dup(1), os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1); os.dup2(null, 2)
    for command in (["build", "--no-lint", "-o", os.path.join(d, "m")], ["build", "-o", os.path.join(d, "n")],
                    ["lint"], ["query", "a@example.com", "--table"], ["dump"]):
        target = os.path.join(d, "m.db") if command == ["dump"] else os.path.join(d, "src")
        run([*command, target])
    sys.stdout.flush(); sys.stderr.flush()
    os.dup2(saved[0], 1); os.dup2(saved[1], 2)
os.setgroups([])
os.setgid(%(id)d)
os.setuid(%(id)d)
sys.exit(run(ARGV))
"""


def virtc_as_nobody(*args: str | Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run virtc with root's privileges dropped (uid/gid 65534) after it loaded its code.

    Root ignores file modes; dropping to nobody in the child is how "permission
    denied" is reached. (The interpreter lives under /root, mode 0700, so a plain
    ``subprocess.run(user=65534)`` could not even start it.)
    """
    if os.geteuid() != 0:
        pytest.skip("needs root to drop privileges to nobody")
    return subprocess.run([sys.executable, "-c", _AS_NOBODY % {"id": NOBODY}, *map(str, args)],
                          input=stdin, capture_output=True, timeout=120)


@contextlib.contextmanager
def public_dir() -> Iterator[Path]:
    """A directory nobody can reach (pytest's tmp_path sits below a 0700 directory)."""
    d = Path(tempfile.mkdtemp(prefix="virtc-safety-", dir="/tmp"))
    d.chmod(0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)
