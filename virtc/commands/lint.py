"""`virtc lint`: report what makes sendmail do something you did not mean."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from virtc import progress
from virtc.errors import VirtcError
from virtc.speed.gcpause import paused_gc

if TYPE_CHECKING:
    from virtc.formatters import Report


def _codes(values: tuple[str, ...], option: str) -> frozenset[str] | None:
    if not values:
        return None
    from virtc.lint.config import ConfigError, resolve_codes, split_codes

    tokens = [t for v in values for t in split_codes(v)]
    if not tokens:
        raise ConfigError(f"{option}: no rule codes given")
    return resolve_codes(tokens, option)


@click.command("lint")
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@click.option("--local-domains", "local_domains", metavar="FILE",
              help="The domains sendmail treats as local (local-host-names format).")
@click.option("--sendmail-cf", metavar="FILE",
              help="The server's sendmail.cf (class w, VirtHost, the local mailer); "
                   "default: a sendmail.cf beside the table.")
@click.option("--users", multiple=True, metavar="FILE", help="Local users, passwd format (getent passwd).")
@click.option("--aliases", multiple=True, metavar="FILE", help="aliases(5) file: its names are local users.")
@click.option("--mailboxes", multiple=True, metavar="FILE",
              help="Mailbox names, one per line (doveadm user '*', a Cyrus list).")
@click.option("--target", type=click.Choice(["hash", "ldap"]), default=None,
              help="Where sendmail reads the map: ldap adds what a directory cannot hold "
                   "(default: the sendmail.cf's virtuser K line; hash without one).")
@click.option("--format", "fmt", type=click.Choice(["auto", "text", "json", "sarif", "github"]),
              default="auto", show_default=True,
              help="Output format; auto is github under GitHub Actions, else text.")
@click.option("--select", multiple=True, metavar="CODES",
              help="Run only these rules (comma list of codes, names or code prefixes).")
@click.option("--ignore", multiple=True, metavar="CODES", help="Do not run these rules.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default=None,
              help="Lowest severity that makes the exit status 1.  [default: warning]")
@click.option("--fix", is_flag=True, help="Apply the safe fixes in place, then report what remains.")
@click.option("--unsafe-fixes", is_flag=True,
              help="With --fix or --diff, also the unsafe fixes (they change which mail is accepted).")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff; change nothing.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the diagnostics, no summary.")
@click.option("--no-color", is_flag=True, help="No colours (also NO_COLOR=1).")
@click.option("--config", "config_file", type=click.Path(readable=False, path_type=Path), metavar="FILE",
              help="Use this .virtc.toml / pyproject.toml instead of searching for one.")
@click.option("--isolated", is_flag=True, help="Ignore configuration files.")
@click.option("-j", "--jobs", type=click.IntRange(1, 2), default=None, metavar="N",
              help="Processes for a large table (50k entries or more): 1 uses the least memory; "
                   "default 2 on a machine with two CPUs or more.")
def command(paths: tuple[str, ...], local_domains: str | None, sendmail_cf: str | None,
            users: tuple[str, ...], aliases: tuple[str, ...], mailboxes: tuple[str, ...],
            target: str | None, fmt: str, select: tuple[str, ...],
            ignore: tuple[str, ...], fail_on: str | None, fix: bool, unsafe_fixes: bool, diff: bool,
            quiet: bool,
            no_color: bool, config_file: Path | None, isolated: bool, jobs: int | None) -> None:
    """Lint virtusertable sources (default: ./virtusertable).

    Exit status: 0 when nothing at or above --fail-on was found, 1 when
    something was, 2 on a usage, file or configuration error. Configuration is
    read from the nearest .virtc.toml or pyproject.toml [tool.virtc] above each
    file; options given here win.
    """
    from virtc.diagnostics import Severity
    from virtc.formatters import Report
    from virtc.lint.config import config_for, load_config
    from virtc.lint.files import FileResult, lint_file
    from virtc.lint.runner import deployment_for

    sel, ign = _codes(select, "--select"), _codes(ignore, "--ignore") or frozenset()
    severity = Severity.parse(fail_on) if fail_on else None
    explicit = load_config(config_file) if config_file is not None else None
    if fmt == "auto":
        fmt = "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"

    results: list[FileResult] = []
    notes: list[str] = []
    status = 0
    bar = progress.wanted(sys.stderr, machine_readable=fmt in ("json", "sarif", "github"))
    for path in paths or ("virtusertable",):
        try:
            base = explicit or config_for(path, isolated=isolated)
            config = base.override(select=sel, ignore=ign, fail_on=severity, local_domains=local_domains,
                                   sendmail_cf=sendmail_cf, users=users, aliases=aliases,
                                   mailboxes=mailboxes, target=target)
            deployment = deployment_for(path, config)
            notes += [n for n in deployment.notes if n not in notes]
            # (the results live until the report is printed: the collector need not walk them)
            with progress.displayed(bar), paused_gc(keep=True):
                results.append(lint_file(path, config, deployment, fix=fix, diff=diff, unsafe=unsafe_fixes,
                                          jobs=jobs))
        except VirtcError as exc:
            click.echo(f"virtc: {exc}", err=True)
            status = 2

    filtered = [r.text for r in results if r.text is not None]  # --fix - : stdin to stdout
    if filtered:
        sys.stdout.buffer.write("".join(filtered).encode("latin-1"))
        sys.stdout.flush()
    if diff:
        sys.stdout.buffer.write("".join(r.diff for r in results).encode("latin-1", "replace"))
        sys.stdout.flush()
    elif results or status == 0:
        report = Report(
            [d for r in results for d in r.diagnostics],
            {r.table.path: r.table for r in results},
            files=len(results),
            fixed=sum(r.fixed for r in results),
            fail_on=severity or Severity.WARNING,
            unsafe_fixes=unsafe_fixes,
            notes=notes,
        )
        with paused_gc():  # (a large report: the collector would walk its diagnostics again and again)
            _print(report, fmt, quiet, no_color, sys.stderr if filtered else sys.stdout)
    if status == 0 and any(r.failed for r in results):
        status = 1
    if status:
        sys.exit(status)  # not click's Exit: cli.main runs click with standalone_mode=False


def _print(report: Report, fmt: str, quiet: bool, no_color: bool, stream: TextIO) -> None:
    if fmt == "text":
        from virtc.formatters.text import render_to

        render_to(report, stream, color=False if no_color else None, quiet=quiet)
        return
    if fmt in ("json", "sarif"):
        from virtc.formatters import json as json_format
        from virtc.formatters import sarif

        (json_format if fmt == "json" else sarif).render_to(report, stream)
        return
    from virtc.formatters.github import render_to as render_github

    render_github(report, stream, quiet=quiet)
