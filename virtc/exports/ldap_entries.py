"""sendmail's LDAP virtuser map: one sendmailMTAMapObject entry per stored key (not yet written)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from virtc.errors import VirtcError
from virtc.table import Table


@dataclass(frozen=True)
class Scope:
    cluster: str | None = None
    host: str | None = None

    @classmethod
    def parse(cls, *, cluster: str | None, host: str | None) -> Scope:
        return cls(cluster, host)


def write_ldif(table: Table, base: str, scope: Scope, output: Path | None) -> None:
    raise VirtcError("export ldif: not implemented yet")
