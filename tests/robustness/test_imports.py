"""The compile path stays light: it never imports the training stack (torch, pandas), nor rich off a
terminal, and `maestro --help` imports none of the libraries any command needs (pydantic, jsonschema,
ruamel, rich)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import WATCHDOG, maestro

PROBE = ("import sys\n"
         "from maestro.cli import run\n"
         "code = run(sys.argv[2:])\n"
         "heavy = sys.argv[1].split(',')\n"
         "print(code, ' '.join(sorted({m.split('.')[0] for m in sys.modules} & set(heavy))))\n")


def loaded_after(root: Path, heavy: tuple[str, ...], *args: str) -> tuple[int, set[str]]:
    """Run the CLI in a fresh interpreter; its exit code and which of `heavy` it imported."""
    result = subprocess.run([sys.executable, "-c", PROBE, ",".join(heavy), *args], cwd=root, capture_output=True,
                            text=True, timeout=WATCHDOG)
    code, _, modules = result.stdout.strip().splitlines()[-1].partition(" ")   # after the command's own output
    return int(code), set(modules.split())


@pytest.mark.parametrize("args", [("compile", "--check"), ("compile",), ("diff",)], ids=" ".join)
def test_the_compile_path_imports_no_training_stack(example: Path, args: tuple[str, ...]) -> None:
    assert maestro(example, "compile").returncode == 0
    assert loaded_after(example, ("torch", "pandas", "rich"), *args) == (0, set())


def test_help_imports_no_command_dependencies(example: Path) -> None:
    assert loaded_after(example, ("pydantic", "jsonschema", "ruamel", "torch", "pandas", "rich"), "--help") == (0, set())
