"""``virtc fmt``: canonical layout, idempotent, atomic, and makemap stores the same records after it."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.cli import runner
from support.makemap import run_makemap
from support.oracles import TEST_DATA

from virtc.cli import cli
from virtc.layout import FormatRefused, format_table
from virtc.source.parse import parse_bytes, parse_text


def fmt(*args: str, stdin: bytes | None = None) -> tuple[int, bytes, str]:
    result = runner().invoke(cli, ["fmt", *args], input=stdin)
    return result.exit_code, result.stdout_bytes, result.stderr


MESSY = (
    "# header\n"
    "\n"
    "# example.com\n"
    "@example.com   error:nouser 550 No such user\n"
    "alice@example.com    alice\n"
    "# bob's comment\n"
    "bob@example.com\t\t bob  \n"
    "@other.org x\n"
    "a@other.org y\n"
    "\n\n\n"
    "# free-standing\n"
    "\n"
    "z@third.net\x0bz"
)
CANONICAL = (
    "# header\n"
    "\n"
    "# example.com\n"  # (a banner: it heads the run, the catch-all moves below it)
    "alice@example.com\talice\n"
    "# bob's comment\n"
    "bob@example.com\tbob  \n"
    "@example.com\terror:nouser 550 No such user\n"
    "\n"
    "a@other.org\ty\n"
    "@other.org\tx\n"
    "\n"
    "# free-standing\n"
    "\n"
    "z@third.net\tz\n"
)


def test_canonical_layout() -> None:
    assert format_table(parse_text(MESSY, "vt")) == CANONICAL
    assert format_table(parse_text(CANONICAL, "vt")) == CANONICAL


def test_align() -> None:
    out = format_table(parse_text("a@x.org b\nlonger@x.org c  \n@x.org d\n", "vt"), align=True)
    assert out == "a@x.org      b\nlonger@x.org c  \n@x.org       d\n"
    assert format_table(parse_text(out, "vt"), align=True) == out


def test_blank_lines_added_only_when_the_file_uses_them() -> None:
    dense = "a@x.org 1\n@x.org 2\nb@y.org 3\n@y.org 4\n"
    assert format_table(parse_text(dense, "vt")) == dense.replace(" ", "\t")
    mostly = "a@x.org 1\n\nb@y.org 3\n\nc@z.org 4\nd@w.org 5\n"
    assert format_table(parse_text(mostly, "vt")) == (
        "a@x.org\t1\n\nb@y.org\t3\n\nc@z.org\t4\n\nd@w.org\t5\n")


def test_catch_all_never_crosses_a_blank_line_or_another_domain() -> None:
    src = "@x.org all\n\na@x.org 1\n@y.org y\nb@x.org 2\n"
    assert format_table(parse_text(src, "vt")) == src.replace(" ", "\t")


def test_crlf_values_keep_their_cr() -> None:
    src = "b@x.org  b\r\n@x.org  all\r\na@x.org  a\r\n"
    assert format_table(parse_text(src, "vt")) == "b@x.org\tb\r\na@x.org\ta\r\n@x.org\tall\r\n"


@pytest.mark.parametrize("source", [
    b"a@x.org b\nA@X.org c\n",  # duplicate after folding: the first wins, order matters
    b"a@x.org b\n  c@x.org d\n",  # leading space
    b"a@x.org\n",  # no value
    b"k" * 1100 + b" v\n",  # too long
    b"a@x.org b\0c\n",  # NUL
])
def test_refuses_files_makemap_rejects(source: bytes, tmp_path: Path) -> None:
    path = tmp_path / "vt"
    path.write_bytes(source)
    code, _, err = fmt(str(path))
    assert code == 1
    assert "VT001" in err or "NUL" in err
    assert path.read_bytes() == source
    with pytest.raises(FormatRefused):
        format_table(parse_bytes(source, "vt"))


def test_check_diff_and_write(tmp_path: Path) -> None:
    path = tmp_path / "virtusertable"
    path.write_text(MESSY)
    os.chmod(path, 0o604)
    assert fmt("--check", str(path))[::2] == (1, f"would reformat {path}\n")
    code, out, _ = fmt("--diff", str(path))
    assert code == 1 and out.startswith(f"--- {path}\n+++ {path} (formatted)\n".encode())
    assert "+alice@example.com\talice\n" in out.decode()
    assert path.read_text() == MESSY
    assert fmt(str(path))[::2] == (0, f"reformatted {path}\n")
    assert path.read_text() == CANONICAL
    assert path.stat().st_mode & 0o777 == 0o604
    assert sorted(p.name for p in tmp_path.iterdir()) == ["virtusertable"]  # no temporary left over
    assert fmt("--check", str(path))[::2] == (0, "")
    assert fmt(str(path))[::2] == (0, "")


def test_diff_lines_end_at_newline_only_and_patch_applies_it(tmp_path: Path) -> None:
    """MESSY has a VT separator and no final newline: the diff must not cut a line at the VT
    nor run two lines together (it did, with str.splitlines)."""
    path = tmp_path / "virtusertable"
    path.write_text(MESSY)
    code, out, _ = fmt("--diff", str(path))
    assert code == 1
    assert b"-z@third.net\x0bz\n\\ No newline at end of file\n" in out
    patch = shutil.which("patch")
    if patch is None:
        pytest.skip("patch(1) not installed")
    subprocess.run([patch, "-s", str(path)], input=out, check=True)
    assert path.read_text() == CANONICAL


def test_symlinked_source_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.write_text("b@x.org  b\n")
    (tmp_path / "link").symlink_to("real")
    assert fmt(str(tmp_path / "link"))[0] == 0
    assert (tmp_path / "link").is_symlink() and real.read_text() == "b@x.org\tb\n"


def test_stdin_to_stdout_and_errors() -> None:
    assert fmt("-", stdin=b"a@x.org   b\n")[:2] == (0, b"a@x.org\tb\n")
    proc = subprocess.run([sys.executable, "-m", "virtc", "fmt", "/nonexistent/vt"], capture_output=True,
                          text=True, check=False, timeout=60)
    assert (proc.returncode, proc.stderr) == (2, "virtc: /nonexistent/vt: no such file\n")


# -- generated sources: idempotent, and makemap stores the same records ------------------------

DOMAINS = ["example.com", "Example.ORG", "x.net"]


def valid_source(rng: random.Random) -> bytes:
    lines: list[str] = []
    seen: set[str] = set()
    for _ in range(rng.randint(0, 25)):
        r = rng.random()
        if r < 0.15:
            lines.append(rng.choice(["#", "# c", "#x\ty  ", "#@x.net all"]))
        elif r < 0.25:
            lines.append("")
        else:
            domain = rng.choice(DOMAINS)
            local = rng.choice(["", "", "alice", "Bob", "c+*", "++", "+*", "d.e"])
            key = f"{local}@{domain}"
            if key.lower() in seen:
                continue
            seen.add(key.lower())
            sep = rng.choice([" ", "\t", "  \t", "\x0b", "\f "])
            value = rng.choice(["alice", "error:nouser 550 No", "x@y.org ", "%1@z.net\t", "v # c"])
            lines.append(key + sep + value + rng.choice(["", "", "\r"]))
    text = "\n".join(lines)
    return (text + rng.choice(["\n", ""])).encode("latin-1") if text.strip("\n") else b"a@x.net b\n"


def test_generated_idempotent_and_same_records() -> None:
    rng = random.Random(1)
    for _ in range(300):
        src = valid_source(rng)
        table = parse_bytes(src, "vt")
        for align in (False, True):
            once = format_table(table, align=align)
            assert format_table(parse_text(once, "vt"), align=align) == once, src


def test_generated_makemap_stores_the_same(tmp_path: Path, makemap: str, bdb: None) -> None:
    rng = random.Random(2)
    for i in range(25):
        src = valid_source(rng)
        before = run_makemap(src, tmp_path, name=f"before{i}")
        after = run_makemap(format_table(parse_bytes(src, "vt"), align=bool(i % 2)).encode("latin-1"),
                            tmp_path, name=f"after{i}")
        assert before.returncode == after.returncode == 0, before.stderr
        assert sorted(before.records) == sorted(after.records), src


MAKEMAP_FIXTURES = sorted((TEST_DATA / "makemap").glob("*.vt"))


def test_makemap_fixtures_formatted_or_refused(tmp_path: Path, makemap: str, bdb: None) -> None:
    """Each of the build's makemap fixtures is refused (VT001, NUL) or formatted idempotently
    into a source from which makemap stores exactly the same records."""
    formatted = 0
    for fixture in MAKEMAP_FIXTURES:
        src = fixture.read_bytes()
        try:
            text = format_table(parse_bytes(src, fixture.name))
        except FormatRefused:
            assert run_makemap(src, tmp_path, name="refused").returncode == 65 or b"\0" in src, fixture
            continue
        formatted += 1
        assert format_table(parse_text(text, fixture.name)) == text, fixture
        before = run_makemap(src, tmp_path, name="before")
        after = run_makemap(text.encode("latin-1"), tmp_path, name="after")
        assert before.returncode == after.returncode == 0, fixture
        assert sorted(before.records) == sorted(after.records), fixture
    assert formatted >= 10


def test_same_text_as_the_reference() -> None:
    """The columnar layout (#18: a million entries as objects took 1.4 GB) formats every
    generated source as the one-object-a-line reference does, or refuses it as it does."""
    from support.layout_reference import format_table as reference

    rng = random.Random(3)
    for _ in range(1500):
        src = valid_source(rng)
        if rng.random() < 0.2:  # a repeated key: both refuse
            src += src.split(b"\n", 1)[0] + b"\n"
        table = parse_bytes(src, "vt")
        for align in (False, True):
            try:
                expected: str | None = reference(table, align=align)
            except FormatRefused:
                expected = None
            try:
                got: str | None = format_table(table, align=align)
            except FormatRefused:
                got = None
            assert got == expected, src
