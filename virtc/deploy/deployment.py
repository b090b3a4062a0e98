"""The deployment lint and query reason about: which domains are local, the host's own
names, which local users exist, and how the local mailer treats unknown ones.

Built from ``--sendmail-cf`` (or a ``sendmail.cf`` beside the table), ``--local-domains``
and the mailbox lists; without any of them virtc guesses as before (the table's own
domains are local) and says nothing about users.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from virtc.deploy.host import own_names
from virtc.deploy.mailboxes import read_mailbox_lists
from virtc.deploy.sendmail_cf import SendmailCf, read_sendmail_cf
from virtc.source.localdomains import read_local_domains


@dataclass(frozen=True)
class Deployment:
    local_domains: frozenset[str] | None = None
    """Class w and ``{VirtHost}`` (folded), or None: the table's own domains are assumed."""
    virthost_only: frozenset[str] = frozenset()
    """In ``{VirtHost}`` but not class w: unmatched addresses are relayed to the domain."""
    host_names: frozenset[str] = field(default_factory=own_names)
    mailboxes: frozenset[str] | None = None
    """Local users, aliases and mailboxes from the given lists, or None when none is given."""
    local_checks_users: bool | None = None
    """The cf's local mailer has ``F=w`` (sendmail rejects unknown users at RCPT); None: no cf."""
    entire_domain: bool = False
    cf: SendmailCf | None = None
    notes: tuple[str, ...] = ()
    """What was read, and warnings, for the text summary."""


def beside(table_path: str) -> Path | None:
    """``sendmail.cf`` in the table's directory (as in /etc/mail), if there is one."""
    if table_path in ("-", "<stdin>"):
        return None
    candidate = Path(table_path).parent / "sendmail.cf"
    return candidate if candidate.is_file() else None


def load_deployment(table_path: str, *, sendmail_cf: str | None = None,
                    local_domains: str | None = None, users: Sequence[str] = (),
                    aliases: Sequence[str] = (), mailboxes: Sequence[str] = ()) -> Deployment:
    """Read what the options name; a sendmail.cf beside the table is used when none is named."""
    notes: list[str] = []
    cf = None
    path = sendmail_cf
    if path is None:
        found = beside(table_path)
        if found is not None:
            path = str(found)
            notes.append(f"using {found} (beside the table; --sendmail-cf names another)")
    if path is not None:
        cf = read_sendmail_cf(path)
        notes.extend(cf.warnings)
    local: set[str] | None = None
    virthost_only: frozenset[str] = frozenset()
    hosts = set(own_names())
    if cf is not None:
        hosts |= {"localhost", *([cf.dj] if cf.dj else [])}
        local = {*cf.class_w, *cf.virthost}
        virthost_only = cf.virthost - cf.class_w
    if local_domains is not None:
        local = (local or set()) | set(read_local_domains(local_domains))
    lists = read_mailbox_lists(users, aliases, mailboxes) if (users or aliases or mailboxes) else None
    return Deployment(
        local_domains=frozenset(local) if local is not None else None,
        virthost_only=virthost_only,
        host_names=frozenset(hosts),
        mailboxes=lists,
        local_checks_users=cf.local_checks_users if cf is not None else None,
        entire_domain=cf.entire_domain if cf is not None else False,
        cf=cf,
        notes=tuple(notes),
    )
