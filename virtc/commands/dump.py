"""`virtc dump`: print a built map as makemap -u does."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command("dump")
@click.argument("map_file", metavar="MAP", type=click.Path(readable=False, path_type=Path))
def command(map_file: Path) -> None:
    """Print every record of MAP as KEY<TAB>VALUE, as makemap -u does.

    Like makemap -u (which prints with ``%.*s``), key and value end at their first
    NUL byte, so maps built with -N dump the same as maps without.
    """
    from virtc.writers.bdb import map_path, read_map

    out = sys.stdout.buffer
    for key, value in read_map(map_path(map_file)):
        out.write(_c_string(key) + b"\t" + _c_string(value) + b"\n")


def _c_string(data: bytes) -> bytes:
    """What C's ``%.*s`` prints of ``data``: everything before the first NUL."""
    return data.split(b"\0", 1)[0]
