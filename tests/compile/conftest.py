"""Fixtures for compile tests: a temporary copy of the example project; the CLI is tests.support's."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest

from maestro.validation.locations import BUNDLE_DIR
from tests.support import MAESTRO, copy_examples, maestro  # noqa: F401 (the tests import them from here)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the example specs (no compiled tree yet)."""
    return copy_examples(tmp_path / "project")


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file under `folder` (hidden ones too) with its content hash."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def refusing_model_schemas(folder: Path) -> Path:
    """A schema location holding Seldon's Model schema alone, changed to accept gs:// storage URIs only,
    so every example Model (s3://) is invalid. Given first, it overrides the shipped bundle for the
    Model and for nothing else."""
    model = folder / "crds/mlops.seldon.io/model_v1alpha1.json"
    model.parent.mkdir(parents=True)
    schema = json.loads(gzip.decompress((BUNDLE_DIR / "crds/mlops.seldon.io/model_v1alpha1.json.gz").read_bytes()))
    schema["properties"]["spec"]["properties"]["storageUri"]["pattern"] = "^gs://"
    model.write_text(json.dumps(schema))
    return folder


def refusals_by_jobs(project: Path, jobs: tuple[int, ...] = (1, 2), **options) -> list[list]:
    """The diagnostics a compile of `project` refuses it with, for each number of `jobs`."""
    from maestro.compile import compile_project
    from maestro.errors import MaestroError

    found = []
    for count in jobs:
        with pytest.raises(MaestroError) as refused:
            compile_project(project, jobs=count, **options)
        found.append(refused.value.diagnostics)
    return found
