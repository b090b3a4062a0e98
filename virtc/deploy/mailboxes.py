"""Which local users exist: passwd, aliases(5) and mailbox lists.

A forward to a local user that does not exist is the failure virtc exists for: with
a local mailer that checks users (``F=w``) sendmail rejects it at RCPT, without (LMTP
to Cyrus or Dovecot) it is accepted and bounced later, after the filters ran. Names
are folded: sendmail's local mailer folds user names, and alias names are looked up
folded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from virtc.errors import VirtcError
from virtc.model import fold
from virtc.source.read import read_source
from virtc.source.reader import decode

_ALIAS = re.compile(r"([^:\s#][^:]*?)\s*:")


def _text(path: str | Path, what: str) -> str:
    try:
        return decode(read_source(path))
    except VirtcError as exc:
        raise VirtcError(f"cannot read {what}: {exc}") from None


def parse_passwd(text: str) -> list[str]:
    """User names of passwd(5) lines (``getent passwd`` output too): the field before ':'."""
    return [fold(line.split(":", 1)[0].strip()) for line in text.split("\n")
            if line.strip() and not line.startswith("#") and ":" in line]


def parse_aliases(text: str) -> list[str]:
    """Alias names of an aliases(5) file, read as sendmail reads it: ``#`` lines and blank
    lines skipped, a line starting with a blank continues the previous one, the name ends
    at the first ':'."""
    out: list[str] = []
    for line in text.split("\n"):
        if not line.strip() or line.startswith("#") or line[0] in " \t":
            continue  # a comment, or a continuation of the previous alias's value
        m = _ALIAS.match(line)
        if m:
            out.append(fold(m.group(1).strip()))
    return out


def parse_mailboxes(text: str) -> list[str]:
    """One mailbox name per line (``doveadm user '*'``, a Cyrus list): the first word."""
    return [fold(line.split()[0]) for line in text.split("\n")
            if line.strip() and not line.lstrip().startswith("#")]


def read_mailbox_lists(users: Iterable[str | Path] = (), aliases: Iterable[str | Path] = (),
                       mailboxes: Iterable[str | Path] = ()) -> frozenset[str]:
    """Every name the given files list (folded); unreadable files are one-line errors."""
    names: set[str] = set()
    for path in users:
        names.update(parse_passwd(_text(path, "users")))
    for path in aliases:
        names.update(parse_aliases(_text(path, "aliases")))
    for path in mailboxes:
        names.update(parse_mailboxes(_text(path, "mailboxes")))
    return frozenset(names)


def exists(user: str, names: frozenset[str]) -> bool:
    """Whether the local user ``user`` is listed; ``user+detail`` counts as ``user``, as
    sendmail's local delivery strips the detail when the full name is not a user."""
    u = fold(user)
    return u in names or u.split("+", 1)[0] in names or u.partition("@")[0] in names
