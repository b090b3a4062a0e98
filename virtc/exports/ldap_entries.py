"""sendmail's LDAP virtuser map: one ``sendmailMTAMapObject`` entry per stored key.

``FEATURE(`virtusertable', `LDAP')`` looks a key up with the filter
``(&(objectClass=sendmailMTAMapObject)(|(sendmailMTACluster=C)(sendmailMTAHost=$j))
(sendmailMTAMapName=virtuser)(sendmailMTAKey=KEY))`` below the base DN, and reads
``sendmailMTAMapValue``. So each stored key (folded as makemap folds it, the first of
equal keys winning, as in the hash map) becomes the entry
``sendmailMTAKey=KEY,sendmailMTAMapName=virtuser,BASE`` for one cluster or one host;
the container ``sendmailMTAMapName=virtuser,BASE`` only gives them a place in the tree.
python-ldap writes the LDIF (RFC 2849) and escapes the DNs (RFC 4514).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from virtc.errors import VirtcError
from virtc.source.reader import encode
from virtc.table import Table

MAP_NAME = "virtuser"
OBJECT_CLASSES = (b"sendmailMTA", b"sendmailMTAMap", b"sendmailMTAMapObject")
CONTAINER_CLASSES = (b"sendmailMTA", b"sendmailMTAMap")
Attributes = dict[str, list[bytes]]


def require_python_ldap() -> None:
    try:
        import ldap  # noqa: F401
        import ldif  # noqa: F401
    except ImportError:
        raise VirtcError("LDAP support needs python-ldap: pip install 'virtc[ldap]' "
                         "(it builds against libldap2-dev and libsasl2-dev)") from None


@dataclass(frozen=True)
class Scope:
    """Whose entries these are: a cluster (``confLDAP_CLUSTER``) or one host (its ``$j``)."""

    attribute: str
    name: str

    @classmethod
    def parse(cls, *, cluster: str | None, host: str | None) -> Scope:
        if (cluster is None) == (host is None):
            raise VirtcError("give --cluster NAME or --host FQDN (exactly one): sendmail ignores an "
                             "entry with neither")
        if cluster is not None:
            return cls("sendmailMTACluster", cluster)
        assert host is not None
        return cls("sendmailMTAHost", host)

    def __str__(self) -> str:
        return f"{'cluster' if self.attribute == 'sendmailMTACluster' else 'host'} {self.name}"


def container_dn(base: str) -> str:
    return f"sendmailMTAMapName={MAP_NAME},{base}"


def entry_dn(key: str, base: str) -> str:
    from ldap.dn import escape_dn_chars

    text = encode(key).decode("utf-8", "replace")  # the key's bytes, as the attribute holds them
    return f"sendmailMTAKey={escape_dn_chars(text)},{container_dn(base)}"


def container_attributes() -> Attributes:
    return {"objectClass": list(CONTAINER_CLASSES), "sendmailMTAMapName": [MAP_NAME.encode()]}


def entry_attributes(key: str, value: str, scope: Scope) -> Attributes:
    return {
        "objectClass": list(OBJECT_CLASSES),
        "sendmailMTAMapName": [MAP_NAME.encode()],
        scope.attribute: [scope.name.encode()],
        # The source's own bytes: a DirectoryString must be UTF-8, which lint checks (VT301).
        "sendmailMTAKey": [encode(key)],
        "sendmailMTAMapValue": [encode(value)],
    }


def stored_records(table: Table) -> Iterator[tuple[str, str]]:
    """(key, value) as the hash map holds them: folded keys, the first of equal keys, in source order."""
    later = table.key_index.later
    for i, (key, value) in enumerate(zip(table.stored_keys, table.values)):
        if i not in later:
            yield key, value


def ldap_entries(table: Table, base: str, scope: Scope) -> Iterator[tuple[str, Attributes]]:
    """The container, then one entry per stored key: what ``ldap sync`` makes the directory hold."""
    yield container_dn(base), container_attributes()
    for key, value in stored_records(table):
        yield entry_dn(key, base), entry_attributes(key, value, scope)


def write_ldif(table: Table, base: str, scope: Scope, output: Path | None) -> None:
    """The entries as LDIF content records, to ``output`` (atomically) or standard output."""
    require_python_ldap()
    import ldif

    def pieces() -> Iterator[bytes]:
        """The LDIF a few thousand entries at a time (never the whole text at once)."""
        buffer = io.StringIO()
        writer = ldif.LDIFWriter(buffer)
        for n, (dn, attributes) in enumerate(ldap_entries(table, base, scope), 1):
            writer.unparse(dn, attributes)
            if not n % _PIECE:
                yield buffer.getvalue().encode("ascii")  # LDIFWriter base64-encodes the rest
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode("ascii")

    if output is None:
        for piece in pieces():
            sys.stdout.buffer.write(piece)
        sys.stdout.flush()
    else:
        from virtc.writers.atomic import replace_text

        replace_text(output, pieces())


_PIECE = 4096
