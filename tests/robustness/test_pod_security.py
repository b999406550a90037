"""Every container of every workflow pod, Argo's own `init` and `wait` included, is admitted by a
namespace that enforces Pod Security "restricted"; every step's root file system is read-only and
its scratch space is an emptyDir.

The pods are the ones `policy.step_pods` models for the policy scan: what Argo's controller makes of
a container template, with the template's podSpecPatch applied.
"""

from __future__ import annotations

import json

import pytest

from maestro.compile import compile_project
from tests.support import REPO
from tests.targets.schema import errors

from .policy import merge_patch, step_pods
from .restricted import violations


@pytest.fixture(scope="module")
def workflow_templates() -> list[dict]:
    tree = compile_project(REPO, validate=False).tree
    return [o.body for o in tree.outputs if o.body["kind"] == "WorkflowTemplate"]


@pytest.fixture(scope="module")
def pods(workflow_templates) -> list[dict]:
    return [pod for template in workflow_templates for pod in step_pods(template)]


def _names(pod: dict, field: str) -> list[str]:
    return [c["name"] for c in pod["spec"].get(field, [])]


def test_the_modelled_pods_hold_argos_containers(pods) -> None:
    assert len(pods) > 20
    for pod in pods:
        assert _names(pod, "initContainers") == ["init"]
        assert _names(pod, "containers") == ["wait", "main"]   # the patch adds no container of its own


def test_every_container_of_every_workflow_pod_meets_restricted(pods) -> None:
    refused = {pod["metadata"]["name"]: violations(pod) for pod in pods}
    assert {name: found for name, found in refused.items() if found} == {}


def test_the_modelled_pods_are_valid_pods(pods) -> None:
    # A typo in the patch (a field Kubernetes does not know) would make the API server refuse the pod.
    assert {pod["metadata"]["name"]: errors(pod) for pod in pods if errors(pod)} == {}


def test_without_the_patch_argos_containers_would_be_refused(workflow_templates) -> None:
    """The exploit's setting: the controller gives `init` and `wait` no securityContext."""
    template = json.loads(json.dumps(workflow_templates[0]))
    for step in template["spec"]["templates"]:
        step.pop("podSpecPatch", None)
    found = violations(step_pods(template)[0])
    assert "initContainers[init]: allowPrivilegeEscalation is not false" in found
    assert "containers[wait]: capabilities.drop does not include ALL" in found
    assert not [line for line in found if "[main]" in line]


def test_every_step_template_patches_both_executor_containers(workflow_templates) -> None:
    for workflow in workflow_templates:
        for step in (t for t in workflow["spec"]["templates"] if "container" in t):
            patch = json.loads(step["podSpecPatch"])   # JSON: what every Argo code path reads
            assert sorted(patch) == ["containers", "initContainers"]
            assert [c["name"] for c in patch["initContainers"]] == ["init"]
            assert [c["name"] for c in patch["containers"]] == ["wait"]


def test_custom_steps_run_read_only_with_an_emptydir_for_scratch(workflow_templates) -> None:
    customs = [(w["metadata"]["name"], t) for w in workflow_templates for t in w["spec"]["templates"]
               if "container" in t and t["container"].get("image", "").startswith("ghcr.io/acme/backtest")]
    assert customs, "the example msft-momentum pipeline has a custom backtest step"
    for _, step in customs:
        container = step["container"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        volumes = {v["name"]: v for v in step["volumes"]}
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        assert volumes[mounts["/tmp"]] == {"name": mounts["/tmp"], "emptyDir": {}}


def test_every_step_container_has_a_read_only_root(pods) -> None:
    mains = [next(c for c in pod["spec"]["containers"] if c["name"] == "main") for pod in pods]
    assert all(c["securityContext"]["readOnlyRootFilesystem"] is True for c in mains)


@pytest.mark.parametrize(("patch", "expected"), [
    pytest.param({"containers": [{"name": "wait", "securityContext": {"privileged": False}}]},
                 [{"name": "wait", "image": "x", "securityContext": {"runAsUser": 1, "privileged": False}},
                  {"name": "main", "image": "y"}], id="merges-by-name"),
    pytest.param({"containers": [{"name": "sidecar", "image": "z"}]},
                 [{"name": "wait", "image": "x", "securityContext": {"runAsUser": 1}}, {"name": "main", "image": "y"},
                  {"name": "sidecar", "image": "z"}], id="unknown-name-is-added"),
])
def test_merge_patch_follows_strategic_merge_for_containers(patch: dict, expected: list[dict]) -> None:
    base = {"containers": [{"name": "wait", "image": "x", "securityContext": {"runAsUser": 1}},
                           {"name": "main", "image": "y"}]}
    assert merge_patch(base, patch)["containers"] == expected


def test_every_step_container_requests_cpu_and_memory_and_limits_memory(pods) -> None:
    # The scan's CKV_K8S_10/12/13 counts are all Argo's executor containers; this holds the steps'.
    for pod in pods:
        resources = next(c for c in pod["spec"]["containers"] if c["name"] == "main")["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]) and "memory" in resources["limits"], pod["metadata"]
