"""The pre-commit hooks, through the real ``pre-commit`` in a throwaway git repository.

pre-commit installs a hook repository by cloning it at a revision, so the test
snapshots the package files of THIS working tree (tracked and untracked, minus
ignored ones) into a commit of its own. pre-commit builds the hook environment with pip from PyPI
(network needed), the way users get it: without the ``db`` extra, so without libdb
or a compiler.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.oracles import ROOT, require_pypi

TIMEOUT = 600

GIT_ENV = {
    "GIT_AUTHOR_NAME": "virtc tests", "GIT_AUTHOR_EMAIL": "tests@virtc.invalid",
    "GIT_COMMITTER_NAME": "virtc tests", "GIT_COMMITTER_EMAIL": "tests@virtc.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
}


def _env(pre_commit_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_ENV, PRE_COMMIT_HOME=str(pre_commit_home), PRE_COMMIT_COLOR="never", NO_COLOR="1")
    env.pop("VIRTUAL_ENV", None)
    return env


def git(cwd: Path, *args: str, env: dict[str, str]) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True,
                          timeout=120).stdout.strip()


# What `pip install .` of the hook repository needs (fewer files: fewer cache misses).
PACKAGE_FILES = {"pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "LICENSE"}
PACKAGE_DIRS = ("virtc/", "grammar/")


def snapshot(dest: Path, env: dict[str, str]) -> str:
    """Commit this working tree's package files (as the tests see them) in ``dest``; return the sha."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, check=True, capture_output=True, timeout=60).stdout.split(b"\0")
    dest.mkdir()
    for raw in files:
        rel = os.fsdecode(raw)
        src = ROOT / rel
        if not src.is_file() or not (rel in PACKAGE_FILES or rel.startswith(PACKAGE_DIRS)):
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / rel)
    git(dest, "init", "-q", "-b", "main", env=env)
    git(dest, "add", "-A", env=env)
    git(dest, "commit", "-q", "-m", "snapshot", env=env)
    return git(dest, "rev-parse", "HEAD", env=env)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A git repository whose pre-commit config uses this checkout's hooks."""
    if shutil.which("git") is None:
        pytest.fail("git is needed for the pre-commit test")
    require_pypi()
    # A private PRE_COMMIT_HOME: a shared one breaks when two test runs meet in its sqlite db.
    env = _env(tmp_path_factory.mktemp("pre-commit-home"))
    base = tmp_path_factory.mktemp("precommit")
    sha = snapshot(base / "virtc", env)
    repo = base / "work"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main", env=env)
    (repo / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        f"  - repo: {base / 'virtc'}\n"
        f"    rev: {sha}\n"
        "    hooks:\n"
        "      - id: virtc-lint\n"
    )
    git(repo, "add", ".pre-commit-config.yaml", env=env)
    run = pre_commit(repo, env, "install")
    assert run.returncode == 0, run.stdout + run.stderr
    return repo, env


def pre_commit(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT, check=False)


def commit(repo: Path, env: dict[str, str], message: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "commit", "-q", "-m", message], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT, check=False)


def test_commit_blocked_by_missing_catch_all_then_passes(project: tuple[Path, dict[str, str]]) -> None:
    repo, env = project
    (repo / "virtusertable").write_text("alice@example.com\talice\n")
    # Not virtusertable sources: never linted, whatever is in them.
    (repo / "virtusertable.bak").write_text("  broken\n")
    (repo / "notes.txt").write_text("  broken\n")
    git(repo, "add", "virtusertable", "virtusertable.bak", "notes.txt", env=env)
    blocked = commit(repo, env, "no catch-all")
    output = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0, output
    assert "virtc lint" in output and "Failed" in output
    # The lint report itself (its wording belongs to the rule; its anchor and code do not change).
    assert "virtusertable:1:1: VT101 missing-catch-all: domain 'example.com'" in output
    assert "virtusertable.bak" not in output and "notes.txt" not in output
    with pytest.raises(subprocess.CalledProcessError):
        git(repo, "rev-parse", "HEAD", env=env)  # nothing was committed

    (repo / "virtusertable").write_text(
        "alice@example.com\talice\npostmaster@example.com\troot\n"
        "@example.com\terror:5.1.1:550 User unknown\n")
    git(repo, "add", "virtusertable", env=env)
    passed = commit(repo, env, "with catch-all")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert git(repo, "log", "--format=%s", env=env) == "with catch-all"


def test_fix_hook_and_suffix_match(project: tuple[Path, dict[str, str]]) -> None:
    repo, env = project
    sub = repo / "mail"
    sub.mkdir(exist_ok=True)
    source = sub / "example.virtusertable"
    source.write_text("bob@example.org\tbob \n")
    git(repo, "add", "mail/example.virtusertable", env=env)
    lint = pre_commit(repo, env, "run", "virtc-lint", "--files", "mail/example.virtusertable")
    assert lint.returncode == 1 and "VT101" in lint.stdout, lint.stdout + lint.stderr
    # The fix hook, from a second config naming it instead of virtc-lint: safe fixes only
    # (the trailing blank), never the catch-all, which changes which mail is accepted.
    config = repo / "fix-config.yaml"
    config.write_text((repo / ".pre-commit-config.yaml").read_text().replace("virtc-lint", "virtc-fix"))
    fixed = pre_commit(repo, env, "run", "-c", str(config), "virtc-fix", "--files",
                       "mail/example.virtusertable")
    assert fixed.returncode == 1 and "files were modified by this hook" in fixed.stdout, fixed.stdout
    assert "1 unsafe fix available" in fixed.stdout, fixed.stdout
    assert source.read_text() == "bob@example.org\tbob\n"
    again = pre_commit(repo, env, "run", "virtc-lint", "--files", "mail/example.virtusertable")
    assert again.returncode == 1 and "VT203" not in again.stdout, again.stdout + again.stderr


def test_hook_environment_has_no_libdb(project: tuple[Path, dict[str, str]]) -> None:
    """The hook's virtualenv holds virtc with click, lark and rich, and no berkeleydb."""
    _, env = project
    home = Path(env["PRE_COMMIT_HOME"])
    pythons = sorted(home.glob("repo*/py_env-*/bin/python"))
    assert pythons, f"no hook environment under {home}"
    for python in pythons:
        probe = subprocess.run(
            [str(python), "-c",
             "import importlib.metadata as m, importlib.util as u;"
             "print(sorted(r.split()[0].split('>')[0].split(';')[0] for r in m.requires('virtc') "
             "if 'extra' not in r)); print(u.find_spec('berkeleydb') is None)"],
            capture_output=True, text=True, timeout=60, check=True)
        assert probe.stdout.splitlines() == ["['click', 'lark', 'rich', 'tomli']", "True"], probe.stdout
