"""The supported Pythons are said once and agree everywhere: requires-python, the
classifiers, ruff's target, the CI runs of tools/test-pythons.sh, and README."""

from __future__ import annotations

import re

from support.oracles import ROOT

from virtc.compat import tomllib

SUPPORTED = ["3.9", "3.10", "3.11", "3.12", "3.13"]


def test_pyproject_agrees_with_itself() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["requires-python"] == f">={SUPPORTED[0]}"
    classified = [c.rsplit(" :: ", 1)[1] for c in project["project"]["classifiers"]
                  if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    assert classified == SUPPORTED
    assert project["tool"]["ruff"]["target-version"] == "py" + SUPPORTED[0].replace(".", "")


def test_ci_runs_the_oldest_and_newest_and_readme_says_so() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(rf"^OTHER_PYTHONS \?= {SUPPORTED[0]} {SUPPORTED[-1]}$", makefile, re.M)
    assert f"Python {SUPPORTED[0]} to {SUPPORTED[-1]}" in (ROOT / "README.md").read_text(encoding="utf-8")
