"""Seldon objects: exact Experiment bodies for A/B and shadow, Models, runtime, and the scheduler rules."""

from __future__ import annotations

import dataclasses

import pytest

from maestro.errors import MaestroError
from maestro.project import load_project
from maestro.targets import seldon
from maestro.validation import Document, validate_documents
from maestro.validation.model import json_path

from .conftest import pipeline_yaml, plan_of, write_project

LABELS = {
    "app.kubernetes.io/managed-by": "maestro", "maestro.dev/environment": "staging",
    "maestro.dev/team": "quant-research", "maestro.dev/pipeline": "demo",
}


@pytest.mark.parametrize(("mode", "weight", "expected"), [
    pytest.param("ab", 20, {
        "apiVersion": "mlops.seldon.io/v1alpha1", "kind": "Experiment",
        "metadata": {"name": "demo-ab-v2-w20", "namespace": "quant-research-staging", "labels": LABELS,
                     "annotations": {"argocd.argoproj.io/sync-wave": "5"}},
        "spec": {"default": "demo-v1",
                 "candidates": [{"name": "demo-v1", "weight": 80}, {"name": "demo-v2", "weight": 20}]},
    }, id="ab-80-20"),
    pytest.param("shadow", 15, {
        "apiVersion": "mlops.seldon.io/v1alpha1", "kind": "Experiment",
        "metadata": {"name": "demo-shadow-v2-w15", "namespace": "quant-research-staging", "labels": LABELS,
                     "annotations": {"argocd.argoproj.io/sync-wave": "5"}},
        "spec": {"default": "demo-v1", "candidates": [{"name": "demo-v1", "weight": 100}],
                 "mirror": {"name": "demo-v2", "percent": 15}},
    }, id="shadow-15"),
])
def test_experiment_body(tmp_path, mode: str, weight: int, expected: dict) -> None:
    root = write_project(tmp_path, {"demo": pipeline_yaml(mode=mode, weight=weight)})
    bodies = [o.body for o in seldon.emit(plan_of(root, "staging")) if o.body["kind"] == "Experiment"]
    assert bodies == [expected]


def test_a_weight_change_is_a_new_experiment(tmp_path) -> None:
    names = []
    for weight in (10, 20):
        root = write_project(tmp_path / str(weight), {"demo": pipeline_yaml(weight=weight)})
        names += [o.body["metadata"]["name"] for o in seldon.emit(plan_of(root, "staging"))
                  if o.body["kind"] == "Experiment"]
    assert names == ["demo-ab-v2-w10", "demo-ab-v2-w20"]


@pytest.mark.parametrize(("runtime", "requirements"), [
    pytest.param("triton", ["pytorch"], id="triton"),
    pytest.param("mlserver", ["mlflow"], id="mlserver"),
])
def test_models(tmp_path, runtime: str, requirements: list[str]) -> None:
    root = write_project(tmp_path, {"demo": pipeline_yaml(runtime=runtime)})
    models = {o.body["metadata"]["name"]: o.body for o in seldon.emit(plan_of(root, "staging"))
              if o.body["kind"] == "Model"}
    assert sorted(models) == ["demo-v1", "demo-v2"]
    assert models["demo-v1"]["spec"] == {
        "storageUri": "s3://acme-ml-staging/models/quant-research/demo/demo-aaaaaa", "requirements": requirements,
        "memory": "1Gi", "replicas": 2, "secretName": "ml-artifacts-rclone",
    }
    # The old version keeps serving until the new objects are synced and healthy.
    assert models["demo-v1"]["metadata"]["annotations"]["argocd.argoproj.io/sync-options"] == "PruneLast=true"


def test_runtime_and_server_sized_for_the_models(tmp_path) -> None:
    root = write_project(tmp_path, {"demo": pipeline_yaml(runtime="triton")})
    bodies = {o.body["kind"]: o.body for o in seldon.emit(plan_of(root, "staging"))}
    assert bodies["SeldonRuntime"]["spec"]["seldonConfig"] == "default"
    server = bodies["Server"]["spec"]
    assert (server["serverConfig"], server["replicas"]) == ("triton", 2)
    triton = next(c for c in server["podSpec"]["containers"] if c["name"] == "triton")
    assert triton["resources"] == {"requests": {"memory": "2048Mi"}}   # two 1Gi models on each replica


def test_no_serving_objects_without_served_pipelines(plan) -> None:
    prod = next(e for e in plan.environments if e.name == "prod")
    namespaces = {o.body["metadata"]["namespace"] for o in seldon.emit(prod)}
    assert namespaces == {"quant-research-prod"}   # risk-lab only trains


