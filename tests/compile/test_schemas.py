"""Every compiled document validates against the schemas shipped with Maestro and the controllers' rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from maestro.compile import compile_project
from maestro.validation import Document, validate_documents

from tests.support import REPO

FIXTURE = Path(__file__).parent / "fixtures" / "edge"


@pytest.mark.parametrize("root", [pytest.param(REPO, id="examples"), pytest.param(FIXTURE, id="edge-fixture")])
def test_every_document_validates(root: Path) -> None:
    tree = compile_project(root, validate=False).tree
    documents = [Document(o.path, 0, 0, o.body) for o in tree.outputs]
    results = validate_documents(documents, schema_locations=["bundle"])
    problems = [(r.source, r.status, [(f.path, f.message) for f in r.errors]) for r in results if r.status != "valid"]
    assert problems == []
    assert len(results) == len(tree.outputs) > 0
