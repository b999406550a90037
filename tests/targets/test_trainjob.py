"""A train step spanning nodes: a Kubeflow Trainer TrainJob behind an Argo resource template.

What the compiled tree gives it, on the example `msft-return-multinode` (2 nodes x 2 GPUs in staging
and prod, one node in dev): the TrainJob's fields (the single-node step's image, command, resources,
node selector, tolerations, /dev/shm and pod security, nodes x GPUs workers), the template that
creates and watches it, the artifact store standing in for Argo's artifacts around it, the launcher
account with exactly the verbs Argo's executor uses, the rendezvous traffic between its pods only, and
the output check that validates the TrainJob against its schema.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from maestro.compile import compile_project
from maestro.errors import MaestroError
from maestro.targets import argo, platform, trainjob
from tests.robustness.restricted import violations
from tests.support import copy_examples

from .netpol import Pod, reaches
from .schema import errors

PIPELINE = "msft-return-multinode"
NAMESPACE = "quant-research-staging"
EXCHANGE = "artifacts/{{workflow.namespace}}/{{workflow.name}}/exchange"


def _env(plan, name):
    return next(e for e in plan.environments if e.name == name)


def _templates(plan, env="staging", pipeline=PIPELINE) -> dict:
    envplan = _env(plan, env)
    body = argo.workflow_template(envplan, next(p for p in envplan.pipelines if p.name == pipeline))
    return {t["name"]: t for t in body["spec"]["templates"]}


def _trainjob(plan, env="staging") -> dict:
    return yaml.safe_load(_templates(plan, env)["train"]["resource"]["manifest"])


def test_the_trainjob_runs_nodes_times_gpus_workers_of_the_single_node_step(plan) -> None:
    job = _trainjob(plan)
    trainer = job["spec"]["trainer"]
    assert (trainer["numNodes"], trainer["numProcPerNode"]) == (2, 2)
    assert trainer["image"] == "ghcr.io/acme/maestro-steps:0.1.0"
    assert trainer["command"] == ["torchrun", "--no-python", "maestro", "step", "train"]
    assert trainer["args"] == ["--spec", "/maestro/spec/spec.json", "--workdir", "/maestro/work",
                               "--run-id", "{{workflow.name}}", "--exchange", EXCHANGE]
    assert trainer["resourcesPerNode"] == {"requests": {"cpu": "8", "memory": "32Gi"},
                                           "limits": {"memory": "32Gi", "nvidia.com/gpu": "2"}}
    assert job["spec"]["runtimeRef"] == {"apiGroup": "trainer.kubeflow.org", "kind": "ClusterTrainingRuntime",
                                         "name": "torch-distributed"}
    assert job["metadata"]["generateName"] == "train-msft-return-multinode-"
    assert job["spec"]["activeDeadlineSeconds"] == 3 * 3600


def test_the_trainjob_gets_the_artifact_store_keys_by_reference_and_no_other_secret(plan) -> None:
    job = _trainjob(plan)
    assert job["spec"]["trainer"]["env"] == [
        {"name": "MAESTRO_ARTIFACT_ACCESS_KEY", "valueFrom": {"secretKeyRef": {"name": "ml-artifacts", "key": "accessKey"}}},
        {"name": "MAESTRO_ARTIFACT_SECRET_KEY", "valueFrom": {"secretKeyRef": {"name": "ml-artifacts", "key": "secretKey"}}}]
    assert "secret" not in json.dumps(job["spec"]["runtimePatches"]).replace("secretKey", "")


def _node_pod(job: dict) -> dict:
    """The node pod as the Trainer builds it: torch-distributed's `node` container, the TrainJob's
    trainer fields and its runtime patch applied."""
    patch = job["spec"]["runtimePatches"][0]["trainingRuntimeSpec"]["template"]["spec"]["replicatedJobs"][0]
    template = patch["template"]["spec"]["template"]
    trainer = job["spec"]["trainer"]
    container = {**template["spec"]["containers"][0], "image": trainer["image"], "command": trainer["command"],
                 "args": trainer["args"], "env": trainer["env"], "resources": trainer["resourcesPerNode"]}
    spec = {**template["spec"], "containers": [container]}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "node-0-0", **template["metadata"]}, "spec": spec}


def test_the_node_pods_have_the_gpu_placement_shm_and_meet_restricted(plan) -> None:
    pod = _node_pod(_trainjob(plan))
    spec = pod["spec"]
    assert spec["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-L4"}
    assert spec["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["dshm"]["emptyDir"] == {"medium": "Memory", "sizeLimit": "4Gi"}
    assert volumes["spec"] == {"name": "spec", "configMap": {"name": "msft-return-multinode-spec"}}
    mounts = {m["mountPath"]: m["name"] for m in spec["containers"][0]["volumeMounts"]}
    assert mounts == {"/maestro/work": "work", "/tmp": "tmp", "/maestro/spec": "spec", "/dev/shm": "dshm"}
    assert violations(pod) == [] and errors(pod) == []
    assert pod["metadata"]["labels"]["maestro.dev/step"] == "train"


def test_the_resource_template_creates_the_trainjob_and_waits_on_its_conditions(plan) -> None:
    template = _templates(plan)["train"]
    resource = {k: v for k, v in template["resource"].items() if k != "manifest"}
    assert resource == {"action": "create", "setOwnerReference": True,
                        "successCondition": "status.conditions.0.type == Complete",
                        "failureCondition": "status.conditions.0.type == Failed"}
    assert template["serviceAccountName"] == "quant-research-trainjob-launcher"
    assert template["activeDeadlineSeconds"] == 3 * 3600 + trainjob.WAIT_GRACE
    assert template["synchronization"] == {"semaphores": [{"configMapKeyRef": {
        "name": "quant-research-training-semaphore", "key": "trainings"}}]}
    assert template["retryStrategy"]["limit"] == 1   # staging's defaults
    patch = json.loads(template["podSpecPatch"])
    assert [c["name"] for c in patch["containers"]] == ["main"] and "initContainers" not in patch


# Argo parses the conditions as label selectors: keys must be qualified names, values label values.
SELECTOR = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]{0,61}[A-Za-z0-9]) == ([A-Za-z0-9][-A-Za-z0-9_.]*[A-Za-z0-9])$")


@pytest.mark.parametrize("condition", [trainjob.SUCCESS, trainjob.FAILURE])
def test_the_conditions_are_label_selectors_over_the_first_condition(condition: str) -> None:
    match = SELECTOR.match(condition)
    assert match and match.group(1) == "status.conditions.0.type"
    assert match.group(2) in ("Complete", "Failed")


def test_the_steps_around_the_trainjob_meet_in_the_artifact_store(plan) -> None:
    templates = _templates(plan)
    exchange = [a for a in templates["features"]["outputs"]["artifacts"] if a["name"] == "exchange"]
    assert exchange == [{"name": "exchange", "path": "/maestro/work/features", "archive": {"none": {}},
                         "s3": {"key": f"{EXCHANGE}/features"}}]
    for reader in ("evaluate", "gate", "publish"):
        train = next(a for a in templates[reader]["inputs"]["artifacts"] if a["name"] == "train")
        assert train == {"name": "train", "path": "/maestro/work/train", "s3": {"key": f"{EXCHANGE}/train"}}
    tasks = {t["name"]: t for t in templates["pipeline"]["dag"]["tasks"]}
    assert "arguments" not in tasks["train"]
    passed = [a["name"] for t in tasks.values() for a in t.get("arguments", {}).get("artifacts", [])]
    assert "train" not in passed and "features" in passed


def test_one_node_stays_a_container_step_without_the_exchange(plan) -> None:
    templates = _templates(plan, "dev")
    assert "container" in templates["train"] and "resource" not in templates["train"]
    assert all(a["name"] != "exchange" for a in templates["features"]["outputs"]["artifacts"])
    assert "exchange" not in json.dumps(templates)


def _objects(plan, env, namespace, kind):
    return {o.body["metadata"]["name"]: o.body for o in platform.emit(_env(plan, env))
            if o.body["kind"] == kind and o.body["metadata"]["namespace"] == namespace}


def test_the_launcher_account_may_create_and_get_trainjobs_and_nothing_more(plan) -> None:
    role = _objects(plan, "staging", NAMESPACE, "Role")["quant-research-trainjob-launcher"]
    assert role["rules"] == [
        {"apiGroups": ["argoproj.io"], "resources": ["workflowtaskresults"], "verbs": ["create", "patch"]},
        {"apiGroups": ["trainer.kubeflow.org"], "resources": ["trainjobs"], "verbs": ["create", "get"]}]
    binding = _objects(plan, "staging", NAMESPACE, "RoleBinding")["quant-research-trainjob-launcher"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "quant-research-trainjob-launcher",
                                    "namespace": NAMESPACE}]
    assert binding["roleRef"]["name"] == "quant-research-trainjob-launcher"
    # The workflow's own account, which custom steps run with, gets nothing new.
    workflow = _objects(plan, "staging", NAMESPACE, "Role")["quant-research-workflow"]
    assert "trainjobs" not in json.dumps(workflow)


@pytest.mark.parametrize(("env", "namespace", "launcher"), [
    pytest.param("staging", "quant-research-staging", True, id="multinode-pipeline"),
    pytest.param("prod", "quant-research-prod", True, id="multinode-pipeline-prod"),
    pytest.param("dev", "quant-research-dev", False, id="one-node-in-dev"),
    pytest.param("staging", "risk-lab-staging", False, id="no-multinode-pipeline"),
])
def test_the_launcher_and_the_rendezvous_exist_only_where_a_trainjob_runs(plan, env, namespace, launcher) -> None:
    accounts = _objects(plan, env, namespace, "ServiceAccount")
    policies = _objects(plan, env, namespace, "NetworkPolicy")
    assert (any(n.endswith("-trainjob-launcher") for n in accounts)) is launcher
    assert (f"maestro-allow-rendezvous-{PIPELINE}" in policies) is launcher


def _node(name: str, ip: str, pipeline: str = PIPELINE, jobset: bool = True) -> Pod:
    labels = {"maestro.dev/pipeline": pipeline, "maestro.dev/step": "train", "maestro.dev/team": "quant-research"}
    if jobset:
        labels["jobset.sigs.k8s.io/jobset-name"] = name
    return Pod("quant-research-prod", labels, ip)


@pytest.fixture(scope="module")
def prod_policies(plan) -> list[dict]:
    return list(_objects(plan, "prod", "quant-research-prod", "NetworkPolicy").values())


@pytest.mark.parametrize("port", [29500, 41234, 1024, 65535])
def test_the_nodes_of_a_trainjob_reach_each_other_for_rendezvous_and_collectives(prod_policies, port) -> None:
    first, second = _node("train-msft-return-multinode-ab12c", "10.244.3.1"), _node("train-msft-return-multinode-ab12c", "10.244.3.2")
    assert reaches(prod_policies, first, second, port) and reaches(prod_policies, second, first, port)


@pytest.mark.parametrize("caller", [
    pytest.param(Pod("quant-research-prod", {"maestro.dev/pipeline": PIPELINE, "maestro.dev/step": "backtest"}),
                 id="a-workflow-pod-of-the-pipeline"),
    pytest.param(_node("x", "10.244.3.9", jobset=False), id="an-argo-train-pod-without-jobset"),
    pytest.param(_node("train-aapl-direction-zz", "10.244.3.8", "aapl-direction"), id="another-pipelines-trainjob"),
    pytest.param(Pod("risk-lab-prod", {"maestro.dev/step": "train", "jobset.sigs.k8s.io/jobset-name": "y"}),
                 id="another-namespace"),
])
def test_nothing_else_reaches_a_trainjob_node(prod_policies, caller: Pod) -> None:
    assert not reaches(prod_policies, caller, _node("train-msft-return-multinode-ab12c", "10.244.3.2"), 29500)


def test_a_trainjob_node_reaches_the_artifact_store_but_not_the_internet(prod_policies) -> None:
    node = _node("train-msft-return-multinode-ab12c", "10.244.3.1")
    assert reaches(prod_policies, node, Pod("storage", {}, "10.20.0.5"), 443)
    assert not reaches(prod_policies, node, Pod("internet", {}, "93.184.216.34"), 443)


def test_every_emitted_trainjob_is_valid_against_its_schema(plan) -> None:
    for env in ("staging", "prod"):
        job = _trainjob(plan, env)
        assert errors(job) == [], env


def test_a_bad_trainjob_field_fails_the_compile_naming_the_trainjob(tmp_path, monkeypatch) -> None:
    root = copy_examples(tmp_path / "project")
    original = trainjob._trainer
    monkeypatch.setattr(trainjob, "_trainer", lambda plan, step: {**original(plan, step), "numNodes": "two"})
    with pytest.raises(MaestroError) as caught:
        compile_project(root, ["staging"])
    lines = [d.format() for d in caught.value.diagnostics]
    assert lines and all("workflowtemplate-msft-return-multinode.yaml" in line and "TrainJob train-msft-return-multinode-*"
                         in line and "numNodes" in line for line in lines), lines


def test_the_launcher_pod_argos_executor_alone_meets_restricted(plan) -> None:
    from tests.robustness.policy import merge_patch

    envplan = _env(plan, "staging")
    workflow = argo.workflow_template(envplan, next(p for p in envplan.pipelines if p.name == PIPELINE))
    template = _templates(plan)["train"]
    spec = {"serviceAccountName": template["serviceAccountName"], "securityContext": workflow["spec"]["securityContext"],
            "containers": [{"name": "main", "image": "quay.io/argoproj/argoexec:v4.1.2",
                            "command": ["argoexec", "resource", "create"]}]}
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "launcher"},
           "spec": merge_patch(spec, json.loads(template["podSpecPatch"]))}
    assert violations(pod) == [] and errors(pod) == []
