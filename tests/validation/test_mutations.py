"""Mutations of valid fixture manifests, each caught at the right JSON path.

Every case starts from the valid documents of one fixture file, changes one thing,
validates the whole file as one set and expects a finding with exactly that path
(and a message containing the given words) on the changed document.
"""

from __future__ import annotations

from typing import Callable

import pytest

from maestro.validation.model import json_path

from .conftest import fixture_bodies, validate_bodies


FIXTURES = ("workflow.yaml", "cronworkflow.yaml", "seldon.yaml", "argocd.yaml", "builtins.yaml")
LONG = "x" * 64


@pytest.mark.parametrize("fixture", FIXTURES)
def test_fixture_is_valid(fixture):
    results = validate_bodies(fixture_bodies(fixture))
    assert [(r.kind, r.name, r.status, r.errors) for r in results if r.status != "valid"] == []


def _find(bodies: list[dict], kind: str, name: str) -> dict:
    return next(b for b in bodies if b["kind"] == kind and (b["metadata"].get("name") or b["metadata"].get("generateName")) == name)


def _set(path: str, value) -> Callable[[dict], None]:
    """A mutation setting the dotted `path` (list indexes as numbers) to `value`."""
    def apply(body: dict) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        target = body
        for part in parents:
            target = target[part]
        target[last] = value
    return apply


def _delete(path: str) -> Callable[[dict], None]:
    def apply(body: dict) -> None:
        *parents, last = path.split(".")
        target = body
        for part in parents:
            target = target[int(part) if part.isdigit() else part]
        del target[last]
    return apply


W, T = ("workflow.yaml", "Workflow", "train-dag"), "spec.templates"
DAG = "spec.templates.0.dag.tasks"
C = ("cronworkflow.yaml", "CronWorkflow", "nightly-train")
WT = ("cronworkflow.yaml", "WorkflowTemplate", "train-template")
ADHOC = ("cronworkflow.yaml", "Workflow", "adhoc-train-")
EXP = ("seldon.yaml", "Experiment", "iris-ab")
APP = ("argocd.yaml", "Application", "ml-dev")
DEPLOY = ("builtins.yaml", "Deployment", "model-server")

