"""Command-line polish: "did you mean", rule families, `virtc rule` rendered on a terminal,
coloured diff on a terminal, and `lint --fix -` as a filter."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from support.oracles import ROOT


def virtc(*args: object, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "GITHUB_ACTIONS")}
    return subprocess.run([sys.executable, "-m", "virtc", *map(str, args)], input=stdin,
                          capture_output=True, timeout=120, env=env)


def on_a_terminal(*args: object) -> str:
    """What virtc prints when stdout is a terminal (a pseudo-terminal)."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "GITHUB_ACTIONS")}
    env.update(TERM="xterm-256color", COLUMNS="120")
    primary, secondary = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "virtc", *map(str, args)], stdout=secondary,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=env)
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(primary, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(primary)
    return b"".join(chunks).decode("utf-8", "replace")


def test_mistyped_command_suggests_the_right_one() -> None:
    r = virtc("lnit", "x")
    assert r.returncode == 2
    assert b"Error: No such command 'lnit'. Did you mean 'lint'?" in r.stderr


def test_mistyped_rule_suggests_the_right_one() -> None:
    r = virtc("rule", "missing-catchall")
    assert (r.returncode, r.stderr) == (2, b"virtc: unknown rule 'missing-catchall'; did you mean "
                                           b"'missing-catch-all'? (see `virtc rule` for the list)\n")
    r = virtc("lint", "--ignore", "VT1011", ROOT / "fixtures" / "clean" / "virtusertable")
    assert r.returncode == 2 and b"did you mean 'VT101'?" in r.stderr


def test_rule_family_lists_what_select_selects() -> None:
    r = virtc("rule", "VT2")
    assert r.returncode == 0
    codes = [line.split()[0] for line in r.stdout.decode().splitlines()]
    assert codes and all(c.startswith("VT2") for c in codes)
    listed = [line.split()[0] for line in virtc("rule").stdout.decode().splitlines()]
    assert codes == [c for c in listed if c.startswith("VT2")]


def test_rule_renders_on_a_terminal_and_stays_plain_in_a_pipe() -> None:
    plain = virtc("rule", "VT207").stdout.decode()
    assert "``@domain``" in plain  # the docstring as written
    shown = on_a_terminal("rule", "VT207")
    assert "\x1b[" in shown and "``" not in shown and "@domain" in shown


def test_diff_is_coloured_on_a_terminal_only(tmp_path: Path) -> None:
    src = tmp_path / "vt"
    src.write_text("a@example.com\ta\n@example.com\terror:5.1.1:550 no\n")
    piped = virtc("diff", src, tmp_path / "missing.db").stdout.decode()
    assert "+ a@example.com\ta\n" in piped and "\x1b[" not in piped
    shown = on_a_terminal("diff", src, tmp_path / "missing.db")
    assert "\x1b[32m+ a@example.com" in shown


def test_fix_as_a_filter() -> None:
    source = b"a@example.com\talice \npostmaster@example.com\troot\n@example.com\terror:5.1.1:550 no\n"
    r = virtc("lint", "--fix", "-", stdin=source)
    assert r.returncode == 0
    assert r.stdout == (b"a@example.com\talice\npostmaster@example.com\troot\n"
                        b"@example.com\terror:5.1.1:550 no\n")
    assert b"Fixed 1 problem" in r.stderr
    kept = (b"a@example.com alice\npostmaster@example.com root\n@example.com error:5.1.1:550 no\n"
            b"b@example.com\n")
    r = virtc("lint", "--fix", "-", stdin=kept)
    assert r.returncode == 1  # what remains (a line makemap rejects) still fails
    assert r.stdout == kept and b"VT001" in r.stderr


def test_binary_input_is_refused_in_one_line_and_never_rewritten(tmp_path: Path) -> None:
    elf = tmp_path / "prog"
    elf.write_bytes(Path(sys.executable).read_bytes()[:65536])
    before = elf.read_bytes()
    cases = (([elf], b"", elf), (["--fix", elf], b"", elf), (["--fix", "-"], before, "<stdin>"))
    for args, stdin, name in cases:
        r = virtc("lint", *args, stdin=stdin)
        refused = f"virtc: {name}: a binary file, not a virtusertable source\n".encode()
        assert (r.returncode, r.stderr) == (2, refused)
        assert r.stdout == b""
    assert elf.read_bytes() == before
    stray = tmp_path / "vt"
    stray.write_bytes(b"a@example.com\talice\n@example.com\terror:5.1.1:550 no\nb@example.com\tb\0b\n")
    r = virtc("lint", stray)
    assert r.returncode == 1 and b"VT001" in r.stdout  # a stray NUL is a finding, not a refusal
