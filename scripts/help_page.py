#!/usr/bin/env python3
"""Write compiler/maestro/help_page.py: the top-level `maestro --help` page as click renders it at
80 columns, which `maestro.launch` prints without importing click.

    .venv/bin/python scripts/help_page.py           # after changing the command table or the group's help
    .venv/bin/python scripts/help_page.py --check   # exit 1 when the stored page is stale
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "compiler" / "maestro" / "help_page.py"
HEADER = ('"""`maestro --help` as click renders it at 80 columns or more, printed by `maestro.launch`.\n\n'
          'Written by scripts/help_page.py; tests/language/test_cli.py fails when click prints otherwise."""\n\n')


def rendered() -> str:
    """The page click prints for `maestro --help` on a terminal of 80 columns: the CLI itself, in a
    new process (click's test runner renders at a width of its own)."""
    env = {**os.environ, "COLUMNS": "80"}
    ran = subprocess.run([sys.executable, "-c", "from maestro.cli import main; main()", "--help"],
                         capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    if ran.returncode != 0:
        raise SystemExit(f"maestro --help failed: {ran.stderr}")
    return ran.stdout


def source(page: str) -> str:
    return f"{HEADER}PAGE = {page!r}\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the stored page differs, write nothing")
    args = parser.parse_args()
    wanted = source(rendered())
    current = TARGET.read_text() if TARGET.exists() else ""
    if args.check:
        print("help_page.py is up to date" if current == wanted else "help_page.py is stale: run scripts/help_page.py")
        return 0 if current == wanted else 1
    if current != wanted:
        TARGET.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
