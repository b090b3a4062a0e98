"""A built map handed to a command that wants the source is named as such, in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from virtc.source import sniff

VIRTC = Path(sys.executable).with_name("virtc")


def _makemap_map(makemap: str, tmp_path: Path, kind: str) -> Path:
    src = tmp_path / "virtusertable"
    src.write_text("a@example.com a\n@example.com error:5.1.1:550 User unknown\n")
    with src.open("rb") as f:
        subprocess.run([makemap, "-C", "/dev/null", kind, str(tmp_path / kind)], stdin=f, check=True,
                       capture_output=True)
    return tmp_path / f"{kind}.db"


def test_real_maps_are_recognised(makemap: str, tmp_path: Path) -> None:
    for kind in ("hash", "btree"):
        assert sniff.is_berkeley_db(sniff.read_head(_makemap_map(makemap, tmp_path, kind))), kind
    assert not sniff.is_berkeley_db(b"a@example.com a\n@example.com error:5.1.1:550 User unknown\n")


def test_lint_build_fmt_of_a_map_is_one_line(makemap: str, tmp_path: Path) -> None:
    db = _makemap_map(makemap, tmp_path, "hash")
    before = db.read_bytes()
    for args in (["lint", db], ["build", db, "-o", tmp_path / "out"], ["fmt", "--check", db]):
        run = subprocess.run([str(VIRTC), *map(str, args)], capture_output=True, text=True, check=False)
        assert run.returncode == 2, (args, run.stderr)
        assert run.stderr == f"virtc: {db}: {sniff.MAP_NOT_SOURCE}\n", args
    assert db.read_bytes() == before and not (tmp_path / "out.db").exists()


def test_binary_heuristic() -> None:
    assert sniff.looks_binary(bytes(range(32)) * 10)
    assert not sniff.looks_binary(b"a@example.com a\nnul\0in@one.example line\n")
