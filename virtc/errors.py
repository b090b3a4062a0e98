"""Errors that end a command with a one-line message (never a traceback)."""

from __future__ import annotations

import sys
from typing import NoReturn


class VirtcError(Exception):
    """A user-facing failure: bad path, unreadable file, missing libdb, ...

    The CLI prints ``virtc: <message>`` and exits with ``exit_code``
    (2 by default: usage, I/O or configuration error).
    """

    exit_code = 2

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    def __reduce__(self) -> tuple[type, tuple[str, int]]:
        """Pickled with its exit code (it may come back from a helper process)."""
        return type(self), (str(self), self.exit_code)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``virtc: message`` on stderr and exit with ``code``."""
    print(f"virtc: {message}", file=sys.stderr)
    sys.exit(code)
