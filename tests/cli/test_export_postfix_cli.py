"""``virtc export postfix`` as a user runs it: files, exit codes, --strict, refusals."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from support.oracles import FIXTURES, ROOT

from virtc.exports.postfix import FILES

VIRTC = ROOT / ".venv" / "bin" / "virtc"
if not VIRTC.exists():  # an install elsewhere (CI venv): the same entry point
    VIRTC = Path(sys.executable).with_name("virtc")

CLEAN = FIXTURES / "clean/virtusertable"
LOSSY = "a@example.com\t|/usr/bin/prog\nb@example.com\tbob\n@example.com\terror:5.1.1:550 User unknown\n"


def export(*args: str | Path) -> tuple[int, str, str]:
    done = subprocess.run([str(VIRTC), "export", "postfix", *map(str, args)], capture_output=True,
                          text=True, timeout=120)
    return done.returncode, done.stdout, done.stderr


def test_writes_every_file_into_a_new_folder(tmp_path: Path) -> None:
    out = tmp_path / "new" / "postfix"
    code, stdout, stderr = export(CLEAN, "-o", out)
    assert (code, stdout, stderr) == (0, "", "")
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    assert "alice@example.com\talice\n" in (out / "virtual").read_text()
    assert (out / "virtual_domains").read_text() == "example.com\nexample.org\nexample.net\n"
    assert "example.org\t550 5.1.1 User unknown\n" in (out / "recipient_access").read_text()
    main_cf = (out / "main.cf").read_text()
    assert "virtual_alias_domains = $config_directory/virtual_domains\n" in main_cf
    assert "recipient_delimiter = +\n" in main_cf
    assert "regexp:$config_directory/virtual_regexp" in main_cf  # bob+*@ and dave++@
    assert (out / "virtual_regexp").read_text().startswith("/^(bob)\\+([^@]*)@example\\.com$/\tbob\n")


def test_a_lossy_line_is_reported_and_strict_fails(tmp_path: Path) -> None:
    source = tmp_path / "virtusertable"
    source.write_text(LOSSY)
    code, _, stderr = export(source, "-o", tmp_path / "out", "--no-lint")
    assert code == 0
    assert stderr.startswith(f"{source}:1:1: PF102 postfix-not-an-address: warning: ")
    assert len(stderr.splitlines()) == 1
    code, _, stderr2 = export(source, "-o", tmp_path / "out", "--no-lint", "--strict")
    assert (code, stderr2) == (1, stderr)
    assert (tmp_path / "out/recipient_access").read_text().startswith(
        "a@example.com\t550 5.7.1 Cannot mail directly to programs\n")


def test_strict_passes_a_table_that_translates(tmp_path: Path) -> None:
    assert export(CLEAN, "-o", tmp_path, "--strict")[0] == 0


def test_refuses_a_table_with_lint_errors(tmp_path: Path) -> None:
    code, _, stderr = export(FIXTURES / "virtusertable", "-o", tmp_path / "out")
    assert code == 1
    assert "nothing was written" in stderr
    assert not (tmp_path / "out").exists()


def test_an_unwritable_folder_is_a_one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, stderr = export(CLEAN, "-o", blocker / "out")
    assert code == 2
    assert stderr.startswith("virtc: ") and len(stderr.splitlines()) == 1


def test_files_are_replaced_whole(tmp_path: Path) -> None:
    (tmp_path / "virtual_regexp").write_text("/stale/ x\n")
    source = tmp_path / "virtusertable"
    source.write_text("a@example.com\talice\n@example.com\terror:5.1.1:550 User unknown\n")
    assert export(source, "-o", tmp_path)[0] == 0
    assert (tmp_path / "virtual_regexp").read_text() == ""
    assert "regexp:" not in (tmp_path / "main.cf").read_text()
