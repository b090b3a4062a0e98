"""`virtc diff`: what building a source now would change in the installed map."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click


@click.command("diff")
@click.argument("source", type=click.Path(readable=False, path_type=Path))
@click.argument("map_file", metavar="[MAP]", required=False, type=click.Path(readable=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@click.option("-f", "--no-fold", is_flag=True, help="Keys were not lower-cased (makemap -f).")
@click.option("-N", "--null", is_flag=True, help="Keys and values end in a NUL (makemap -N).")
@click.option("-r", "--replace", is_flag=True, help="A repeated key replaces the earlier one (makemap -r).")
@click.option("--sendmail-cf", metavar="FILE",
              help="Compare with the map the cf's virtuser K line names (its -f and -N too).")
def command(source: Path, map_file: Path | None, as_json: bool, no_fold: bool, null: bool,
            replace: bool, sendmail_cf: str | None) -> None:
    """Show which keys of MAP (default: SOURCE.db, or the map --sendmail-cf names) a build of
    SOURCE would add, remove or change.

    Exit status: 0 nothing would change, 1 something would, 2 error.
    """
    from virtc.maps.mapdiff import diff_source, render_text, to_json
    from virtc.maps.records import BuildOptions
    from virtc.source.parse import parse_file
    from virtc.writers.bdb import map_path

    if sendmail_cf is not None:
        from virtc.deploy.sendmail_cf import read_sendmail_cf
        from virtc.errors import VirtcError

        spec = read_sendmail_cf(sendmail_cf).virtuser
        if spec is None or spec.path is None or spec.type not in ("hash", "btree"):
            raise VirtcError(f"{sendmail_cf}: no hash or btree virtuser map to compare with")
        letters = "".join(f[1:] for f in spec.flags)
        no_fold, null = no_fold or not spec.fold_case, null or "N" in letters
        if map_file is None:
            map_file = Path(spec.path)
    opts = BuildOptions(foldcase=not no_fold, null=null, replace=replace, lint=False)
    table = parse_file(source)
    result = diff_source(table, map_path(map_file if map_file is not None else source), opts)
    if result.rejected:
        lines = "1 line" if result.rejected == 1 else f"{result.rejected} lines"
        click.echo(f"virtc: note: {source}: {lines} makemap rejects: makemap would "
                   "store the rest as shown, `virtc build` would write nothing (see `virtc lint`)",
                   err=True)
    if result.nul_mismatch:
        hint = "drop -N" if null else "pass -N"
        click.echo(f"virtc: note: the keys in {result.map} {'do not ' if null else ''}end in a NUL byte "
                   f"(makemap -N): {hint} to compare like with like", err=True)
    if as_json:
        click.echo(json.dumps(to_json(result), indent=2, ensure_ascii=False))
    elif sys.stdout.isatty() and not os.environ.get("NO_COLOR"):
        # Coloured as lint's output is on a terminal: added green, removed red, changed yellow.
        colour = {"+": "green", "-": "red", "~": "yellow"}
        for line in render_text(result).splitlines():
            fg = colour.get(line[:1])
            click.echo(click.style(line, fg=fg, bold=None if fg else True))
    else:
        click.echo(render_text(result), nl=False)
    sys.exit(1 if result.changes else 0)
