"""The ``virtc`` command: a thin shell over the library (virtc.maps.build, virtc.lint, ...)."""

from __future__ import annotations

import gc
import importlib
import importlib.util
import os
import signal
import sys
from typing import NoReturn

import click

from virtc import __version__
from virtc.errors import VirtcError, fail

collector_paused_for_start_up = False
"""Set by :mod:`virtc.__main__`, which starts the program with the cyclic collector off."""

COMMANDS = {
    # name: (module in virtc.commands, one-line purpose for --help)
    "lint": ("lint", "Report what makes sendmail do something you did not mean."),
    "rule": ("rule", "Explain a lint rule (or list them all)."),
    "build": ("build", "Compile a source into the .db map sendmail reads (atomic makemap)."),
    "dump": ("dump", "Print every record of a built map, as makemap -u does."),
    "query": ("query", "Show how sendmail resolves addresses through the table."),
    "domains": ("domains", "One row per domain: its catch-all, forwards, and whether it is open."),
    "makemap": ("makemap", "Drop-in makemap that writes atomically, and nothing on error."),
    "diff": ("diff", "Show what building the source would change in the installed map."),
    "fmt": ("fmt", "Lay a source out canonically without changing what makemap stores."),
    "export": ("export", "Translate the table for sendmail's LDAP map, Postfix or qmail."),
    "ldap": ("ldap", "Make an LDAP directory's virtuser entries equal to the table."),
    "probe": ("probe", "Ask every MX host whether it rejects unknown recipients at RCPT."),
}


class LazyGroup(click.Group):
    """Imports a subcommand's module only when it runs: `virtc --version` stays fast."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, (module, _) in COMMANDS.items() if _available(module)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS or not _available(COMMANDS[cmd_name][0]):
            return None
        module = importlib.import_module(f"virtc.commands.{COMMANDS[cmd_name][0]}")
        if collector_paused_for_start_up:
            _resume_collector()
        command: click.Command = module.command
        return command

    def resolve_command(self, ctx: click.Context,
                        args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            import difflib

            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            ctx.fail(f"No such command '{name}'.{hint}")
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _resume_collector() -> None:
    """Start-up is over: freeze what it loaded (that lives as long as the run, so the
    collector need never walk it again) and turn the collector back on."""
    global collector_paused_for_start_up
    collector_paused_for_start_up = False
    gc.freeze()
    gc.enable()


def _available(module: str) -> bool:
    return importlib.util.find_spec(f"virtc.commands.{module}") is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="virtc")
def cli() -> None:
    """Lint, build and query sendmail virtusertables safely."""


class Interrupted(BaseException):
    """A terminating signal, raised where the program is so that ``finally``/cleanup runs.

    Not a KeyboardInterrupt: click would turn that into a blank line and "Aborted".
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _terminate(signum: int, frame: object) -> NoReturn:
    raise Interrupted(signum)


def main() -> None:
    """Entry point: user errors are one line and exit 2, never a traceback."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _terminate)
    try:
        # Without standalone mode click returns ctx.exit()'s code instead of exiting.
        rc = cli(standalone_mode=False)
        sys.exit(rc if isinstance(rc, int) else 0)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except click.exceptions.Abort:
        fail("aborted", 130)
    except KeyboardInterrupt:
        fail("interrupted; nothing was changed", 130)
    except Interrupted as exc:
        fail(f"interrupted by {signal.Signals(exc.signum).name}; nothing was changed", 128 + exc.signum)
    except VirtcError as exc:
        fail(str(exc), exc.exit_code)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(1)
    except MemoryError:
        fail("out of memory; nothing was changed", 2)
    except Exception as exc:
        # A bug, not a user error: still one line (VIRTC_DEBUG=1 shows the traceback).
        if os.environ.get("VIRTC_DEBUG"):
            raise
        fail(f"internal error: {type(exc).__name__}: {exc} (please report it; "
             "VIRTC_DEBUG=1 shows the traceback)", 70)
