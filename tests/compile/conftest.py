"""Fixtures for compile tests: a temporary copy of the example project and the real CLI."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import copy_examples

MAESTRO = [sys.executable, "-m", "maestro"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the example specs (no compiled tree yet)."""
    return copy_examples(tmp_path / "project")


def maestro(root: Path, *args: str, check: bool = False) -> subprocess.CompletedProcess:
    result = subprocess.run([*MAESTRO, *args], cwd=root, capture_output=True, text=True, timeout=300)
    if check and result.returncode:
        raise AssertionError(f"maestro {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file under `folder` (hidden ones too) with its content hash."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}
