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
    assert done.returncode == 0 and done.stderr == ""
    assert (tmp_path / "validrcptto").read_text() == "alice@a.test\npostmaster@a.test\n"
    strict = virtc("export", "qmail", str(tmp_path / "vt"), "--strict", "-o", str(tmp_path / "v.cdb"))
    assert strict.returncode == 0


def test_cdb_and_strict(tmp_path: Path) -> None:
    pytest.importorskip("cdblib", reason="pure-cdb is part of the dev install")
    (tmp_path / "vt").write_text(CLEAN + "bob+*@a.test\tbob\n")
    done = virtc("export", "qmail", str(tmp_path / "vt"), "-o", str(tmp_path / "v.cdb"))
    assert done.returncode == 0
    assert "vt:4:1: QM101 qmail-plus-wildcard: warning:" in done.stderr
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
