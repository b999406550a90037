"""Fixtures for compile tests: a temporary copy of the example project; the CLI is tests.support's."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.support import MAESTRO, copy_examples, maestro  # noqa: F401 (the tests import them from here)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the example specs (no compiled tree yet)."""
    return copy_examples(tmp_path / "project")


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file under `folder` (hidden ones too) with its content hash."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}
