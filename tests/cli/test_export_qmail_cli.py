"""``virtc export qmail`` on the command line: files, exit codes, --strict, refusals."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def virtc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "virtc", *args], capture_output=True, text=True, timeout=60)


CLEAN = "alice@a.test\talice\npostmaster@a.test\tpostmaster\n@a.test\terror:5.1.1:550 No\n"


def test_text_form_and_exit_codes(tmp_path: Path) -> None:
    (tmp_path / "vt").write_text(CLEAN)
    done = virtc("export", "qmail", str(tmp_path / "vt"), "--text", "-o", str(tmp_path / "validrcptto"))
    assert done.returncode == 0
    assert (tmp_path / "validrcptto").read_text(encoding="utf-8") == "alice@a.test\npostmaster@a.test\n"
    # sendmail also accepts alice+anything@a.test; qmail cannot: one QM104 for the domain,
    # on its first such line.
    assert done.stderr.count("QM104 qmail-plus-detail: warning:") == 1
    assert "vt:1:1: QM104" in done.stderr and "'alice' and 1 more" in done.stderr
    strict = virtc("export", "qmail", str(tmp_path / "vt"), "--strict", "-o", str(tmp_path / "v.cdb"))
    assert strict.returncode == 1 and (tmp_path / "v.cdb").exists()


def test_an_exact_table_passes_strict(tmp_path: Path) -> None:
    (tmp_path / "vt").write_text("@a.test\tall@out.test\npostmaster@a.test\tpostmaster\n"
                                 "bad@a.test\terror:5.1.1:550 No\n")
    done = virtc("export", "qmail", str(tmp_path / "vt"), "--text", "--strict", "-o", str(tmp_path / "v"))
    # bad+x@a.test: sendmail rejects it (through bad@a.test), qmail accepts it (through @a.test).
    assert done.returncode == 1 and "vt:3:1: QM104" in done.stderr
    (tmp_path / "vt").write_text("@a.test\tall@out.test\npostmaster@a.test\tpostmaster\n")
    done = virtc("export", "qmail", str(tmp_path / "vt"), "--text", "--strict", "-o", str(tmp_path / "v"))
    assert done.returncode == 0 and " QM" not in done.stderr  # lint's VT207 info remains
    assert (tmp_path / "v").read_text() == "@a.test\n"


def test_non_ascii_key_is_reported_and_text_stays_utf8(tmp_path: Path) -> None:
    (tmp_path / "vt").write_bytes(b"j\xfcrgen@a.test\tj\nann@a.test\tann\n@a.test\terror:5.1.1:550 No\n")
    done = virtc("export", "qmail", str(tmp_path / "vt"), "--text", "--no-lint", "-o", str(tmp_path / "v"))
    assert done.returncode == 0 and "vt:1:1: QM105 qmail-unusable-key" in done.stderr
    assert (tmp_path / "v").read_bytes().decode("utf-8") == "ann@a.test\n"


def test_cdb_and_strict(tmp_path: Path) -> None:
    pytest.importorskip("cdblib", reason="pure-cdb is part of the dev install")
    (tmp_path / "vt").write_text(CLEAN + "bob+*@a.test\tbob\n")
    done = virtc("export", "qmail", str(tmp_path / "vt"), "-o", str(tmp_path / "v.cdb"))
    assert done.returncode == 0
    assert "vt:4:1: QM101 qmail-plus-wildcard: warning:" in done.stderr
    assert "@a.test', which rejects them" in done.stderr
    import cdblib

    written = cdblib.Reader((tmp_path / "v.cdb").read_bytes())
    assert written.get(b"alice@a.test") == b"" and written.get(b"@a.test") is None
    strict = virtc("export", "qmail", str(tmp_path / "vt"), "--strict", "-o", str(tmp_path / "v2.cdb"))
    assert strict.returncode == 1 and (tmp_path / "v2.cdb").exists()


def test_refuses_a_table_with_errors(tmp_path: Path) -> None:
    (tmp_path / "vt").write_text("a@a.test\tx\na@a.test\ty\n")
    done = virtc("export", "qmail", str(tmp_path / "vt"), "--text", "-o", str(tmp_path / "out"))
    assert done.returncode == 1 and "nothing was written" in done.stderr
    assert not (tmp_path / "out").exists()


def test_unwritable_output_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "vt").write_text(CLEAN)
    done = virtc("export", "qmail", str(tmp_path / "vt"), "--text", "-o", str(tmp_path / "no" / "such" / "f"))
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr


@pytest.mark.parametrize("export", [["qmail", "--text"], ["ldif", "--base", "dc=x", "--host", "h"]])
def test_an_output_under_a_file_is_a_located_error(tmp_path: Path, export: list[str]) -> None:
    """-o a/b where a is a file: one line naming it, exit 2, nothing written (it was an
    internal error, exit 70)."""
    (tmp_path / "vt").write_text(CLEAN)
    done = virtc("export", export[0], str(tmp_path / "vt"), *export[1:], "-o", str(tmp_path / "vt" / "out"))
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines()[-1] == f"virtc: {tmp_path / 'vt'}: not a directory"
    assert (tmp_path / "vt").read_text() == CLEAN
