"""Seldon objects: exact Experiment bodies for A/B and shadow, Models, runtime, and the scheduler rules."""

from __future__ import annotations

import dataclasses

import pytest

from maestro.errors import MaestroError
from maestro.project import load_project
from maestro.targets import seldon

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
    assert [d.format() for d in caught.value.diagnostics] == expected


# --- Defensive checks of the emitter itself (plans the spec layer would not produce). ---

def _with_experiment(plan, pipeline_name, **changes):
    def patch(p):
        if p.name != pipeline_name:
            return p
        serving = p.serving
        experiment = dataclasses.replace(serving.experiment, **changes)
        return dataclasses.replace(p, serving=dataclasses.replace(serving, experiment=experiment))
    return dataclasses.replace(plan, pipelines=tuple(patch(p) for p in plan.pipelines))


@pytest.mark.parametrize(("changes", "expected"), [
    pytest.param({"candidate": "demo-v1"}, [
        "pipelines/demo.yaml:1:1: error: spec.serving.experiment: model 'demo-v1' appears twice in experiment "
        "'demo-ab-v2-w20' (candidates and mirror) (environment staging) (choose a candidate version other than the default)",
    ], id="candidate-is-default"),
    pytest.param({"name": "demo.ab"}, [
        "pipelines/demo.yaml:1:1: error: spec.serving.experiment: Seldon Experiment name 'demo.ab' is invalid "
        "(environment staging) (use lower-case letters, digits and '-'; Seldon refuses dots)",
    ], id="name-with-dot"),
    pytest.param({"candidate": "demo-v9"}, [
        "pipelines/demo.yaml:1:1: error: spec.serving.experiment: experiment 'demo-ab-v2-w20' refers to model "
        "'demo-v9', which is not served (environment staging)",
    ], id="unknown-model"),
])
def test_emitter_refuses_plans_seldon_would_reject(tmp_path, changes: dict, expected: list[str]) -> None:
    root = write_project(tmp_path, {"demo": pipeline_yaml()})
    plan = _with_experiment(plan_of(root, "staging"), "demo", **changes)
    with pytest.raises(MaestroError) as caught:
        list(seldon.emit(plan))
    assert [d.format() for d in caught.value.diagnostics] == expected


def test_a_model_is_the_baseline_of_one_experiment_only(tmp_path) -> None:
    root = write_project(tmp_path, {"demo": pipeline_yaml(), "other": pipeline_yaml(name="other")})
    plan = _with_experiment(plan_of(root, "staging"), "other", default="demo-v1")
    with pytest.raises(MaestroError) as caught:
        list(seldon.emit(plan))
    messages = [d.format() for d in caught.value.diagnostics]
    assert ("pipelines/other.yaml:1:1: error: spec.serving.experiment: model 'demo-v1' is already the baseline "
            "of experiment 'demo-ab-v2-w20' (environment staging) (a model can be the default of one experiment only)"
            ) in messages
