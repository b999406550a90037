"""The library API that `maestro compile` uses: in-memory documents, caching, light imports."""

from __future__ import annotations

import subprocess
import sys

from maestro.validation import Document, Finding, Result, load_documents, validate_documents
from maestro.validation import compiled as compiled_module

from .conftest import SCHEMAS, documents, fixture_bodies


def test_in_memory_documents_need_no_files():
    bodies = fixture_bodies("workflow.yaml")
    bodies[3]["spec"]["templates"][0]["dag"]["tasks"][1]["depends"] = "ghost"
    results = validate_documents([Document("gitops/dev/train.yaml", i, 0, b) for i, b in enumerate(bodies)],
                                 schema_locations=[str(SCHEMAS)])
    [bad] = [r for r in results if r.failed]
    assert (bad.source, bad.index, bad.line, bad.kind, bad.name, bad.namespace) == (
        "gitops/dev/train.yaml", 3, 0, "Workflow", "train-dag", "ml")
    assert bad.errors == [Finding("$.spec.templates[0].dag.tasks[1].depends",
                                  "depends names 'ghost', which is not a task of this DAG (tasks: evaluate, features, fetch, train)")]


def test_results_are_sorted_and_error_results_pass_through(tmp_path):
    (tmp_path / "b.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n---\nbroken: [\n")
    (tmp_path / "a.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    loaded = load_documents([str(tmp_path / "b.yaml"), str(tmp_path / "a.yaml")])
    assert [type(d).__name__ for d in loaded] == ["Document", "Result", "Document"]
    results = validate_documents(loaded)
    assert [(r.source.rsplit("/", 1)[-1], r.index, r.status) for r in results] == [
        ("a.yaml", 0, "valid"), ("b.yaml", 0, "valid"), ("b.yaml", 1, "error")]
    assert all(isinstance(r, Result) for r in results)


def test_validators_are_compiled_once_per_schema_file():
    bodies = [b for b in fixture_bodies("workflow.yaml") if b["kind"] == "Workflow"]
    validate_documents(documents(bodies), schema_locations=[str(SCHEMAS)])
    before = dict(compiled_module._compiled)
    many = []
    for i in range(50):
        body = {**bodies[0], "metadata": {**bodies[0]["metadata"], "name": f"train-{i}"}}
        many.append(body)
    results = validate_documents(documents(many), schema_locations=[str(SCHEMAS)])
    assert all(r.status == "valid" for r in results)
    assert compiled_module._compiled == before  # no schema was loaded or compiled again


def test_identical_invalid_documents_are_explained_once(monkeypatch):
    bodies = [b for b in fixture_bodies("seldon.yaml") if b["kind"] == "Model"]
    for body in bodies:
        body["spec"]["replicas"] = "three"
    calls = []
    original = compiled_module._check
    monkeypatch.setattr(compiled_module, "_check", lambda c, body: calls.append(1) or original(c, body))
    compiled_module._remembered.clear()
    first = validate_documents(documents(bodies * 3), schema_locations=[str(SCHEMAS)])
    validate_documents(documents(bodies), schema_locations=[str(SCHEMAS)])
    assert len(calls) == len(bodies)
    assert {(f.path, f.message) for r in first for f in r.errors} == {("$.spec.replicas", "expected integer, got string")}


def test_importing_the_command_is_light():
    code = ("import sys, maestro.validation, maestro.commands.validate; "
            "print(sorted(m for m in ('jsonschema', 'yaml', 'referencing', 'kubernetes_validate') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_non_json_bodies_are_still_checked():
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": object()}}
    [result] = validate_documents([Document("mem", 0, 0, body)])
    assert result.status == "invalid" and result.errors[0].path == "$.data.k"


def test_a_body_that_is_not_a_mapping_is_an_error():
    [result] = validate_documents([Document("mem", 0, 0, ["not", "a", "mapping"])])  # type: ignore[arg-type]
    assert result.status == "error" and result.errors[0].message == "a manifest must be a mapping"
