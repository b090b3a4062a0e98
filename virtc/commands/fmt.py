"""`virtc fmt`: lay sources out canonically, never changing what makemap stores."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command("fmt")
@click.argument("paths", metavar="PATH...", nargs=-1, required=True,
                type=click.Path(readable=False, path_type=Path))
@click.option("--check", is_flag=True, help="Change nothing; exit 1 if a file would be reformatted.")
@click.option("--diff", "show_diff", is_flag=True, help="Change nothing; print a unified diff.")
@click.option("--align", is_flag=True, help="Pad keys with spaces so values start in one column.")
def command(paths: tuple[Path, ...], check: bool, show_diff: bool, align: bool) -> None:
    """Reformat each PATH in place (atomically, keeping its mode); '-' filters stdin to stdout.

    KEY<TAB>VALUE lines, catch-alls last in each domain's run, comments kept with the
    line below them, single blank lines. Keys and values are never changed; files
    with VT001 errors are refused. Exit status: 0 done, 1 a file would change
    (--check/--diff) or was refused, 2 error.
    """
    from virtc.errors import VirtcError
    from virtc.layout import FormatRefused, format_table
    from virtc.lint.fix import text_diff
    from virtc.source.parse import parse_bytes
    from virtc.source.read import read_data
    from virtc.source.reader import encode
    from virtc.writers.atomic import replace_text

    status = 0
    for path in paths:
        try:
            data, name = read_data(path)  # "-" is stdin; bounded; a built map is refused
            table = parse_bytes(data, name)
            del data  # (the table holds the bytes until it decodes them: one copy of the text)
            new = format_table(table, align=align)
            old = table.text
        except VirtcError as exc:
            click.echo(f"virtc: {exc}", err=True)
            status = 2
            continue
        except FormatRefused as exc:
            click.echo(str(exc), err=True)
            status = max(status, 1)
            continue
        if str(path) == "-":
            sys.stdout.buffer.write(encode(new))
            continue
        if new == old:
            continue
        if show_diff:
            sys.stdout.buffer.write(encode(text_diff(old, new, f"{path}", f"{path} (formatted)")))
        if check or show_diff:
            if check:
                click.echo(f"would reformat {path}", err=True)
            status = max(status, 1)
            continue
        try:
            replace_text(path, encode(new))
        except VirtcError as exc:
            click.echo(f"virtc: {exc}", err=True)
            status = 2
            continue
        click.echo(f"reformatted {path}", err=True)
    sys.exit(status)
