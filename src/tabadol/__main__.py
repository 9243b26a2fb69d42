"""`python -m tabadol` runs the CLI."""

from tabadol.cli.main import run

run()
