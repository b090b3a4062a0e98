"""Packaging: sdist, then a wheel built FROM the sdist, installed in a fresh venv without libdb.

``python -m build`` (the default run builds the sdist, unpacks it and builds the
wheel from it, so a file missing from the sdist breaks the wheel). The wheel is
installed without the ``db`` extra; the installed ``virtc`` must lint a fixture,
list its commands, load the grammar packed at ``virtc/_grammar/``, offer shell
completion, and refuse ``build`` with a one-line error (no libdb) instead of a
traceback. Needs PyPI (build isolation and the venv's dependencies).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from support.oracles import ROOT, require_pypi

TIMEOUT = 600


def run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)
    if check and proc.returncode != 0:
        pytest.fail(f"{' '.join(map(str, args))} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_pypi()
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--outdir", out, ROOT)
    return out


@pytest.fixture(scope="module")
def venv(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    env_dir = tmp_path_factory.mktemp("venv")
    # ensurepip is slow; this interpreter's pip installs into the new venv just as well.
    run(sys.executable, "-m", "venv", "--without-pip", env_dir)
    (wheel,) = dist.glob("virtc-*.whl")
    # No [db]: no libdb, no compiler.
    run(sys.executable, "-m", "pip", "--python", env_dir / "bin" / "python", "install", "-q", wheel)
    return env_dir


def test_sdist_has_the_grammar_and_the_wheel_packs_it(dist: Path) -> None:
    (sdist,) = dist.glob("virtc-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert {"grammar/virtusertable.lark", "pyproject.toml", "virtc/cli.py", "README.md"} <= names
    assert not any(n.startswith((".venv/", ".git/", "build/", "dist/")) or "__pycache__" in n for n in names)
    (wheel,) = dist.glob("virtc-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        metadata = next(zf.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
    assert "virtc/_grammar/virtusertable.lark" in names
    assert not any(n.startswith(("grammar/", "tests/")) for n in names)
    requires = [ln for ln in metadata.splitlines() if ln.startswith("Requires-Dist:")]
    base = sorted(r.split()[1].split(">")[0] for r in requires if "extra ==" not in r)
    assert base == ["click", "lark", "rich", "tomli"]
    assert any(r.startswith("Requires-Dist: tomli") and "python_version < '3.11'" in r.replace('"', "'")
               for r in requires)  # the tomllib backport, only where tomllib is missing
    assert any("berkeleydb" in r and "extra == 'db'" in r.replace('"', "'") for r in requires)


def test_installed_wheel_lints_without_libdb(venv: Path, tmp_path: Path) -> None:
    python, virtc = venv / "bin" / "python", venv / "bin" / "virtc"
    # Run outside the checkout so nothing can come from the source tree.
    probe = run(python, "-c", "import importlib.util as u, virtc.source.grammar as g;"
                "print(u.find_spec('berkeleydb') is None); print(g.__file__); g.parser()", cwd=tmp_path)
    no_libdb, grammar_module = probe.stdout.splitlines()
    assert no_libdb == "True"
    assert grammar_module.startswith(str(venv))
    source = tmp_path / "virtusertable"
    source.write_bytes((ROOT / "fixtures" / "virtusertable").read_bytes())
    lint = run(virtc, "lint", source, cwd=tmp_path, check=False)
    assert lint.returncode == 1, lint.stdout + lint.stderr
    assert "VT101" in lint.stdout and "Traceback" not in lint.stderr
    clean = tmp_path / "clean"
    clean.write_bytes((ROOT / "fixtures" / "clean" / "virtusertable").read_bytes())
    assert run(virtc, "lint", clean, cwd=tmp_path, check=False).returncode == 0
    build = run(virtc, "build", clean, "-o", tmp_path / "out.db", cwd=tmp_path, check=False)
    assert build.returncode == 2 and "berkeleydb" in build.stderr
    assert len(build.stderr.splitlines()) == 1 and not (tmp_path / "out.db").exists()


def test_help_lists_commands_with_purposes(venv: Path, tmp_path: Path) -> None:
    out = run(venv / "bin" / "virtc", "--help", cwd=tmp_path).stdout
    commands = out.split("Commands:\n", 1)[1]
    for name in ("lint", "build", "dump", "query", "makemap", "diff", "fmt"):
        assert f"\n  {name} " in "\n" + commands, out


def test_shell_completion(venv: Path, tmp_path: Path) -> None:
    env = {**os.environ, "_VIRTC_COMPLETE": "bash_source"}
    script = run(venv / "bin" / "virtc", cwd=tmp_path, env=env).stdout
    assert "_virtc_completion" in script and "complete " in script
    env = {**os.environ, "_VIRTC_COMPLETE": "bash_complete", "COMP_WORDS": "virtc ma", "COMP_CWORD": "1"}
    assert run(venv / "bin" / "virtc", cwd=tmp_path, env=env).stdout.splitlines() == ["plain,makemap"]
