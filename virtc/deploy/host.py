"""The host's own names: sendmail puts them in class w itself, and they need no catch-all.

sendmail adds ``$w`` (the short name), ``$j`` (the canonical name) and the names it
finds for the host to class w at start-up, and the generated cf adds ``localhost``.
Mail to ``root@<host name>`` must keep reaching root: these names never get a catch-all.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from virtc.model import fold


def own_names(extra: Iterable[str] = ()) -> frozenset[str]:
    """``localhost`` and the name ``hostname`` prints for this machine (and its first label),
    plus ``extra`` (e.g. ``Dj`` of a sendmail.cf), folded."""
    names = {"localhost", "localhost.localdomain", *extra}
    try:
        host = os.uname().nodename  # what gethostname(2) returns, without importing socket
    except (AttributeError, OSError):
        host = ""
    if host:
        names |= {host, host.split(".")[0]}  # (no DNS lookup: lint must not wait on a resolver)
    return frozenset(fold(n).rstrip(".") for n in names if n)
