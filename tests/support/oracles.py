"""Where the real tools are, and the policy for tests that need them.

Tests that need the real sendmail tools (makemap, sendmail -bt, db_dump, db_verify)
use the ``require_tool`` helper or the fixtures below: locally they skip with a
visible reason when a tool is absent; under CI (``CI`` set) a missing tool is a
failure, never a skip.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
TESTS = ROOT / "tests"
TEST_DATA = TESTS / "data"
FIXTURES = ROOT / "fixtures"

# Where tools/install-deps.sh unpacks sendmail (never installed: it would replace the MTA).
ORACLE_PREFIX = Path(os.environ.get("VIRTC_ORACLE_PREFIX") or ROOT / ".oracles")

TOOL_PATHS = {
    "makemap": [str(ORACLE_PREFIX / "usr/libexec/sendmail/makemap"),
                "/usr/sbin/makemap", "/usr/libexec/sendmail/makemap"],
    "sendmail": [str(ORACLE_PREFIX / "usr/libexec/sendmail/sendmail"),
                 "/usr/libexec/sendmail/sendmail", "/usr/lib/sm.bin/sendmail"],
    "db_dump": ["/usr/bin/db_dump"],
    "db_verify": ["/usr/bin/db_verify"],
    "m4": ["/usr/bin/m4"],
    "cdb": ["/usr/bin/cdb"],  # tinycdb
}


def find_tool(name: str) -> str | None:
    for candidate in TOOL_PATHS.get(name, []):
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which(name)


def sendmail_cf_m4() -> Path:
    """sendmail-cf's ``cf.m4``: the unpacked copy first, as for the binaries."""
    unpacked = ORACLE_PREFIX / "usr/share/sendmail/cf/m4/cf.m4"
    return unpacked if unpacked.exists() else Path("/usr/share/sendmail/cf/m4/cf.m4")


def missing(msg: str) -> NoReturn:
    """A needed oracle is absent: skip with ``msg`` locally, fail under CI."""
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the oracle tests: {msg}")
    pytest.skip(msg)


_missing = missing


def require_tool(name: str) -> str:
    """Path of a real tool; skip (locally) or fail (in CI) when it is missing."""
    path = find_tool(name)
    if path is None:
        _missing(f"{name} not installed (run `make oracles` as root: tools/install-deps.sh test)")
        raise AssertionError("unreachable")
    return path


def require_berkeleydb() -> None:
    try:
        import berkeleydb  # noqa: F401
    except ImportError:
        _missing("berkeleydb not installed (pip install '.[db]' after apt-get install libdb-dev)")


def require_pypi() -> None:
    """Tests that pip-install into fresh environments (packaging, pre-commit) need PyPI."""
    import socket

    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
    except OSError as exc:
        _missing(f"PyPI not reachable ({exc}): the packaging and pre-commit tests install from it")


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on now (for the servers tests start)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
