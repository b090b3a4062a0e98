"""What export, ldap sync and probe share on the command line: refuse a table build would refuse."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable, TypeVar

import click

from virtc.errors import fail
from virtc.exports.checked import CheckedTable, checked_table

F = TypeVar("F", bound=Callable[..., Any])
NO_LINT_HELP = "Skip the lint rules; makemap's own rejections still block."


def checked_or_fail(source: Path, *, lint: bool, sendmail_cf: str | None = None, target: str | None = None,
                    what: str = "nothing was written") -> CheckedTable:
    """The checked table; its findings are printed as build prints them, and errors end the run
    with exit 1 (``what`` says what did not happen)."""
    from virtc.formatters.concise import render

    checked = checked_table(source, lint=lint, sendmail_cf=sendmail_cf, target=target)
    sys.stderr.write(render(checked.diagnostics))
    stopping = checked.blocking
    if stopping:
        n = len(stopping)
        lint_only = lint and any(d.code != "VT001" for d in stopping)
        hint = " (lint's errors; --no-lint skips the rules, makemap's own rejections still apply)" \
            if lint_only else ""
        fail(f"{what}: {n} error{'s' if n != 1 else ''} in {source}{hint}", 1)
    return checked


source_argument = click.argument("source", type=click.Path(dir_okay=False, readable=False, path_type=Path))
no_lint_option = click.option("--no-lint", is_flag=True, help=NO_LINT_HELP)


def ldap_options(f: F) -> F:
    """Where sendmail's LDAP map looks: the base DN and whose entries (cluster or host)."""
    f = click.option("--host", metavar="FQDN",
                     help="sendmailMTAHost of the entries: $j of the one host that reads them.")(f)
    f = click.option("--cluster", metavar="NAME",
                     help="sendmailMTACluster of the entries (confLDAP_CLUSTER).")(f)
    return click.option("--base", required=True, metavar="DN",
                        help="The base DN (-b in the cf's confLDAP_DEFAULT_SPEC).")(f)