CASES = [
    # id, (fixture, kind, name), mutation, expected path, words in the message
    ("unknown-field", W, _set("spec.templates.1.container.imagePullPolicyy", "Always"),
     "$.spec.templates[1].container.imagePullPolicyy", 'unknown field "imagePullPolicyy"'),
    ("unknown-field-in-spec", W, _set("spec.entrypoints", "main"), "$.spec.entrypoints", "unknown field"),
    ("wrong-type", W, _set("spec.parallelism", "two"), "$.spec.parallelism", "expected integer, got string"),
    ("wrong-type-object", W, _set("spec.arguments.parameters", {"name": "epochs"}), "$.spec.arguments.parameters",
     "expected array, got object"),
    ("int-or-string-quantity", W, _set("spec.templates.1.container.resources.limits.cpu", [2]),
     "$.spec.templates[1].container.resources.limits.cpu", "expected integer or string, got array"),
    ("dangling-depends", W, _set(f"{DAG}.1.depends", "fetch && missing"),
     "$.spec.templates[0].dag.tasks[1].depends", "depends names 'missing'"),
    ("dangling-dependencies", W, _set(f"{DAG}.2.dependencies", ["fetch", "nope"]),
     "$.spec.templates[0].dag.tasks[2].dependencies[1]", "dependency 'nope' is not a task"),
    ("dag-cycle", W, _set(f"{DAG}.0.depends", "evaluate"), "$.spec.templates[0].dag.tasks[0]",
     "dependency cycle: fetch -> evaluate"),
    ("depends-syntax", W, _set(f"{DAG}.1.depends", "fetch &&"), "$.spec.templates[0].dag.tasks[1].depends",
     "cannot parse depends"),
    ("depends-unknown-result", W, _set(f"{DAG}.1.depends", "fetch.Finished"),
     "$.spec.templates[0].dag.tasks[1].depends", "unknown task result '.Finished'"),
    ("missing-template", W, _set(f"{DAG}.0.template", "stepp"), "$.spec.templates[0].dag.tasks[0].template",
     "template 'stepp' is not defined"),
    ("missing-entrypoint", W, _set("spec.entrypoint", "mian"), "$.spec.entrypoint", "template 'mian' is not defined"),
    ("missing-on-exit", W, _set("spec.onExit", "notfy"), "$.spec.onExit", "template 'notfy' is not defined"),
    ("undeclared-input", W, _set("spec.templates.1.container.args", ["{{inputs.parameters.msg}}"]),
     "$.spec.templates[1].container.args[0]", "no input parameter 'msg'"),
    ("undeclared-input-expression", W, _set("spec.templates.1.container.args", ["{{=inputs.parameters['n-1']}}"]),
     "$.spec.templates[1].container.args[0]", "no input parameter 'n-1'"),
    ("workflow-name-64", W, _set("metadata.name", "w" * 64), "$.metadata.name", "no more than 63 characters"),
    ("service-account-missing", W, _set("spec.serviceAccountName", "runner"), "$.spec.serviceAccountName",
     "ServiceAccount 'runner' is not in namespace 'ml'"),
    ("template-service-account-missing", W, _set("spec.templates.1.serviceAccountName", "runner"),
     "$.spec.templates[1].serviceAccountName", "ServiceAccount 'runner'"),
    ("semaphore-configmap-missing", W, _set("spec.synchronization.semaphores.0.configMapKeyRef.name", "locks"),
     "$.spec.synchronization.semaphores[0].configMapKeyRef.name", "ConfigMap 'locks' is not in namespace 'ml'"),
    ("semaphore-key-missing", W, _set("spec.synchronization.semaphores.0.configMapKeyRef.key", "trainng"),
     "$.spec.synchronization.semaphores[0].configMapKeyRef.key", "has no key 'trainng' (keys: training)"),
    ("template-semaphore-key-missing", W,
     _set("spec.templates.1.synchronization", {"semaphores": [{"configMapKeyRef": {"name": "semaphores", "key": "gpu"}}]}),
     "$.spec.templates[1].synchronization.semaphores[0].configMapKeyRef.key", "has no key 'gpu'"),
    ("artifact-repository-key-missing", W, _set("spec.artifactRepositoryRef.key", "v2"),
     "$.spec.artifactRepositoryRef.key", "ConfigMap 'artifact-repositories' has no key 'v2'"),
    ("artifact-repository-configmap-missing", W, _set("spec.artifactRepositoryRef.configMap", "repos"),
     "$.spec.artifactRepositoryRef.configMap", "ConfigMap 'repos' is not in namespace 'ml'"),
    ("cr-metadata-unknown-field", W, _set("metadata.nmae", "x"), "$.metadata.nmae", 'unknown field "nmae"'),
    ("cr-metadata-wrong-type", W, _set("metadata.annotations", ["a"]), "$.metadata.annotations",
     "expected object, got array"),
    ("cron-name-60", C, _set("metadata.name", "n" * 60), "$.metadata.name", "no more than 52 characters, this one has 60"),
    ("cron-schedule-range", C, _set("spec.schedules.0", "61 2 * * *"), "$.spec.schedules[0]", "minute field '61'"),
    ("cron-schedule-fields", C, _set("spec.schedules.1", "0 2 * *"), "$.spec.schedules[1]", "expected 5 fields"),
    ("cron-schedule-name", C, _set("spec.schedules.0", "0 2 * * MON-FRY"), "$.spec.schedules[0]", "day of week"),
    ("cron-descriptor", C, _set("spec.schedules.2", "@fortnightly"), "$.spec.schedules[2]", "unknown descriptor"),
    ("cron-every", C, _set("spec.schedules.2", "@every soon"), "$.spec.schedules[2]", "@every needs a positive duration"),
    ("cron-timezone", C, _set("spec.timezone", "Mars/Olympus_Mons"), "$.spec.timezone", "unknown time zone"),
    ("template-entrypoint-missing", WT, _set("spec.entrypoint", "mian"), "$.spec.entrypoint", "template 'mian'"),
    ("steps-template-missing", WT, _set("spec.templates.0.steps.0.0.template", "trian"),
     "$.spec.templates[0].steps[0][0].template", "template 'trian' is not defined"),
    ("template-ref-missing-template", ADHOC, _set("spec.templates.0.steps.0.0.templateRef.template", "trian"),
     "$.spec.templates[0].steps[0][0].templateRef.template",
     "template 'trian' is not defined in WorkflowTemplate 'train-template'"),
    ("experiment-default-not-candidate", EXP, _set("spec.default", "iris-v3"), "$.spec.default",
     "default 'iris-v3' is not one of the candidates (iris-v1, iris-v2)"),
    ("experiment-mirror-is-candidate", EXP, _set("spec.mirror.name", "iris-v2"), "$.spec.mirror.name",
     "mirror 'iris-v2' is also a candidate"),
    ("experiment-candidate-missing", EXP, _set("spec.candidates.1.name", "iris-v9"), "$.spec.candidates[1].name",
     "Model 'iris-v9' is not in namespace 'serving'"),
    ("experiment-missing-required", EXP, _delete("spec.candidates"), "$.spec.candidates",
     'missing required field "candidates"'),
    ("seldon-name-with-dot", ("seldon.yaml", "Pipeline", "iris-pipeline"), _set("metadata.name", "iris.pipeline"),
     "$.metadata.name", "no dots"),
    ("seldon-model-missing-required", ("seldon.yaml", "Model", "iris-shadow"), _delete("spec.storageUri"),
     "$.spec.storageUri", 'missing required field "storageUri"'),
    ("seldon-enum", ("seldon.yaml", "Pipeline", "iris-pipeline"), _set("spec.steps.0.inputsJoinType", "middle"),
     "$.spec.steps[0].inputsJoinType", "'middle' is not one of"),
    ("argocd-project-missing", APP, _set("spec.project", "ml-platfrom"), "$.spec.project",
     "AppProject 'ml-platfrom' is not in the set"),
    ("argocd-destination-denied", APP, _set("spec.destination.namespace", "kube-system"), "$.spec.destination",
     "does not allow destination server 'https://kubernetes.default.svc', namespace 'kube-system'"),
    ("argocd-destination-by-name", APP, _set("spec.destination", {"name": "gpu-cluster", "namespace": "ml-dev"}),
     "$.spec.destination", "does not allow destination cluster 'gpu-cluster'"),
    ("builtin-wrong-type", DEPLOY, _set("spec.replicas", "two"), "$.spec.replicas", "expected integer, got string"),
    ("builtin-unknown-field", DEPLOY, _set("spec.template.spec.containers.0.imagePullPolicyy", "Always"),
     "$.spec.template.spec.containers[0].imagePullPolicyy", 'unknown field "imagePullPolicyy"'),
    ("builtin-bad-name", DEPLOY, _set("metadata.name", "Model_Server"), "$.metadata.name",
     "invalid name 'Model_Server'"),
    ("namespace-bad-name", ("builtins.yaml", "Namespace", "ml"), _set("metadata.name", "ml.prod"), "$.metadata.name",
     "RFC 1123 label"),
    ("service-bad-name", ("builtins.yaml", "Service", "model-server"), _set("metadata.name", "1-server"),
     "$.metadata.name", "RFC 1035 label"),
]
CASES += [
    ("label-value-too-long", W, _set("metadata.labels", {"maestro.dev/environment": LONG}),
     "$.metadata.labels['maestro.dev/environment']", "invalid label value"),
    ("label-key-invalid", W, _set("metadata.labels", {"maestro.dev/-env": "dev"}),
     "$.metadata.labels['maestro.dev/-env']", "invalid label key"),
    ("annotation-key-invalid", W, _set("metadata.annotations", {"bad key": "x"}),
     "$.metadata.annotations['bad key']", "invalid annotation key"),
    ("annotations-too-large", W, _set("metadata.annotations", {"big": "x" * 262_200}), "$.metadata.annotations",
     "must be no more than 262144 bytes"),
    ("bad-generate-name", ADHOC, _set("metadata.generateName", "Adhoc-"), "$.metadata.generateName",
     "invalid generateName 'Adhoc-'"),
    ("no-name", W, _delete("metadata.name"), "$.metadata.name", "metadata.name or metadata.generateName is required"),
]


