"""click's test runner with stdout and stderr apart, on every click virtc supports."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner


def runner() -> CliRunner:
    """click 8.2+ keeps stderr apart by itself; older ones (Python 3.9) need mix_stderr."""
    try:
        kwargs: dict[str, Any] = {"mix_stderr": False}
        return CliRunner(**kwargs)
    except TypeError:  # click 8.2 dropped the argument
        return CliRunner()
