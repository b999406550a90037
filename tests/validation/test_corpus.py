"""Acceptance: the 217 upstream Argo Workflows examples validate against the schemas shipped with Maestro.

Each file is validated as its own set (the examples are independent, as upstream's
examples/validation_test.go treats them). Three upstream files have real defects that
no schema can see but the API server rejects; they are pinned here, finding by finding.
"""

from __future__ import annotations

import pytest

from maestro.validation import load_documents, validate_documents
from maestro.validation.model import json_path

from .conftest import CORPUS, SCHEMAS, run_cli

FILES = sorted(p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*.yaml")) if CORPUS.is_dir() else []

# Upstream defects (argo-workflows v4.1.2 examples), each confirmed by reading the file.
KNOWN_DEFECTS = {
    "fun-with-gifs.yaml": [
        # `generateName` is indented under `labels`, so the Workflow has no name at all.
        ("$.metadata.name", "metadata.name or metadata.generateName is required"),
        ("$.metadata.labels.generateName", "invalid label value 'fun-with-gifs-'"),
    ],
    # `name: k8s-jobs` is inside a block-scalar annotation, so the Workflow has no name.
    "k8s-jobs.yaml": [("$.metadata.name", "metadata.name or metadata.generateName is required")],
    # `annotations:` appears twice in metadata; Go's strict YAML decoding (kubeconform -strict) refuses it.
    "k8s-patch-json-workflow.yaml": [("$.metadata.annotations", "duplicate key 'annotations'")],
}
pytestmark = pytest.mark.corpus


def test_corpus_is_complete():
    assert len(FILES) == 217, f"expected the 217 upstream example files in {CORPUS}"


@pytest.mark.parametrize("name", FILES, ids=FILES)
def test_upstream_example_validates(name):
    """The acceptance: every upstream file is valid, as with kubeconform (no -strict)."""
    results = validate_documents(load_documents([str(CORPUS / name)]), schema_locations=[str(SCHEMAS)], strict=False)
    assert results and all(r.status == "valid" for r in results), [(r.kind, r.name, r.errors) for r in results]


@pytest.mark.parametrize("name", FILES, ids=FILES)
def test_upstream_example_under_strict(name):
    """--strict adds the API server's metadata rules and Go's duplicate-key refusal: three real defects."""
    results = validate_documents(load_documents([str(CORPUS / name)]), schema_locations=[str(SCHEMAS)], strict=True)
    found = [(json_path(f.path), f.message) for r in results for f in r.errors]
    expected = KNOWN_DEFECTS.get(name, [])
    assert len(found) == len(expected), found
    for (path, message), (want_path, want_message) in zip(found, expected):
        assert path == want_path and want_message in message
    if not expected:
        assert results and all(r.status == "valid" for r in results), [(r.kind, r.name, r.status) for r in results]


def test_whole_corpus_in_one_run_counts():
    """All 228 documents in one CLI run are valid; namespace-less workflows are not paired with
    the ConfigMaps of other, unrelated examples."""
    result = run_cli("--schema-location", str(SCHEMAS), "--summary", str(CORPUS))
    assert result.exit_code == 0, result.stdout[-2000:]
    summary = result.stdout.strip().splitlines()[-1]
    assert summary == "Summary: 228 resources found in 217 files - Valid: 228, Invalid: 0, Errors: 0, Skipped: 0"


def test_whole_corpus_under_strict_finds_only_the_known_defects():
    result = run_cli("--strict", "--schema-location", str(SCHEMAS), "--summary", str(CORPUS))
    assert result.exit_code == 1
    failing = {line.split(":")[0].rsplit("/", 1)[-1] for line in result.stdout.splitlines()[:-1]}
    assert failing == set(KNOWN_DEFECTS)


def test_corpus_passes_without_strict_duplicate_key_check():
    results = validate_documents(load_documents([str(CORPUS / "k8s-patch-json-workflow.yaml")]),
                                 schema_locations=[str(SCHEMAS)], strict=False)
    assert [r.status for r in results] == ["valid"]
