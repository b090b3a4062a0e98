"""The ``virtc`` program: the console script and ``python -m virtc`` start here."""

from __future__ import annotations

import gc


def main() -> None:
    """Run the command-line interface, starting without the cyclic garbage collector.

    Start-up (click, then the command's modules) builds some 100k long-lived objects
    and no garbage cycles: collecting while they load is wasted start-up time.
    The collector comes back once the command is loaded (``LazyGroup.get_command``).
    """
    gc.disable()
    from virtc import cli

    cli.collector_paused_for_start_up = True
    cli.main()


if __name__ == "__main__":
    main()
