"""`virtc export`: the table for another server (LDAP, Postfix, qmail), and what does not carry over."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from virtc.commands.checked import checked_or_fail, ldap_options, no_lint_option, source_argument
from virtc.diagnostics import Diagnostic


@click.group("export")
def command() -> None:
    """Translate the table for sendmail's LDAP map, Postfix or qmail.

    Each export refuses a table with errors, as build does; what the target cannot
    express exactly is reported in lint's format.
    """


@command.command("ldif")
@source_argument
@ldap_options
@click.option("-o", "--output", type=click.Path(dir_okay=False, readable=False, path_type=Path),
              help="LDIF file to write (default: standard output).")
@no_lint_option
def ldif(source: Path, base: str, cluster: str | None, host: str | None, output: Path | None,
         no_lint: bool) -> None:
    """Write SOURCE as LDIF for sendmail's LDAP virtuser map (FEATURE(virtusertable, LDAP))."""
    from virtc.exports.ldap_entries import Scope, require_python_ldap, write_ldif

    scope = Scope.parse(cluster=cluster, host=host)
    require_python_ldap()  # before the lint: a missing library is the one thing to say
    checked = checked_or_fail(source, lint=not no_lint, target="ldap")
    write_ldif(checked.table, base, scope, output)


@command.command("postfix")
@source_argument
@click.option("-o", "--output", "out_dir", required=True,
              type=click.Path(file_okay=False, readable=False, path_type=Path),
              help="Folder for virtual, virtual_domains, recipient_access and main.cf (created if missing).")
@click.option("--strict", is_flag=True, help="Exit 1 when any line does not translate exactly.")
@no_lint_option
def postfix(source: Path, out_dir: Path, strict: bool, no_lint: bool) -> None:
    """Write SOURCE as Postfix tables, and report every line Postfix reads differently."""
    from virtc.exports.postfix import export_postfix

    _report(export_postfix(checked_or_fail(source, lint=not no_lint).table, out_dir), strict)


@command.command("qmail")
@source_argument
@click.option("-o", "--output", required=True,
              type=click.Path(dir_okay=False, readable=False, path_type=Path),
              help="validrcptto.cdb to write (with --text: the control/validrcptto text).")
@click.option("--text", is_flag=True, help="Write the control/validrcptto text form instead of a cdb.")
@click.option("--strict", is_flag=True, help="Exit 1 when any line does not translate exactly.")
@no_lint_option
def qmail(source: Path, output: Path, text: bool, strict: bool, no_lint: bool) -> None:
    """Write SOURCE as qmail's validrcptto accept list, and report what it cannot express."""
    from virtc.exports.qmail import export_qmail, require_cdb

    if not text:
        require_cdb()  # before the lint: a missing library is the one thing to say
    _report(export_qmail(checked_or_fail(source, lint=not no_lint).table, output, text=text), strict)


def _report(diagnostics: list[Diagnostic], strict: bool) -> None:
    from virtc.formatters.concise import render

    sys.stderr.write(render(diagnostics))
    if strict and diagnostics:
        sys.exit(1)
