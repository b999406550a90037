"""Stage 4, controller rules: checks across all documents given together.

In: the bodies to check and the bodies of every document of the run (the set
that references are resolved in).
Out: for each body to check, its problems as `Diagnostic`s (not located yet), from `RULES`:
an ordered tuple of small rule functions, each for some (API group, kind) pairs.
The rules are what the Argo Workflows, Seldon Core v2 and Argo CD controllers
enforce at run time, and what the kube-apiserver refuses beyond its OpenAPI
schemas (Go validation of built-in kinds, CEL rules), which no JSON Schema
check expresses.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from ...errors import Diagnostic
from . import apiserver, argo, argocd, crossref, seldon
from .corpus import ARGO, CORE, SELDON, Corpus, type_of


@dataclass(frozen=True)
class Rule:
    name: str
    group: str
    kinds: tuple[str, ...]
    check: Callable[[dict, Corpus], Iterable[Diagnostic]]


_NAMESPACED_WORKFLOWS = ("Workflow", "WorkflowTemplate", "CronWorkflow")

RULES: tuple[Rule, ...] = (
    Rule("argo-name-length", ARGO, argo.WORKFLOW_KINDS, argo.name_length),
    Rule("argo-dag-dependencies", ARGO, argo.WORKFLOW_KINDS, argo.dag_dependencies),
    Rule("argo-template-references", ARGO, argo.WORKFLOW_KINDS, argo.template_references),
    Rule("argo-input-parameters", ARGO, argo.WORKFLOW_KINDS, argo.input_parameters),
    Rule("argo-cron-schedules", ARGO, ("CronWorkflow",), argo.cron_schedules),
    Rule("argo-cron-timezone", ARGO, ("CronWorkflow",), argo.cron_timezone),
    Rule("argo-service-accounts", ARGO, _NAMESPACED_WORKFLOWS, crossref.service_accounts),
    Rule("argo-semaphores", ARGO, _NAMESPACED_WORKFLOWS, crossref.semaphores),
    Rule("argo-artifact-repository", ARGO, _NAMESPACED_WORKFLOWS, crossref.artifact_repository),
    Rule("seldon-names", SELDON, seldon.NAMED_KINDS, seldon.name_format),
    Rule("seldon-experiment-default", SELDON, ("Experiment",), seldon.default_is_candidate),
    Rule("seldon-unique-candidates", SELDON, ("Experiment",), seldon.unique_candidates),
    Rule("seldon-single-baseline", SELDON, ("Experiment",), seldon.single_baseline),
    Rule("seldon-candidates-exist", SELDON, ("Experiment",), seldon.candidates_exist),
    Rule("argocd-project-exists", ARGO, ("Application",), argocd.project_exists),
    Rule("argocd-destination-allowed", ARGO, ("Application",), argocd.destination_allowed),
    # What a real kube-apiserver refuses beyond the schemas (found by tests/conformance).
    Rule("argo-task-exclusions", ARGO, argo.WORKFLOW_KINDS, apiserver.dag_task_exclusions),
    Rule("k8s-config-keys", CORE, ("ConfigMap", "Secret"), apiserver.config_keys),
    Rule("k8s-rbac-rules", apiserver.RBAC, ("Role", "ClusterRole"), apiserver.rbac_rules),
    Rule("k8s-rbac-role-ref", apiserver.RBAC, ("RoleBinding", "ClusterRoleBinding"), apiserver.rbac_role_ref),
    Rule("k8s-network-policy-types", "networking.k8s.io", ("NetworkPolicy",), apiserver.network_policy_types),
    Rule("k8s-quota-quantities", CORE, ("ResourceQuota",), apiserver.quota_quantities),
    Rule("k8s-limit-range-quantities", CORE, ("LimitRange",), apiserver.limit_range_quantities),
)


def _by_type(rules: Sequence[Rule]) -> dict[tuple[str, str], list[Rule]]:
    table: dict[tuple[str, str], list[Rule]] = defaultdict(list)
    for rule in rules:
        for kind in rule.kinds:
            table[(rule.group, kind)].append(rule)
    return table


def run_rules(targets: Sequence[dict], everything: Iterable[dict],
              rules: Sequence[Rule] = RULES) -> list[list[Diagnostic]]:
    """The problems of each body in `targets`, in rule order, resolving references in `everything`."""
    corpus, table = Corpus(everything), _by_type(rules)
    return [[p for rule in table.get(type_of(body), ()) for p in rule.check(body, corpus)] for body in targets]
