"""Shared helpers for the `maestro validate` tests: paths, fixtures, and runners."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from maestro.validation import Document, Result, load_documents, validate_documents
from maestro.validation.locations import BUNDLE_DIR
from tests.support import Outcome, maestro

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
# The schemas shipped with Maestro; given as a directory, the bundle is read as `-s bundle` reads it.
SCHEMAS = BUNDLE_DIR
CORPUS = SHARED / "corpora" / "argo-workflows-examples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# The upstream Argo Workflows examples: skipped (and reported once) without ../shared, see tests/conftest.py.
needs_corpus = pytest.mark.corpus


@pytest.fixture
def schemas() -> str:
    return str(SCHEMAS)


def fixture_bodies(name: str) -> list[dict]:
    """The documents of tests/validation/fixtures/NAME as plain dicts."""
    return [copy.deepcopy(d.body) for d in load_documents([str(FIXTURES / name)]) if isinstance(d, Document)]


def documents(bodies: list[dict], source: str = "mem.yaml") -> list[Document]:
    return [Document(source, i, 0, copy.deepcopy(body)) for i, body in enumerate(bodies)]


def validate_bodies(bodies: list[dict], **options) -> list[Result]:
    options.setdefault("schema_locations", [str(SCHEMAS)])
    return validate_documents(documents(bodies), **options)


def validate_text(text: str, source: str = "-", **options) -> list[Result]:
    import io

    options.setdefault("schema_locations", [str(SCHEMAS)])
    return validate_documents(load_documents(["-"], stdin=io.StringIO(text)), **options)


def run_cli(*args: str, input: str | None = None, env: dict | None = None) -> Outcome:
    """`maestro validate ARGS` in-process, through the real entry point (exit_code, stdout, stderr)."""
    environment = {"MAESTRO_SCHEMA_LOCATION": None, **(env or {})}  # CI sets it; tests choose their own
    return maestro(None, "validate", *args, input=input, env=environment)
