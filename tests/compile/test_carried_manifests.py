"""The TrainJob a resource template creates is validated from the object its manifest text was
written from (`render.carried_manifests`), not from the text parsed back: this holds only because
a load of that text gives the very object, every value of the same type."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from benchmarks.generate import make_project
from maestro.compile import compile_project
from maestro.errors import MaestroError
from maestro.project import load_project
from maestro.lower import lower
from maestro.render import carried_manifests
from maestro.targets import emit_all
from maestro.validation.embedded import read_manifest, resource_manifests

from .conftest import BUNDLE_DIR


def typed(value):
    """`value` with every scalar's type spelled out and mappings in key order: True is not 1 here,
    nor a tuple a list."""
    if isinstance(value, dict):
        return ("dict", sorted((key, typed(item)) for key, item in value.items()))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [typed(item) for item in value])
    return (type(value).__name__, value)


@pytest.mark.parametrize("seed", [3, 17])
def test_each_carried_object_is_what_its_text_reads_back(tmp_path: Path, seed: int) -> None:
    project = load_project(make_project(tmp_path / "p", 40, seed=seed, teams=4))
    with carried_manifests() as carried:
        outputs = [o for plan in lower(project).environments for o in emit_all(plan)]
    texts = [template["resource"]["manifest"] for o in outputs for template in _templates(o.body)
             if isinstance(template.get("resource"), dict)]
    assert texts and set(texts) <= set(carried)
    assert all(typed(read_manifest(text)) == typed(carried[text]) for text in texts)
    found = [m for o in outputs for _, m in resource_manifests(o.body, carried)]
    assert len(found) == len(texts) and all(any(m is carried[t] for t in texts) for m in found)


def test_nothing_is_carried_outside_the_scope_or_from_another() -> None:
    from maestro.render import manifest_text

    with carried_manifests() as outer:
        with carried_manifests() as inner:
            text = manifest_text({"apiVersion": "v1", "kind": "ConfigMap"})
        assert text in inner and text not in outer
    manifest_text({"apiVersion": "v1", "kind": "Secret"})   # with none open, nothing is kept
    assert len(outer) == 0


def test_a_trainjob_its_schema_refuses_fails_the_compile(tmp_path: Path) -> None:
    """The carried object really is validated: a TrainJob schema that refuses every runtime name."""
    project = make_project(tmp_path / "p", 12, seed=3, teams=2)
    schema_file = tmp_path / "schemas/crds/trainer.kubeflow.org/trainjob_v1alpha1.json"
    schema_file.parent.mkdir(parents=True)
    schema = json.loads(gzip.decompress((BUNDLE_DIR / "crds/trainer.kubeflow.org/trainjob_v1alpha1.json.gz").read_bytes()))
    schema["properties"]["spec"]["properties"]["runtimeRef"]["properties"]["name"]["pattern"] = "^nothing-matches$"
    schema_file.write_text(json.dumps(schema))
    with pytest.raises(MaestroError) as refused:
        compile_project(project, schema_locations=[str(tmp_path / "schemas")], jobs=1)
    assert any("TrainJob" in d.message and "runtimeRef" in ".".join(map(str, d.path)) + d.message
               for d in refused.value.diagnostics)


def _templates(body: dict) -> list[dict]:
    spec = body.get("spec") or {}
    spec = spec.get("workflowSpec", spec)
    return [t for t in spec.get("templates") or [] if isinstance(t, dict)]
