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
    from virtc.maps.makemap import dump_lines
    from virtc.writers.bdb import map_path

    if map_file.is_dir():
        from virtc.errors import VirtcError

        raise VirtcError(f"{map_file}: is a directory, not a map")
    sys.stdout.buffer.writelines(dump_lines(map_path(map_file), None))
