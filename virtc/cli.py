"""The ``virtc`` command: a thin shell over the library (virtc.build, virtc.lint, ...)."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import NoReturn

import click

from virtc import __version__
from virtc.errors import VirtcError


def _fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"virtc: {message}", err=True)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="virtc")
def cli() -> None:
    """Lint, build and query sendmail virtusertables safely."""


@cli.command()
@click.argument("source", type=click.Path(dir_okay=True, path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Map to write (default: SOURCE.db; '.db' is appended as makemap does).")
@click.option("--type", "dbtype", type=click.Choice(["hash", "btree"]), default="hash",
              show_default=True, help="Berkeley DB map type.")
@click.option("-f", "--no-fold", is_flag=True, help="Do not lower-case keys (makemap -f).")
@click.option("-N", "--null", is_flag=True, help="Store a trailing NUL with keys and values (makemap -N).")
@click.option("-r", "--replace", is_flag=True,
              help="A repeated key replaces the earlier one instead of failing (makemap -r).")
@click.option("--no-lint", is_flag=True,
              help="Skip the lint rules; makemap's own rejections still block the build.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
def build(source: Path, output: Path | None, dbtype: str, no_fold: bool, null: bool,
          replace: bool, no_lint: bool, quiet: bool) -> None:
    """Compile SOURCE into the Berkeley DB map sendmail reads (like makemap hash).

    The map is written atomically, and never when makemap would reject a line or
    lint finds an error: then every problem is printed and the old map stays.
    """
    from virtc.build import BuildOptions, blocking
    from virtc.build import build as run_build
    from virtc.formatters.concise import render

    opts = BuildOptions(dbtype=dbtype, foldcase=not no_fold, null=null, replace=replace,
                        lint=not no_lint)
    result = run_build(source, output, opts)
    sys.stderr.write(render(result.diagnostics))
    if not result.written:
        n = len(blocking(result.diagnostics))
        _fail(f"{result.output} not written: {n} error{'s' if n != 1 else ''} in {source}", 1)
    if not quiet:
        click.echo(f"virtc: wrote {result.output} ({result.records} records)", err=True)


@cli.command()
@click.argument("map_file", metavar="MAP", type=click.Path(path_type=Path))
def dump(map_file: Path) -> None:
    """Print every record of MAP as KEY<TAB>VALUE, as makemap -u does."""
    from virtc.writers.bdb import map_path, read_map

    out = sys.stdout.buffer
    for key, value in read_map(map_path(map_file)):
        out.write(key + b"\t" + value + b"\n")


def _terminate(signum: int, frame: object) -> NoReturn:
    # Turn SIGTERM into an exception so that temporary files are cleaned up.
    raise KeyboardInterrupt


def main() -> None:
    """Entry point: user errors are one line and exit 2, never a traceback."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        cli(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except click.exceptions.Abort:
        _fail("aborted", 130)
    except KeyboardInterrupt:
        _fail("interrupted; nothing was changed", 130)
    except VirtcError as exc:
        _fail(str(exc), exc.exit_code)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(1)
