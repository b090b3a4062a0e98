"""A bounded coverage-guided run of tests/fuzz/fuzz_virtc.py (atheris): no crash.

atheris is in the ``test`` extra; a missing atheris skips locally and fails in CI.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.oracles import ROOT

HARNESS = ROOT / "tests" / "fuzz" / "fuzz_virtc.py"
SEEDS = [ROOT / "fixtures", ROOT / "tests" / "data" / "makemap", ROOT / "tests" / "data" / "query"]


def _fuzz(tmp_path: Path, seconds: int) -> None:
    if importlib.util.find_spec("atheris") is None:
        msg = "atheris not installed (pip install '.[test]')"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the fuzz harness: {msg}")
        pytest.skip(msg)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    run = subprocess.run(
        [sys.executable, str(HARNESS), str(corpus), *map(str, (s for s in SEEDS if s.is_dir())),
         f"-max_total_time={seconds}", "-max_len=4096", "-rss_limit_mb=1024", "-timeout=20",
         f"-artifact_prefix={tmp_path}/"],
        capture_output=True, timeout=seconds + 120, cwd=tmp_path)
    log = run.stderr.decode("utf-8", "replace")
    crashes = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("crash-", "timeout-", "oom-")))
    assert run.returncode == 0 and not crashes, f"{crashes}\n{log[-4000:]}"
    assert "Done" in log, log[-2000:]


def test_atheris_bounded_run(tmp_path: Path) -> None:
    _fuzz(tmp_path, 8)


@pytest.mark.slow
def test_atheris_long_run(tmp_path: Path) -> None:
    _fuzz(tmp_path, 300)
