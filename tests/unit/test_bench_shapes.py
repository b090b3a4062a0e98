"""benchmarks/generate.py's table shapes are tables makemap takes whole: every line
accepted, every key unique, exactly the entries asked for, the same bytes for a seed."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from support.bench import generator

GENERATE = generator()


def _table(shape: str, entries: int, seed: int = 5) -> bytes:
    out = io.StringIO()
    GENERATE.generate_shape(entries, seed, shape, out)
    return out.getvalue().encode("ascii")


@pytest.mark.parametrize("shape", sorted(GENERATE.SHAPES))
def test_shape_is_a_clean_makemap_source(shape: str, makemap: str, tmp_path: Path) -> None:
    source = _table(shape, 3000)
    assert source == _table(shape, 3000)
    made = subprocess.run([makemap, "-C", "/dev/null", "hash", str(tmp_path / "m")], input=source,
                          capture_output=True, timeout=60, check=False)
    complaints = [ln for ln in made.stderr.splitlines() if not ln.startswith(b"WARNING: ")]
    assert made.returncode == 0 and complaints == [], made.stderr
    dump = subprocess.run([makemap, "-C", "/dev/null", "-u", "hash", str(tmp_path / "m")],
                          capture_output=True, timeout=60, check=True)
    assert dump.stdout.count(b"\n") == 3000


def test_generate_help_prints() -> None:
    """The README sends users to generate.py: its --help must work (a shape's '%1%3' broke
    argparse's formatting)."""
    done = subprocess.run([sys.executable, GENERATE.__file__, "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "%1%3@b" in done.stdout, done.stderr
