"""`virtc ldap sync`: serve the table from LDAP, for sendmail's own ldap map on every MX host."""

from __future__ import annotations

from pathlib import Path

import click

from virtc.commands.checked import checked_or_fail, ldap_options, no_lint_option, source_argument


@click.group("ldap")
def command() -> None:
    """Keep a directory's virtuser entries (FEATURE(virtusertable, LDAP)) equal to the table."""


@command.command("sync")
@source_argument
@click.option("--uri", required=True, help="The directory, e.g. ldap://ldap1.example.com or ldaps://...")
@ldap_options
@click.option("--bind-dn", required=True, metavar="DN", help="Who writes the entries.")
@click.option("--password-file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="A file whose first line is the bind password (never on the command line).")
@click.option("--starttls", is_flag=True, help="Upgrade an ldap:// connection with StartTLS.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=10, show_default=True,
              help="Seconds to wait for the server per operation.")
@click.option("--dry-run", is_flag=True, help="Print what would change; change nothing.")
@no_lint_option
def sync(source: Path, uri: str, base: str, cluster: str | None, host: str | None, bind_dn: str,
         password_file: Path, starttls: bool, timeout: float, dry_run: bool, no_lint: bool) -> None:
    """Make the directory's virtuser entries for a cluster or host equal to SOURCE.

    Lints first and refuses a table with errors, as build does. The fewest changes are
    made, in an order that never opens a domain: new rejects and entries first,
    deletions last. A second sync without a table change changes nothing.
    """
    from virtc.errors import VirtcError, fail
    from virtc.exports.ldap_entries import Scope, require_python_ldap
    from virtc.exports.ldap_sync import Directory, describe
    from virtc.exports.ldap_sync import sync as run_sync

    scope = Scope.parse(cluster=cluster, host=host)
    require_python_ldap()
    try:
        password = password_file.read_text(encoding="utf-8").split("\n", 1)[0]
    except (OSError, UnicodeDecodeError) as exc:
        raise VirtcError(f"{password_file}: cannot read the password: "
                         f"{getattr(exc, 'strerror', None) or exc}") from None
    checked = checked_or_fail(source, lint=not no_lint, target="ldap", what="the directory was not changed")
    directory = Directory(uri, bind_dn, password, starttls=starttls, timeout=timeout)
    try:
        plan = run_sync(checked.table, directory, base, scope, dry_run=dry_run)
    finally:
        directory.close()
    if plan.conflicts:
        for conflict in plan.conflicts:
            click.echo(f"virtc: {conflict}", err=True)
        fail(f"the directory was not changed: {len(plan.conflicts)} "
             f"conflict{'s' if len(plan.conflicts) != 1 else ''}", 1)
    for note in plan.shadowed:
        click.echo(f"virtc: warning: {note}", err=True)
    if dry_run:
        for line in describe(plan):
            click.echo(line)
    click.echo(f"virtc: {'would make' if dry_run else 'synced'} {uri} ({scope}): {plan.summary()}", err=True)
