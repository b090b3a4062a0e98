"""``virtc diff``: the changes it reports are exactly what rebuilding with makemap changes.

Oracle: after the real makemap has built the new source, ``virtc diff`` of that
source against the fresh map must report nothing (exit 0), and the changes it
reported against the old map must turn the old map's records into the new ones.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from support.cli import runner
from support.makemap import parse_dump, run_makemap
from support.tables import generated

from virtc.cli import cli
from virtc.maps.mapdiff import diff_source, installed_records, source_records
from virtc.maps.records import BuildOptions
from virtc.source.parse import parse_bytes


def virtc(*args: str) -> tuple[int, str, str]:
    result = runner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


OLD = b"Alice@Example.com alice\nbob@example.com bob\n@example.com error:nouser 550 No such user\n"
NEW = b"alice@example.com alice-new\n@example.com error:nouser 550 No such user\ncarol@example.com carol\n"


@pytest.fixture
def installed(tmp_path: Path, makemap: str, bdb: None) -> Path:
    """``virtusertable`` holding NEW, and its map built by the real makemap from OLD."""
    mm = run_makemap(OLD, tmp_path, name="virtusertable")
    assert mm.returncode == 0
    (tmp_path / "virtusertable.src").unlink()
    source = tmp_path / "virtusertable"
    source.write_bytes(NEW)
    return source


def test_text_report_and_exit_1(installed: Path) -> None:
    code, out, _ = virtc("diff", str(installed))
    assert code == 1
    assert out.splitlines() == [  # sorted by key
        "~ alice@example.com\talice -> alice-new",
        "- bob@example.com\tbob",
        "+ carol@example.com\tcarol",
        f"{installed}.db: 3 keys would change: 1 added, 1 removed, 1 changed (1 unchanged)",
    ]


def test_json_report(installed: Path) -> None:
    code, out, _ = virtc("diff", "--json", str(installed), str(installed) + ".db")
    assert code == 1
    doc = json.loads(out)
    assert doc["would_change"] is True
    assert doc["added"] == [{"key": "carol@example.com", "value": "carol"}]
    assert doc["removed"] == [{"key": "bob@example.com", "value": "bob"}]
    assert doc["changed"] == [{"key": "alice@example.com", "old": "alice", "new": "alice-new"}]
    assert doc["unchanged"] == 1 and doc["map_exists"] is True


def test_up_to_date_after_makemap_exit_0(installed: Path, makemap: str) -> None:
    with installed.open("rb") as f:
        subprocess.run([makemap, "-C", "/dev/null", "hash", str(installed)], stdin=f, check=True)
    code, out, _ = virtc("diff", str(installed))
    assert (code, out) == (0, f"{installed}.db: up to date with {installed} (3 keys)\n")
    code, out, _ = virtc("diff", "--json", str(installed))
    assert code == 0 and json.loads(out)["would_change"] is False


def test_errors_exit_2(tmp_path: Path, bdb: None) -> None:
    """One-line errors through the real entry point (which maps VirtcError to exit 2)."""
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "virtc", *args], capture_output=True, text=True,
                              check=False, timeout=60)

    missing = run("diff", str(tmp_path / "missing"))
    assert (missing.returncode, missing.stderr) == (2, f"virtc: {tmp_path / 'missing'}: no such file\n")
    src = tmp_path / "vt"
    src.write_bytes(b"a@x b\n")
    (tmp_path / "vt.db").write_bytes(b"not a map\n" * 100)
    broken = run("diff", str(src))
    assert broken.returncode == 2 and broken.stderr.startswith(f"virtc: {src}.db: ")
    assert len(broken.stderr.splitlines()) == 1


def test_missing_map_means_everything_added(tmp_path: Path, bdb: None) -> None:
    src = tmp_path / "vt"
    src.write_bytes(b"a@x b\n@x c\n")
    code, out, _ = virtc("diff", str(src))
    assert code == 1
    assert out.splitlines()[-1] == f"{src}.db (does not exist yet): 2 keys would change: " \
                                   "2 added, 0 removed, 0 changed (0 unchanged)"


@pytest.mark.parametrize("flags", [[], ["-f"], ["-N"], ["-r"]])
def test_generated_diffs_match_makemap_rebuilds(flags: list[str], tmp_path: Path, makemap: str,
                                                bdb: None) -> None:
    """Old map + reported changes == the map makemap builds from the new source; then no diff."""
    rng = random.Random(f"diff{flags}")
    opts = BuildOptions(foldcase="-f" not in flags, null="-N" in flags, replace="-r" in flags, lint=False)
    for i in range(10):
        old_src, new_src = generated(rng), generated(rng)
        old = run_makemap(old_src, tmp_path, flags=flags, name=f"old{i}")
        new = run_makemap(new_src, tmp_path, flags=flags, name=f"new{i}")
        table = parse_bytes(new_src, "new")
        d = diff_source(table, old.map_file, opts)
        records = installed_records(old.map_file)
        assert records is not None
        for c in d.changes:
            if c.new is None:
                del records[c.key]
            else:
                records[c.key] = c.new
        assert sorted(parse_dump(_dump_lines(records))) == sorted(new.records), new_src
        assert records == source_records(table, opts)
        assert diff_source(table, new.map_file, opts).changes == []


def _dump_lines(records: dict[bytes, bytes]) -> bytes:
    """``makemap -u`` lines of ``records`` (it prints up to a NUL)."""
    return b"".join(k.split(b"\0")[0] + b"\t" + v.split(b"\0")[0] + b"\n" for k, v in records.items())


def test_nul_mismatch_is_pointed_out(tmp_path: Path, makemap: str, bdb: None) -> None:
    """A map built with makemap -N differs in every key; diff says to pass -N (and then agrees)."""
    mm = run_makemap(b"a@x.org b\n", tmp_path, flags=["-N"], name="vt")
    assert mm.returncode == 0
    src = tmp_path / "vt"
    src.write_bytes(b"a@x.org b\n")
    code, out, err = virtc("diff", str(src))
    assert code == 1 and "+ a@x.org\tb" in out and "- a@x.org\\x00\tb\\x00" in out
    assert f"the keys in {src}.db end in a NUL byte (makemap -N): pass -N" in err
    assert virtc("diff", "-N", str(src))[:2] == (0, f"{src}.db: up to date with {src} (1 key)\n")
