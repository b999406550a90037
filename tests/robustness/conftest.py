"""Fixtures for robustness tests: example and generated projects, and what "located" and "converged"
mean. The CLI (in-process, and the real command for kill and signal tests) is tests.support's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmarks.generate import make_project

from tests.support import MAESTRO, REPO, WATCHDOG, copy_examples, maestro  # noqa: F401 (the tests import them from here)

# A refusal's every line: `file:line:col: error: ...`, or the closing count line; or, for a problem
# outside the specs (a file system's), the one line `error: ...`.
# A problem with a whole file (too large, unreadable, a refused link, empty) names the file alone:
# it has no line to point at, and is never given a made-up 1:1.
LOCATED = re.compile(r"^[^:\n]+:\d+:\d+: (?:error|note): \S|^\d+ error\(s\); nothing was written\.$"
                     r"|^[^:\n]+: error: (?:file is \d+ KiB|the file |cannot read file|is a symbolic link)")
OUTSIDE = re.compile(r"^error: \S")


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A copy of the example specs, not compiled yet."""
    return copy_examples(tmp_path / "example")


@pytest.fixture
def generated(tmp_path: Path):
    """make(count): a project of `count` pipelines generated from the examples (several teams)."""
    return lambda count, name="generated": make_project(tmp_path / name, count, seed=count)


def files_under(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (hidden ones too), by relative path."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_clean_refusal(code: int, err: str) -> None:
    """Exit 1 with only located lines, or 2 with a usage line; never a traceback."""
    assert code in (1, 2), err
    assert "Traceback" not in err and "internal error" not in err, err
    lines = err.splitlines()
    if code == 1 and not (len(lines) == 1 and OUTSIDE.match(lines[0])):
        unlocated = [line for line in lines if not LOCATED.match(line)]
        assert unlocated == [], err
