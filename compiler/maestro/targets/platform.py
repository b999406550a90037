"""Emit: namespace scaffolding, per environment, for every team namespace and every team.

In: an `EnvironmentPlan`. Out: per namespace (once, even when a fixed namespace pattern makes teams
share it): Namespace (Pod Security Standards `restricted`), NetworkPolicies, ResourceQuota,
LimitRange, the `artifact-repositories` ConfigMap and the ExternalSecrets; per team: the workflow
ServiceAccount, its least-privilege Role and RoleBinding, and the GPU semaphore ConfigMap; per team
with a pipeline whose train step spans nodes, the TrainJob launcher's ServiceAccount, Role and
RoleBinding (create and get on TrainJobs, nothing else).
"""

from __future__ import annotations

from typing import Iterable

from .. import names
from ..ir import EnvironmentPlan, EnvironmentSettings, TeamPlan
from .output import Output
from .objects import NamespacePlan, metadata, namespaces, outputs, resource
from .network import network_policies, rendezvous
from .storage import artifact_repositories, external_secrets

RBAC = "rbac.authorization.k8s.io/v1"
PSS_LEVEL = "restricted"
# Containers that state no requests still count against the quota with these; no default limits,
# because a default limit below a container's own request makes the pod invalid.
DEFAULT_REQUEST = {"cpu": "100m", "memory": "128Mi"}


def emit(plan: EnvironmentPlan) -> Iterable[Output]:
    settings = plan.settings
    result: list[Output] = []
    for ns in namespaces(plan):
        result += outputs(plan.name, ns.name, namespace_objects(ns, settings), ns.sources)
        spanning_pipelines = trainjob_pipelines(ns)
        for pipeline in spanning_pipelines:
            spanning = next(s.name for s in pipeline.steps if s.nodes > 1)   # train, or a custom trainer
            result += outputs(plan.name, ns.name, [rendezvous(ns, pipeline.name, spanning)], ns.sources_of([pipeline]))
        for team in ns.teams:
            result += outputs(plan.name, ns.name, team_objects(team, settings), ns.sources)
            if any(p.team == team.team for p in spanning_pipelines):
                result += outputs(plan.name, ns.name, launcher_objects(team), ns.sources)
    return result


def namespace_objects(ns: NamespacePlan, settings: EnvironmentSettings) -> list[dict]:
    return [
        namespace(ns),
        *network_policies(ns, settings.network),
        resource_quota(ns, settings),
        limit_range(ns),
        artifact_repositories(ns, settings.artifacts),
        *external_secrets(ns, settings.artifacts),
    ]


def team_objects(team: TeamPlan, settings: EnvironmentSettings) -> list[dict]:
    trainings = settings.gpu.max_concurrent_trainings
    return [service_account(team), role(team), role_binding(team), semaphore(team, trainings)]


def namespace(ns: NamespacePlan) -> dict:
    pss = {f"pod-security.kubernetes.io/{mode}": PSS_LEVEL for mode in ("enforce", "audit", "warn")}
    meta = metadata("Namespace", ns.name, {**ns.labels, **pss})
    return resource("v1", "Namespace", meta)


def resource_quota(ns: NamespacePlan, settings: EnvironmentSettings) -> dict:
    quota, gpu = settings.quota, settings.gpu.resource
    # Extended resources such as GPUs can only be limited through their `requests.` name.
    hard = {"requests.cpu": quota.cpu, "requests.memory": quota.memory, f"requests.{gpu}": str(quota.gpus)}
    meta = metadata("ResourceQuota", "maestro-quota", ns.labels, ns.name)
    return resource("v1", "ResourceQuota", meta, spec={"hard": hard})


def limit_range(ns: NamespacePlan) -> dict:
    limits = [{"type": "Container", "defaultRequest": dict(DEFAULT_REQUEST)}]
    meta = metadata("LimitRange", "maestro-defaults", ns.labels, ns.name)
    return resource("v1", "LimitRange", meta, spec={"limits": limits})


def service_account(team: TeamPlan) -> dict:
    meta = metadata("ServiceAccount", team.service_account, team.labels, team.namespace)
    return resource("v1", "ServiceAccount", meta)


# Argo's emissary executor (>= 3.4) only reports results through WorkflowTaskResults.
WORKFLOW_RULES = ({"apiGroups": ["argoproj.io"], "resources": ["workflowtaskresults"], "verbs": ["create", "patch"]},)


def role(team: TeamPlan) -> dict:
    meta = metadata("Role", team.service_account, team.labels, team.namespace)
    return resource(RBAC, "Role", meta, rules=[dict(r) for r in WORKFLOW_RULES])


def role_binding(team: TeamPlan, account: str | None = None) -> dict:
    account = account or team.service_account
    meta = metadata("RoleBinding", account, team.labels, team.namespace)
    ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": account}
    subjects = [{"kind": "ServiceAccount", "name": account, "namespace": team.namespace}]
    return resource(RBAC, "RoleBinding", meta, roleRef=ref, subjects=subjects)


def launcher_objects(team: TeamPlan) -> list[dict]:
    """The account of the train steps that span nodes, apart from the workflow's: custom steps run
    untrusted images with the workflow's token, and whoever may create a TrainJob may run any pod,
    mounting any Secret of the namespace. Only the resource template's pod (Argo's executor) has it."""
    account = names.trainjob_service_account(team.team)
    # Argo's executor creates the TrainJob (`kubectl create`) and polls it with GET until a condition
    # holds; the controller, not the executor, adds the Workflow ownerReference. No list, no watch.
    rules = [*(dict(r) for r in WORKFLOW_RULES),
             {"apiGroups": ["trainer.kubeflow.org"], "resources": ["trainjobs"], "verbs": ["create", "get"]}]
    return [resource("v1", "ServiceAccount", metadata("ServiceAccount", account, team.labels, team.namespace)),
            resource(RBAC, "Role", metadata("Role", account, team.labels, team.namespace), rules=rules),
            role_binding(team, account)]


def trainjob_pipelines(ns: NamespacePlan) -> tuple:
    """The pipelines of a namespace whose train step is a TrainJob (spans nodes)."""
    return tuple(p for p in ns.pipelines if any(s.nodes > 1 for s in p.steps))


def semaphore(team: TeamPlan, max_concurrent_trainings: int) -> dict:
    meta = metadata("ConfigMap", team.semaphore_configmap, team.labels, team.namespace)
    data = {names.SEMAPHORE_KEY: str(max_concurrent_trainings)}
    return resource("v1", "ConfigMap", meta, data=data)
