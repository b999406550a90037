"""Compiled trees against a real kube-apiserver: what no offline validator checks.

The server evaluates the full OpenAPI schemas with CEL rules, defaulting, name rules and strict field
validation, and shows drift: a second apply that moves a resourceVersion, or a field that reads back
differently, would keep Argo CD OutOfSync.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import pytest
import yaml

from maestro.validation import Document, validate_documents

from .conftest import SCHEMAS, Manifest
from .kube import Kube, Rejected, sync_order

pytestmark = pytest.mark.conformance
TREES = ["examples", "edge"]


def test_every_upstream_crd_is_established(established_crds) -> None:
    assert len(established_crds) >= 20
    assert [name for name, ok in established_crds.items() if not ok] == []


@pytest.mark.parametrize("tree", TREES)
def test_every_object_passes_a_dry_run_server_side_apply(applied, tree: str) -> None:
    run = applied(tree)
    assert len(run.manifests) > 20
    assert run.dry_run_rejections == []


@pytest.mark.parametrize("tree", TREES)
def test_objects_apply_for_real_in_sync_wave_order(applied, tree: str) -> None:
    run = applied(tree)
    assert run.apply_rejections == []
    assert len(run.first_versions) == len(run.manifests)
    by_source = {m.source: m for m in run.manifests}
    ordered = [sync_order(by_source[source].body) for source in run.order]
    assert ordered == sorted(ordered)
    assert by_source[run.order[0]].body["kind"] == "Namespace"
    waves = {o[1] for o in ordered}
    assert len(waves) > 1, "the tree should exercise more than one sync wave"


@pytest.mark.parametrize("tree", TREES)
def test_a_second_apply_changes_nothing(applied, tree: str) -> None:
    run = applied(tree)
    moved = {key: (rv, run.second_versions.get(key)) for key, rv in run.first_versions.items()
             if run.second_versions.get(key) != rv}
    assert moved == {}
    assert len(run.second_versions) == len(run.manifests)


def differences(emitted: Any, actual: Any, path: str = "$") -> list[str]:
    """Where `emitted` is not a subset of `actual`: each field Maestro sets must read back equal."""
    if isinstance(emitted, dict):
        if not isinstance(actual, dict):
            return [f"{path}: emitted a mapping, read back {actual!r}"]
        found = []
        for key, value in emitted.items():
            if key not in actual:
                found.append(f"{path}.{key}: emitted {value!r}, absent when read back")
            else:
                found.extend(differences(value, actual[key], f"{path}.{key}"))
        return found
    if isinstance(emitted, list):
        if not isinstance(actual, list) or len(actual) != len(emitted):
            return [f"{path}: emitted {emitted!r}, read back {actual!r}"]
        return [d for i, (e, a) in enumerate(zip(emitted, actual)) for d in differences(e, a, f"{path}[{i}]")]
    if emitted != actual or type(emitted) is not type(actual):
        return [f"{path}: emitted {emitted!r}, read back {actual!r}"]
    return []


def test_differences_finds_a_changed_a_missing_and_a_reordered_field() -> None:
    emitted = {"spec": {"a": "1", "b": [1, 2], "c": {"d": True}}}
    assert differences(emitted, {"spec": {"a": "1", "b": [1, 2], "c": {"d": True, "e": 0}}, "status": {}}) == []
    assert differences(emitted, {"spec": {"a": 1, "b": [2, 1], "c": {}}}) == [
        "$.spec.a: emitted '1', read back 1", "$.spec.b[0]: emitted 1, read back 2",
        "$.spec.b[1]: emitted 2, read back 1", "$.spec.c.d: emitted True, absent when read back"]


@pytest.mark.parametrize("tree", TREES)
def test_every_field_maestro_sets_reads_back_as_emitted(applied, tree: str) -> None:
    run = applied(tree)
    found = {m.source: differences(m.body, run.read_back.get(m.key, {})) for m in run.manifests}
    assert {source: d for source, d in found.items() if d} == {}


# -- each kind's check is live: a deliberately broken object of that kind is refused ----------------
def first_dag_task_with_depends(body: dict) -> dict:
    spec = body["spec"].get("workflowSpec", body["spec"])
    return next(t for template in spec["templates"] for t in (template.get("dag") or {}).get("tasks", [])
                if "depends" in t)


def breaking(path: list, value: Any = None, delete: bool = False) -> Callable[[dict], None]:
    def mutate(body: dict) -> None:
        node = body
        for step in path[:-1]:
            node = node[step]
        if delete:
            del node[path[-1]]
        else:
            node[path[-1]] = value
    return mutate


def both_depends_and_dependencies(body: dict) -> None:
    task = first_dag_task_with_depends(body)
    task["dependencies"] = [task["depends"]]


# kind -> (what the server must refuse, how to break an emitted object of that kind)
BREAKAGES: dict[str, tuple[str, Callable[[dict], None]]] = {
    "Namespace": ("name is not a DNS-1123 label", breaking(["metadata", "name"], "Not_A_Label")),
    "ConfigMap": ("data key with a space", breaking(["data", "not a key"], "x")),
    "ServiceAccount": ("boolean field given a string", breaking(["automountServiceAccountToken"], "yes")),
    "Role": ("a rule without verbs", breaking(["rules", 0, "verbs"], [])),
    "RoleBinding": ("roleRef outside rbac.authorization.k8s.io", breaking(["roleRef", "apiGroup"], "example.com")),
    "NetworkPolicy": ("unknown policy type", breaking(["spec", "policyTypes"], ["Sideways"])),
    "ResourceQuota": ("negative hard limit", breaking(["spec", "hard", "requests.cpu"], "-1")),
    "LimitRange": ("default request above the maximum", breaking(["spec", "limits", 0, "max"], {"cpu": "1m"})),
    "WorkflowTemplate": ("CEL: both depends and dependencies", both_depends_and_dependencies),
    "CronWorkflow": ("integer field given a string", breaking(["spec", "startingDeadlineSeconds"], "soon")),
    "Model": ("required storageUri missing", breaking(["spec", "storageUri"], delete=True)),
    "Experiment": ("candidates is not a list", breaking(["spec", "candidates"], "everyone")),
    "Server": ("replicas is not an integer", breaking(["spec", "replicas"], "many")),
    "SeldonRuntime": ("required seldonConfig missing", breaking(["spec", "seldonConfig"], delete=True)),
    "PrometheusRule": ("alert rule without expr", breaking(["spec", "groups", 0, "rules", 0, "expr"], delete=True)),
    "ExternalSecret": ("unknown store kind", breaking(["spec", "secretStoreRef", "kind"], "Vault")),
    "AppProject": ("destinations is not a list", breaking(["spec", "destinations"], "anywhere")),
    "ApplicationSet": ("generators is not a list", breaking(["spec", "generators"], {})),
    "Application": ("required project missing", breaking(["spec", "project"], delete=True)),
}


def first_of_each_kind(manifests: list[Manifest]) -> dict[str, Manifest]:
    found: dict[str, Manifest] = {}
    for manifest in manifests:
        found.setdefault(manifest.body["kind"], manifest)
    return found


@pytest.mark.parametrize("tree", TREES)
def test_a_broken_object_of_each_emitted_kind_is_rejected(applied, kube: Kube, tree: str) -> None:
    run = applied(tree)
    samples = first_of_each_kind(run.manifests)
    assert sorted(set(samples) - set(BREAKAGES)) == [], "add a breakage for each new kind Maestro emits"
    accepted, refused, broken_bodies = [], {}, {}
    for kind, manifest in samples.items():
        what, mutate = BREAKAGES[kind]
        broken = broken_bodies[kind] = copy.deepcopy(manifest.body)
        mutate(broken)
        try:
            kube.apply(broken, dry_run=True)
            accepted.append(f"{kind} ({what})")
        except Rejected as rejection:
            refused[kind] = (rejection.status, rejection.message[:200])
    assert accepted == []
    # What the server refuses, `maestro validate` refuses offline too (the rules of rules/apiserver.py).
    offline = validate_documents([Document(samples[kind].source, 0, 0, body) for kind, body in broken_bodies.items()],
                                 schema_locations=[str(SCHEMAS)])
    assert [(r.source, r.status) for r in offline if r.status != "invalid"] == []
    # A value of the wrong type fails server-side apply before validation, as a 500 that says so.
    assert {k: v for k, v in refused.items()
            if not (400 <= v[0] < 500 or v[0] == 500 and "failed to create typed patch object" in v[1])} == {}


def test_the_argocd_cm_health_patch_applies_as_a_merge_patch(kube: Kube, established_crds, compiled_trees) -> None:
    argocd_cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "argocd-cm", "namespace": "argocd"},
                 "data": {"url": "https://argocd.example.com"}}
    kube.apply(argocd_cm)
    for tree, root in compiled_trees.items():
        patches = sorted(root.rglob("*.patch.yaml"))
        assert [p.name for p in patches] == ["argocd-cm-seldon-health.patch.yaml"], tree
        patch = yaml.safe_load(patches[0].read_text())
        assert set(patch) == {"data"}
        assert {f"resource.customizations.health.mlops.seldon.io_{kind}" for kind in ("Model", "Experiment")} <= set(patch["data"])
        patched = kube.merge_patch(argocd_cm, patch)
        assert patched["data"] == {"url": "https://argocd.example.com", **patch["data"]}, tree


# -- what a resource template creates: the TrainJob of a train step that spans nodes ---------------
def embedded_trainjobs(run) -> list[tuple[str, dict]]:
    from maestro.validation.embedded import resource_manifests

    return [(m.source, manifest) for m in run.manifests for _, manifest in resource_manifests(m.body)
            if manifest.get("kind") == "TrainJob"]


@pytest.mark.parametrize("tree", TREES)
def test_every_trainjob_a_workflow_would_create_is_accepted_and_a_broken_one_refused(applied, kube: Kube, tree: str) -> None:
    """Created as Argo's executor creates it (POST with generateName; Argo's `{{...}}` placeholders
    stand in strings, which the server takes as they are), in a namespace the tree created, with the
    Trainer CRD's schema and CEL rules (the name's) evaluated. Trainer's own webhook does not run here."""
    jobs = embedded_trainjobs(applied(tree))
    assert jobs, "the tree should hold a train step that spans nodes"
    refused, accepted = [], []
    for source, job in jobs:
        try:
            kube.create(job, dry_run=True)
        except Rejected as rejection:
            refused.append((source, str(rejection)[:300]))
        broken = copy.deepcopy(job)
        broken["spec"]["trainer"]["numNodes"] = "two"
        try:
            kube.create(broken, dry_run=True)
            accepted.append(source)
        except Rejected:
            pass
    assert refused == [] and accepted == []
