"""Fixtures for the spec-language tests: temporary projects built from fixture trees, and the CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support import copy_examples, maestro as run_maestro

REPO = Path(__file__).resolve().parents[2]
CASES = Path(__file__).resolve().parent / "cases"
BASE = CASES / "_base"     # a frozen copy of the example environments, so fixture lines stay put


def lay_out(root: Path, *trees: Path) -> Path:
    """`root` with each tree copied over it in turn (later files replace earlier ones)."""
    for tree in trees:
        shutil.copytree(tree, root, dirs_exist_ok=True)
    (root / "pipelines").mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A copy of the repository's example pipelines and environments."""
    return copy_examples(tmp_path / "example")


@pytest.fixture
def maestro():
    """tests.support's `maestro`, in the current directory (the tests pass --root or chdir)."""
    return lambda *args: run_maestro(None, *args)
