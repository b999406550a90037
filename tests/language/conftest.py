"""Fixtures for the spec-language tests: temporary projects built from fixture trees, and the real CLI."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import NamedTuple

import pytest

from maestro.cli import run
from tests.support import copy_examples

REPO = Path(__file__).resolve().parents[2]
CASES = Path(__file__).resolve().parent / "cases"
BASE = CASES / "_base"     # a frozen copy of the example environments, so fixture lines stay put


class Outcome(NamedTuple):
    code: int
    out: str
    err: str


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
def maestro(capsys: pytest.CaptureFixture[str]):
    """The `maestro` command in-process, through its real entry point and error funnel."""
    def call(*args: str) -> Outcome:
        capsys.readouterr()
        code = run([str(a) for a in args])
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)
    return call