@pytest.mark.parametrize(("quantity", "expected"), [
    pytest.param("2Gi", 2 * 2**30, id="Gi"), pytest.param("512M", 512 * 10**6, id="M"),
    pytest.param("1.5Gi", 3 * 2**29, id="fraction"), pytest.param("1500", 1500, id="bytes"),
])
def test_quantity_bytes(quantity: str, expected: int) -> None:
    assert seldon.quantity_bytes(quantity) == expected


# --- Policy and name rules are enforced when the project is loaded, located in the spec. ---

@pytest.mark.parametrize(("candidate", "weight", "expected"), [
    pytest.param("v2", 30, [
        "pipelines/demo.yaml:19:61: error: spec.serving.experiment.candidate_weight: 30 exceeds prod's "
        "policy.max_candidate_weight 25 (environments/prod.yaml:44:5)",
    ], id="weight-above-max"),
    pytest.param("v1.1", 20, [
        "pipelines/demo.yaml:17:16: error: spec.serving.versions[1].name: 'v1.1' contains a dot; "
        "Seldon refuses dots in names, use '-'",
        "pipelines/demo.yaml:19:39: error: spec.serving.experiment.candidate: 'v1.1' contains a dot; "
        "Seldon refuses dots in names, use '-'",
    ], id="model-name-with-dot"),
])
def test_policy_errors_are_located(tmp_path, candidate: str, weight: int, expected: list[str]) -> None:
    root = write_project(tmp_path, {"demo": pipeline_yaml(candidate=candidate, weight=weight)})
    with pytest.raises(MaestroError) as caught:
        load_project(root)
    # The notes beside them say which checks a section's errors kept from running (tests/language).
    assert [d.format() for d in caught.value.diagnostics if d.severity == "error"] == expected


# --- Plans the spec layer would not produce: the Seldon rules refuse what they emit. ---

def _with_experiment(plan, pipeline_name, **changes):
    def patch(p):
        if p.name != pipeline_name:
            return p
        serving = p.serving
        experiment = dataclasses.replace(serving.experiment, **changes)
        return dataclasses.replace(p, serving=dataclasses.replace(serving, experiment=experiment))
    return dataclasses.replace(plan, pipelines=tuple(patch(p) for p in plan.pipelines))


def seldon_findings(plan) -> list[str]:
    """What the output check (validation/rules/seldon.py, as `maestro compile` runs it) says of the
    Seldon objects emitted for `plan`: `Kind name: path: message`."""
    documents = [Document(f"gitops/{o.path}", 0, 0, o.body) for o in seldon.emit(plan)]
    results = validate_documents(documents, schema_locations=["bundle"])
    return [f"{r.kind} {r.name}: {json_path(f.path)}: {f.message}" for r in results for f in r.errors]


@pytest.mark.parametrize(("changes", "expected"), [
    pytest.param({"candidate": "demo-v1"}, [
        "Experiment demo-ab-v2-w20: $.spec.candidates[1].name: candidate 'demo-v1' is listed twice; a model is a "
        "candidate of an experiment once",
    ], id="candidate-is-default"),
    pytest.param({"name": "demo.ab"}, [
        "Experiment demo.ab: $.metadata.name: Seldon Experiment name 'demo.ab' must consist of lowercase letters, "
        "digits and '-', starting and ending with a letter or digit (no dots)",
    ], id="name-with-dot"),
    pytest.param({"candidate": "demo-v9"}, [
        "Experiment demo-ab-v2-w20: $.spec.candidates[1].name: Model 'demo-v9' is not in namespace "
        "'quant-research-staging' (known: demo-v1, demo-v2)",
    ], id="unknown-model"),
])
def test_plans_seldon_would_reject_are_refused(tmp_path, changes: dict, expected: list[str]) -> None:
    root = write_project(tmp_path, {"demo": pipeline_yaml()})
    assert seldon_findings(_with_experiment(plan_of(root, "staging"), "demo", **changes)) == expected


def test_a_model_is_the_baseline_of_one_experiment_only(tmp_path) -> None:
    root = write_project(tmp_path, {"demo": pipeline_yaml(), "other": pipeline_yaml(name="other")})
    findings = seldon_findings(_with_experiment(plan_of(root, "staging"), "other", default="demo-v1"))
    assert ("Experiment other-ab-v2-w20: $.spec.default: model 'demo-v1' is already the default of experiment(s) "
            "demo-ab-v2-w20; a model may be the baseline of at most one experiment") in findings
