"""The `maestro` executable: `maestro --help` answered from the page click prints, stored; every
other command line goes to the CLI (`cli.py`).

Importing click costs 50 to 70 ms of CPU, two thirds of a cold `maestro --help`. The top-level page
depends on nothing but the command table and a terminal at least as wide as click's 80 columns, so
it is kept as click renders it (`help_page.py`, written by scripts/help_page.py; a test fails when
it differs from what click prints now). Narrower terminals get click's own rendering.
"""

from __future__ import annotations

import os
import sys

CLICK_MAX_WIDTH = 80   # click wraps help at min(columns, 80) - 2: every width from 80 up reads the same


def main() -> None:
    if sys.argv[1:] in (["--help"], ["-h"]) and terminal_columns() >= CLICK_MAX_WIDTH:
        sys.exit(_print_help())
    from .cli import main as cli_main

    cli_main()


def terminal_columns() -> int:
    """The columns click's help formatter sees (`shutil.get_terminal_size`, which costs an import)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or CLICK_MAX_WIDTH


def _print_help() -> int:
    from .help_page import PAGE

    try:
        sys.stdout.write(PAGE)
        sys.stdout.flush()
    except OSError as exc:   # as the CLI's error funnel words it: `maestro --help | true`
        sys.stderr.write(f"error: {exc.strerror or exc}\n")
        return 1
    return 0
