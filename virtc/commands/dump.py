"""`virtc dump`: print a built map as makemap -u does."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command("dump")
@click.argument("map_file", metavar="MAP", type=click.Path(path_type=Path))
def command(map_file: Path) -> None:
    """Print every record of MAP as KEY<TAB>VALUE, as makemap -u does."""
    from virtc.writers.bdb import map_path, read_map

    out = sys.stdout.buffer
    for key, value in read_map(map_path(map_file)):
        out.write(key + b"\t" + value + b"\n")
