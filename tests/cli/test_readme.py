"""The README's console examples run as written and print what the README shows.

Each ```console block is a sequence of ``$ command`` lines, each followed by its
expected output (stdout and stderr together). Commands run from the repository
root with this virtualenv's ``virtc`` first on PATH.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.oracles import ROOT, require_berkeleydb

README = ROOT / "README.md"


def console_examples() -> list[tuple[str, str]]:
    """(command, expected output) pairs, in README order."""
    pairs: list[tuple[str, str]] = []
    for block in re.findall(r"```console\n(.*?)```", README.read_text(encoding="utf-8"), re.S):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, output = chunk.partition("\n")
            pairs.append((command, output))
    return pairs


def test_readme_has_examples() -> None:
    commands = [c for c, _ in console_examples()]
    assert any(c.startswith("virtc lint") for c in commands)
    assert any(c.startswith("virtc build") for c in commands)
    assert any(c.startswith("virtc query") for c in commands)


def _checkout_in_unsafe_directory() -> bool:
    """A clone under e.g. /tmp: sendmail refuses maps there, and virtc build says so."""
    return any(p.stat().st_mode & 0o022 for p in ROOT.parents)


UNSAFE_WARNING = re.compile(r"^virtc: warning: .*(World|Group) writable directory .*\n", re.M)


def test_readme_examples_print_what_the_readme_shows() -> None:
    require_berkeleydb()
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               NO_COLOR="1", COLUMNS="200")
    env.pop("GITHUB_ACTIONS", None)
    for command, expected in console_examples():
        run = subprocess.run(command, shell=True, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, timeout=60)
        output = run.stdout
        if _checkout_in_unsafe_directory():  # the README shows a checkout in a safe place
            output = UNSAFE_WARNING.sub("", output)
        if output != expected:
            pytest.fail(f"README example `{command}` printed:\n{output}\nREADME shows:\n{expected}")
