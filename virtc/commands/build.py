"""`virtc build`: compile a source into a map, atomically and never from a broken source."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from virtc import progress
from virtc.errors import fail
from virtc.maps.records import BuildOptions
from virtc.speed.gcpause import paused_gc


@click.command("build")
# readable=False: an unreadable source is reported by read_source in one line, not as a usage error.
@click.argument("source", type=click.Path(dir_okay=True, readable=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(readable=False, path_type=Path),
              help="Map to write (default: SOURCE.db; '.db' is appended as makemap does).")
@click.option("--type", "dbtype", type=click.Choice(["hash", "btree"]), default="hash",
              show_default=True, help="Berkeley DB map type.")
@click.option("-f", "--no-fold", is_flag=True, help="Do not lower-case keys (makemap -f).")
@click.option("-N", "--null", is_flag=True, help="Store a trailing NUL with keys and values (makemap -N).")
@click.option("-r", "--replace", is_flag=True,
              help="A repeated key replaces the earlier one instead of failing (makemap -r).")
@click.option("--no-lint", is_flag=True,
              help="Skip the lint rules; makemap's own rejections still block the build.")
@click.option("--sendmail-cf", metavar="FILE",
              help="The server's sendmail.cf, for lint and to check the map type and flags its "
                   "K line wants (default: a sendmail.cf beside SOURCE).")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
@click.option("-j", "--jobs", type=click.IntRange(1, 2), default=None, metavar="N",
              help="Processes for a large table (50k entries or more: lint and write at once): "
                   "1 uses the least memory; default 2 on a machine with two CPUs or more.")
def command(source: Path, output: Path | None, dbtype: str, no_fold: bool, null: bool,
          replace: bool, no_lint: bool, sendmail_cf: str | None, quiet: bool, jobs: int | None) -> None:
    """Compile SOURCE into the Berkeley DB map sendmail reads (like makemap hash).

    The map is written atomically, and never when makemap would reject a line or
    lint finds an error: then every problem is printed and the old map stays.
    """
    from virtc.formatters.concise import render
    from virtc.maps.build import build as run_build
    from virtc.maps.check import blocking

    opts = BuildOptions(dbtype=dbtype, foldcase=not no_fold, null=null, replace=replace,
                        lint=not no_lint, jobs=jobs, sendmail_cf=sendmail_cf)
    for note in [] if quiet else _cf_notes(source, opts):
        click.echo(f"virtc: warning: {note}", err=True)
    # (the table and its diagnostics live until they are printed: the collector need not walk them)
    with progress.displayed(not quiet and progress.wanted(sys.stderr)), paused_gc(keep=True):
        result = run_build(source, output, opts)
    stopping = blocking(result.diagnostics)
    # -q: only what stops the build.
    sys.stderr.write(render(stopping if quiet else result.diagnostics))
    if not quiet:
        for warning in result.warnings:
            click.echo(f"virtc: warning: {warning}", err=True)
    if not result.written:
        n = len(stopping)
        lint_only = opts.lint and any(d.code != "VT001" for d in stopping)
        hint = " (lint's errors; --no-lint builds anyway, makemap's own rejections still apply)" \
            if lint_only else ""
        fail(f"{result.output} not written: {n} error{'s' if n != 1 else ''} in {source}{hint}", 1)
    if not quiet:
        n = result.records
        click.echo(f"virtc: wrote {result.output} ({n} record{'' if n == 1 else 's'})", err=True)


def _cf_notes(source: Path, opts: BuildOptions) -> list[str]:
    """Where the map this build writes differs from what the cf's virtuser K line reads."""
    from virtc.deploy.deployment import beside
    from virtc.deploy.sendmail_cf import read_sendmail_cf

    path = opts.sendmail_cf or beside(str(source))
    if path is None:
        return []
    spec = read_sendmail_cf(path).virtuser
    if spec is None:
        return [f"{path} has no virtuser map: sendmail never reads this table"]
    notes = []
    if spec.type != opts.dbtype:
        notes.append(f"{path}:{spec.line}: sendmail reads the virtuser map as '{spec.type}', "
                     f"this build writes '{opts.dbtype}'")
    if spec.fold_case != opts.foldcase:
        notes.append(f"{path}:{spec.line}: the K line {'has' if not spec.fold_case else 'lacks'} -f: "
                     f"build {'with' if not spec.fold_case else 'without'} -f/--no-fold")
    letters = "".join(f[1:] for f in spec.flags)
    if ("N" in letters) != opts.null and "O" not in letters:
        notes.append(f"{path}:{spec.line}: the K line {'has' if 'N' in letters else 'lacks'} -N: "
                     f"build {'with' if 'N' in letters else 'without'} -N/--null")
    return notes
