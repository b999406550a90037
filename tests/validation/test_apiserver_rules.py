"""The kube-apiserver's own checks, offline: each case is a finding of tests/conformance.

A real API server refused each mutated object below, although its JSON Schema allows it (Go
validation of built-in kinds, CEL rules of CRDs). `maestro validate` must refuse it too, at that path,
so users without a server are protected.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from maestro.validation.rules.apiserver import quantity
from maestro.validation.model import json_path

from .conftest import fixture_bodies, validate_bodies
from .test_mutations import _delete, _find, _set

FIXTURE = "apiserver.yaml"
CM, ROLE, RB = ("ConfigMap", "team-settings"), ("Role", "team-workflow"), ("RoleBinding", "team-workflow")
NP, RQ, LR, WT = ("NetworkPolicy", "default-deny"), ("ResourceQuota", "quota"), ("LimitRange", "defaults"), ("WorkflowTemplate", "train")
TASK = "spec.templates.0.dag.tasks.1"

CASES = [
    ("configmap-key-with-space", CM, _set("data.not a key", "x"), "$.data['not a key']", "alphanumeric characters"),
    ("configmap-key-in-data-and-binary", CM, _set("binaryData", {"default-v1": "eA=="}), "$.binaryData['default-v1']",
     "both data and binaryData"),
    ("role-rule-without-verbs", ROLE, _set("rules.0.verbs", []), "$.rules[0].verbs", "at least one verb"),
    ("role-rule-without-api-groups", ROLE, _delete("rules.0.apiGroups"), "$.rules[0].apiGroups", "needs apiGroups"),
    ("role-non-resource-urls", ROLE, _set("rules.0.nonResourceURLs", ["/healthz"]), "$.rules[0].nonResourceURLs",
     "cannot grant nonResourceURLs"),
    ("rolebinding-foreign-api-group", RB, _set("roleRef.apiGroup", "example.com"), "$.roleRef.apiGroup",
     "must be 'rbac.authorization.k8s.io'"),
    ("rolebinding-unknown-role-kind", RB, _set("roleRef.kind", "Team"), "$.roleRef.kind", "'Role' or 'ClusterRole'"),
    ("rolebinding-unknown-subject", RB, _set("subjects.0.kind", "Robot"), "$.subjects[0].kind", "'ServiceAccount', 'User' or 'Group'"),
    ("networkpolicy-unknown-type", NP, _set("spec.policyTypes", ["Sideways"]), "$.spec.policyTypes[0]", "'Ingress' or 'Egress'"),
    ("quota-negative", RQ, lambda body: body["spec"]["hard"].update({"requests.cpu": "-1"}), "$.spec.hard['requests.cpu']", "greater than or equal to 0"),
    ("limitrange-request-above-max", LR, _set("spec.limits.0.max.cpu", "50m"), "$.spec.limits[0].defaultRequest.cpu",
     "less than or equal to max cpu"),
    ("limitrange-negative", LR, _set("spec.limits.0.defaultRequest.memory", "-1Mi"),
     "$.spec.limits[0].defaultRequest.memory", "greater than or equal to 0"),
    ("dag-task-depends-and-dependencies", WT, _set(f"{TASK}.dependencies", ["ingest"]), "$.spec.templates[0].dag.tasks[1].dependencies",
     "both 'depends' and 'dependencies'"),
    ("dag-task-depends-and-continue-on", WT, _set(f"{TASK}.continueOn", {"failed": True}), "$.spec.templates[0].dag.tasks[1].continueOn",
     "cannot use 'continueOn'"),
]


def test_fixture_is_valid():
    results = validate_bodies(fixture_bodies(FIXTURE))
    assert [(r.kind, r.name, r.status, r.errors) for r in results if r.status != "valid"] == []
    assert len(results) == 7


@pytest.mark.parametrize("target, mutate, path, words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_server_finding_is_caught_offline(target, mutate, path, words):
    bodies = fixture_bodies(FIXTURE)
    body = _find(bodies, *target)
    mutate(body)
    result = next(r for r in validate_bodies(bodies) if (r.kind, r.name) == target)
    assert result.status == "invalid"
    assert [(json_path(e.path), words in e.message) for e in result.errors] == [(path, True)], result.errors


@pytest.mark.parametrize("text, value", [
    ("500m", Fraction(1, 2)), ("2", Fraction(2)), ("1.5Gi", Fraction(3 * 2**29)), ("1e3", Fraction(1000)),
    ("-1", Fraction(-1)), (".5", Fraction(1, 2)), ("64Gi", Fraction(64 * 2**30)), (4, Fraction(4)),
    ("lots", None), ("1.5.1", None), ("", None), ("1Gb", None), (True, None),
])
def test_quantity(text, value):
    assert quantity(text) == value


@pytest.mark.parametrize("odd", [None, "x", 3, [], ["x"], {"x": None}, [{"x": [1]}]])
def test_rules_survive_fields_of_any_type(odd):
    """Wrong types are the schema's findings; the server rules must neither crash nor hide them."""
    from maestro.validation.rules import RULES

    for rule in (r for r in RULES if r.name.startswith(("k8s-", "argo-task-"))):
        for kind in rule.kinds:
            for field in ("data", "binaryData", "stringData", "rules", "roleRef", "subjects", "spec"):
                body = {"apiVersion": "v1", "kind": kind, "metadata": {"name": "a"},
                        "spec": {"templates": odd, "hard": odd, "limits": odd, "policyTypes": odd}}
                body[field] = odd
                list(rule.check(body, None))
