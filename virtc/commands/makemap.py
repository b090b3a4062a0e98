"""`virtc makemap`: a drop-in for sendmail's makemap that writes atomically, or nothing."""

from __future__ import annotations

import inspect
import sys
import textwrap

import click


@click.command(
    "makemap",
    add_help_option=False,
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.argument("argv", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def command(ctx: click.Context, argv: tuple[str, ...]) -> None:
    """makemap's switches, input (stdin), messages and exit codes; writes atomically or nothing.

    Use it as MAKEMAP = virtc makemap in /etc/mail/Makefile. Where makemap reports
    bad lines and still installs a partial map (exit 65), virtc makemap reports the
    same lines, exits 65 and leaves the old map as it was. See docs/integrations.md.
    """
    from virtc.maps.makemap import USAGE, run

    if list(argv) == ["--help"]:
        click.echo(USAGE.replace("Usage: makemap", "Usage: virtc makemap").replace("\n ", "\n       "))
        click.echo(textwrap.indent(inspect.cleandoc(ctx.command.help or ""), "  "))
        return
    # sys.exit, not ctx.exit: click's non-standalone mode returns Exit codes instead of exiting.
    sys.exit(run(list(argv), sys.stdin.buffer, sys.stdout.buffer, sys.stderr.buffer))