@pytest.mark.parametrize("target, mutate, path, words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_mutation_is_caught(target, mutate, path, words):
    fixture, kind, name = target
    bodies = fixture_bodies(fixture)
    changed = _find(bodies, kind, name)
    mutate(changed)
    results = validate_bodies(bodies)
    result = next(r for r, b in zip(_in_input_order(results), bodies) if b is changed)
    assert result.status == "invalid", result
    assert any(json_path(f.path) == path and words in f.message for f in result.errors), result.errors


def _in_input_order(results):
    return sorted(results, key=lambda r: r.index)


def test_model_is_baseline_of_one_experiment_only():
    bodies = fixture_bodies("seldon.yaml")
    second = {**_find(bodies, "Experiment", "iris-ab"), "metadata": {"name": "iris-canary", "namespace": "serving"}}
    results = validate_bodies(bodies + [second])
    flagged = {r.name: r.errors for r in results if r.status == "invalid"}
    assert set(flagged) == {"iris-ab", "iris-canary"}
    assert json_path(flagged["iris-ab"][0].path) == "$.spec.default"
    assert "already the default of experiment(s) iris-canary" in flagged["iris-ab"][0].message


def test_experiment_models_unchecked_without_models_in_namespace():
    bodies = [b for b in fixture_bodies("seldon.yaml") if b["kind"] == "Experiment"]
    bodies[0]["spec"]["candidates"][1]["name"] = "iris-v9"
    assert [r.status for r in validate_bodies(bodies)] == ["valid"]


def test_cross_object_checks_need_that_namespace_in_the_set():
    workflow = _find(fixture_bodies("workflow.yaml"), "Workflow", "train-dag")
    workflow["spec"]["serviceAccountName"] = "elsewhere"
    assert [r.status for r in validate_bodies([workflow])] == ["valid"]


def test_template_ref_unchecked_when_template_not_in_set():
    adhoc = _find(fixture_bodies("cronworkflow.yaml"), "Workflow", "adhoc-train-")
    adhoc["spec"]["templates"][0]["steps"][0][0]["templateRef"]["template"] = "anything"
    assert [r.status for r in validate_bodies([adhoc])] == ["valid"]
