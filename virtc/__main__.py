"""`python -m virtc` runs the command-line interface."""

from virtc.cli import main

main()
