"""Rules, kube-apiserver: what the API server refuses although the OpenAPI schema allows it.

In: one body (the `Corpus` is not needed). Out: `Diagnostic`s about paths of the body. Each rule here was
found by applying objects to a real kube-apiserver (tests/conformance): the built-in kinds' Go
validation (ConfigMap keys, RBAC rules and role references, NetworkPolicy types, quantities of
quotas and limit ranges) and the CEL rules (`x-kubernetes-validations`) of Argo's DAG tasks, which
no JSON Schema check evaluates.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Iterator

from ...errors import Diagnostic
from .corpus import Corpus, items, mapping, text


RBAC = "rbac.authorization.k8s.io"
_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_QUANTITY = re.compile(r"^([+-]?)(\d+\.?\d*|\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$")
_SUFFIX = {"n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": Fraction(1),
           "k": Fraction(10**3), "M": Fraction(10**6), "G": Fraction(10**9), "T": Fraction(10**12),
           "P": Fraction(10**15), "E": Fraction(10**18), "Ki": Fraction(2**10), "Mi": Fraction(2**20),
           "Gi": Fraction(2**30), "Ti": Fraction(2**40), "Pi": Fraction(2**50), "Ei": Fraction(2**60)}


def quantity(value: object) -> Fraction | None:
    """The value of a Kubernetes quantity ('500m', '2', '1.5Gi', '1e3'), or None if it is not one."""
    match = _QUANTITY.match(str(value)) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else None
    if match is None:
        return None
    sign, number, exponent, suffix = match.groups()
    amount = Fraction(number) * (Fraction(10) ** int(exponent[1:]) if exponent else _SUFFIX[suffix or ""])
    return -amount if sign == "-" else amount


# --- ConfigMap and Secret keys -----------------------------------------------------------------
def config_keys(body: dict, corpus: Corpus) -> Iterator[Diagnostic]:
    data, binary = mapping(body.get("data")), mapping(body.get("binaryData"))
    field = "stringData" if body.get("kind") == "Secret" else "binaryData"
    for section, keys in (("data", data), (field, mapping(body.get(field)))):
        for key in keys:
            if not isinstance(key, str) or len(key) > 253 or not _CONFIG_KEY.match(key) or key in (".", ".."):
                yield Diagnostic.about((section, key), f"key {key!r} must consist of alphanumeric characters, '-', '_' or '.' "
                                       "(at most 253, not '.' or '..')")
    if body.get("kind") == "ConfigMap":
        for key in sorted(set(data) & set(binary)):
            yield Diagnostic.about(("binaryData", key), f"key {key!r} is in both data and binaryData; a key may be in one only")


# --- RBAC --------------------------------------------------------------------------------------
def rbac_rules(body: dict, corpus: Corpus) -> Iterator[Diagnostic]:
    namespaced = body.get("kind") == "Role"
    for i, rule in enumerate(mapping(r) for r in items(body.get("rules"))):
        if not items(rule.get("verbs")):
            yield Diagnostic.about(("rules", i, "verbs"), "a rule needs at least one verb (e.g. 'get', 'list', '*')")
        if items(rule.get("nonResourceURLs")):
            if namespaced:
                yield Diagnostic.about(("rules", i, "nonResourceURLs"), "a Role (namespaced) cannot grant nonResourceURLs; use a ClusterRole")
            continue
        if "apiGroups" not in rule or not isinstance(rule.get("apiGroups"), list) or not rule["apiGroups"]:
            yield Diagnostic.about(("rules", i, "apiGroups"), "a resource rule needs apiGroups ('' for the core group)")
        if not items(rule.get("resources")):
            yield Diagnostic.about(("rules", i, "resources"), "a resource rule needs at least one resource")


_ROLE_KINDS = {"RoleBinding": ("Role", "ClusterRole"), "ClusterRoleBinding": ("ClusterRole",)}
_SUBJECT_GROUPS = {"ServiceAccount": "", "User": RBAC, "Group": RBAC}


def rbac_role_ref(body: dict, corpus: Corpus) -> Iterator[Diagnostic]:
    ref = mapping(body.get("roleRef"))
    if text(ref.get("apiGroup")) != RBAC:
        yield Diagnostic.about(("roleRef", "apiGroup"), f"roleRef.apiGroup must be {RBAC!r}, not {ref.get('apiGroup')!r}")
    allowed = _ROLE_KINDS[body["kind"]]
    if text(ref.get("kind")) not in allowed:
        yield Diagnostic.about(("roleRef", "kind"), f"roleRef.kind must be {' or '.join(map(repr, allowed))}, not {ref.get('kind')!r}")
    if not text(ref.get("name")):
        yield Diagnostic.about(("roleRef", "name"), "roleRef.name is required")
    for i, subject in enumerate(mapping(s) for s in items(body.get("subjects"))):
        kind = text(subject.get("kind"))
        if kind not in _SUBJECT_GROUPS:
            yield Diagnostic.about(("subjects", i, "kind"), f"subject kind must be 'ServiceAccount', 'User' or 'Group', not {kind!r}")
            continue
        if not text(subject.get("name")):
            yield Diagnostic.about(("subjects", i, "name"), "a subject needs a name")
        group = text(subject.get("apiGroup"))
        if group != _SUBJECT_GROUPS[kind] and not (kind == "ServiceAccount" and "apiGroup" not in subject):
            yield Diagnostic.about(("subjects", i, "apiGroup"), f"a {kind} subject's apiGroup must be {_SUBJECT_GROUPS[kind]!r}, not {group!r}")


# --- NetworkPolicy -----------------------------------------------------------------------------
def network_policy_types(body: dict, corpus: Corpus) -> Iterator[Diagnostic]:
    types = items(mapping(body.get("spec")).get("policyTypes"))
    for i, kind in enumerate(types):
        if kind not in ("Ingress", "Egress"):
            yield Diagnostic.about(("spec", "policyTypes", i), f"policy type {kind!r} is not 'Ingress' or 'Egress'")
    if len(types) > 2:
        yield Diagnostic.about(("spec", "policyTypes"), "at most two policy types ('Ingress', 'Egress')")


# --- quantities of ResourceQuota and LimitRange ------------------------------------------------
def quota_quantities(body: dict, corpus: Corpus) -> Iterator[Diagnostic]:
    for resource, value in mapping(mapping(body.get("spec")).get("hard")).items():
        amount = quantity(value)
        if amount is None:
            yield Diagnostic.about(("spec", "hard", resource), f"{value!r} is not a quantity (e.g. '500m', '16', '64Gi')")
        elif amount < 0:
            yield Diagnostic.about(("spec", "hard", resource), f"{value!r} must be greater than or equal to 0")


_LIMIT_ORDER = ("min", "defaultRequest", "default", "max")     # each at most the next, per resource


def limit_range_quantities(body: dict, corpus: Corpus) -> Iterator[Diagnostic]:
    for i, limit in enumerate(mapping(x) for x in items(mapping(body.get("spec")).get("limits"))):
        amounts: dict[str, dict[str, Fraction]] = {}
        for field in (*_LIMIT_ORDER, "maxLimitRequestRatio"):
            for resource, value in mapping(limit.get(field)).items():
                amount = quantity(value)
                path = ("spec", "limits", i, field, resource)
                if amount is None:
                    yield Diagnostic.about(path, f"{value!r} is not a quantity (e.g. '500m', '2', '1Gi')")
                elif amount < 0:
                    yield Diagnostic.about(path, f"{value!r} must be greater than or equal to 0")
                else:
                    amounts.setdefault(field, {})[resource] = amount
        for lower_index, lower in enumerate(_LIMIT_ORDER):
            for upper in _LIMIT_ORDER[lower_index + 1:]:
                for resource, low in amounts.get(lower, {}).items():
                    high = amounts.get(upper, {}).get(resource)
                    if high is not None and low > high:
                        yield Diagnostic.about(("spec", "limits", i, lower, resource), f"{lower} {resource} must be less than or equal to {upper} {resource}")


# --- Argo DAG tasks: the CRD's CEL rules -------------------------------------------------------
def dag_task_exclusions(body: dict, corpus: Corpus) -> Iterator[Diagnostic]:
    from .argo import workflow_spec

    spec, base = workflow_spec(body)
    for i, template in enumerate(mapping(t) for t in items(spec.get("templates"))):
        for j, task in enumerate(mapping(t) for t in items(mapping(template.get("dag")).get("tasks"))):
            path = base + ("templates", i, "dag", "tasks", j)
            if "depends" in task and "dependencies" in task:
                yield Diagnostic.about(path + ("dependencies",), "cannot use both 'depends' and 'dependencies' in one task")
            if "depends" in task and "continueOn" in task:
                yield Diagnostic.about(path + ("continueOn",), "cannot use 'continueOn' when using 'depends' (use depends results instead)")
