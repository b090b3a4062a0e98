"""Input from odd places: missing file, directory, stdin (``-`` and /dev/stdin), empty, unreadable.

Each is one clear ``virtc: PATH: reason`` line with exit 2, or, for an empty file,
what makemap does with one (an empty map; lint has nothing to say). An unreadable
file needs a non-root reader: the command runs with privileges dropped to nobody
after loading its code (see support.safety.virtc_as_nobody).
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from support.safety import (
    empty_cf,
    makemap_dump,
    one_line_error,
    public_dir,
    python_dump,
    records_of,
    table,
    temps,
    virtc,
    virtc_as_nobody,
)

# (command, extra arguments placed after the source); query reads the source as its table.
COMMANDS = {
    "build": lambda src, tmp: ["build", "--no-lint", src, "-o", tmp / "out.db"],
    "lint": lambda src, tmp: ["lint", src],
    "query": lambda src, tmp: ["query", "--table", src, "user1@example.com"],
    "fmt": lambda src, tmp: ["fmt", "--check", src],
    "diff": lambda src, tmp: ["diff", src, tmp / "none.db"],
}


@pytest.mark.parametrize("command", COMMANDS)
def test_missing_file(tmp_path: Path, command: str) -> None:
    src = tmp_path / "nope"
    run = virtc(*COMMANDS[command](src, tmp_path))
    assert run.returncode == 2
    assert one_line_error(run.stderr) == f"virtc: {src}: no such file"
    assert not (tmp_path / "out.db").exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_directory(tmp_path: Path, command: str) -> None:
    src = tmp_path / "adir"
    src.mkdir()
    run = virtc(*COMMANDS[command](src, tmp_path))
    assert run.returncode == 2
    line = one_line_error(run.stderr)
    assert line.startswith(f"virtc: {src}: is a directory"), line
    assert not (tmp_path / "out.db").exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_unreadable_file(command: str) -> None:
    with public_dir() as d:
        src = d / "secret"
        src.write_bytes(table(3, "x"))
        src.chmod(0o600)  # root's; nobody may not read it
        out = d / "out"
        out.mkdir(mode=0o777)
        out.chmod(0o777)
        run = virtc_as_nobody(*COMMANDS[command](src, out))
        assert run.returncode == 2
        assert one_line_error(run.stderr) == f"virtc: {src}: permission denied"
        assert not (out / "out.db").exists() and temps(out / "out.db") == []


@pytest.mark.parametrize("name", ["-", "/dev/stdin"])
def test_build_from_stdin(tmp_path: Path, name: str) -> None:
    source = table(20, "in")
    run = virtc("build", "--no-lint", "-q", name, "-o", tmp_path / "m.db", stdin=source)
    assert run.returncode == 0, run.stderr
    assert python_dump(tmp_path / "m.db") == records_of(source)


@pytest.mark.parametrize("name", ["-", "/dev/stdin"])
def test_lint_from_stdin_names_the_line(name: str) -> None:
    run = virtc("lint", name, stdin=b"good@example.com local\n  bad@example.com x\n")
    assert run.returncode == 1
    text = run.stdout.decode() + run.stderr.decode()
    assert "Traceback" not in text
    assert ":2:1:" in text


def test_build_stdin_with_an_error_names_stdin(tmp_path: Path) -> None:
    run = virtc("build", "--no-lint", "-", "-o", tmp_path / "m.db", stdin=b"a@example.com x\n b y\n")
    assert run.returncode == 1
    assert b"<stdin>:2:1:" in run.stderr
    assert not (tmp_path / "m.db").exists()


@pytest.mark.oracle
def test_empty_file_builds_an_empty_map_like_makemap(tmp_path: Path) -> None:
    src = tmp_path / "empty"
    src.write_bytes(b"")
    run = virtc("build", src, "-o", tmp_path / "m.db")
    assert run.returncode == 0, run.stderr
    assert b"(0 records)" in run.stderr
    assert stat.S_IMODE((tmp_path / "m.db").stat().st_mode) == 0o640
    assert makemap_dump(tmp_path / "m.db", empty_cf(tmp_path)) == frozenset()


def test_empty_file_lints_clean(tmp_path: Path) -> None:
    src = tmp_path / "empty"
    src.write_bytes(b"")
    run = virtc("lint", src)
    assert run.returncode == 0, run.stderr
    assert b"Traceback" not in run.stderr


def test_endless_device_is_refused_with_a_bound(tmp_path: Path) -> None:
    """/dev/zero never ends: reading stops at the size bound, with one line, not an OOM."""
    run = virtc("lint", "/dev/zero")
    assert run.returncode == 2
    assert one_line_error(run.stderr) == "virtc: /dev/zero: larger than 256 MiB; not a virtusertable source"


def test_stdin_without_output_is_refused(tmp_path: Path) -> None:
    """No map is written next to /dev/stdin (or a FIFO): the output must be named."""
    run = virtc("build", "--no-lint", "/dev/stdin", stdin=table(2, "x"), cwd=tmp_path)
    assert run.returncode == 2
    assert one_line_error(run.stderr) == "virtc: /dev/stdin: not a regular file; name the map with -o OUTPUT"
    assert not Path("/dev/stdin.db").exists()
    run = virtc("build", "--no-lint", "-", stdin=table(2, "x"), cwd=tmp_path)
    assert run.returncode == 2
    assert "needs -o OUTPUT" in one_line_error(run.stderr)
