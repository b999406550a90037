"""Emit: the Argo CD objects that apply one environment's gitops folder to its cluster.

In: an `EnvironmentPlan`. Out: in `<env>/argocd/` one AppProject per team namespace (the
environment's repo, its cluster and that one namespace; creating only its own Namespace; only the
namespaced kinds maestro emits) and an ApplicationSet whose list generator makes one Application per
team namespace, each with its folder and its project pinned; and `bootstrap/<env>.yaml`, the one
Application an operator applies by hand (project `default`) that syncs `<env>/argocd`.

An AppProject cannot restrict the source path, so the path is pinned by the generator instead: the
Application of namespace X reads only `<env>/X/` and its project allows only X, so a manifest in
one team's folder cannot reach another team's namespace, and a folder added by hand is not synced.
"""

from __future__ import annotations

import posixpath
from typing import Iterable

from .. import names
from ..errors import Diagnostic, raise_if_any
from ..ir import EnvironmentPlan
from ..language.environment import Environment
from .output import Output, object_path
from .objects import metadata, namespaces, resource

API = "argoproj.io/v1alpha1"
IN_CLUSTER = "https://kubernetes.default.svc"
# Large WorkflowTemplates overflow client-side apply's last-applied annotation (argo-cd #820);
# maestro emits each Namespace itself.
SYNC_OPTIONS = ["ServerSideApply=true", "CreateNamespace=false"]
# Every namespaced kind a maestro target can emit, used or not in this environment: when the last
# object of a kind goes away Argo CD must still be allowed to prune it, and the AppProject may be
# synced before the team's Application. Tests check that the targets emit nothing else.
NAMESPACED_KINDS = (
    ("", "ConfigMap"), ("", "LimitRange"), ("", "ResourceQuota"), ("", "ServiceAccount"),
    ("argoproj.io", "CronWorkflow"), ("argoproj.io", "WorkflowTemplate"),
    ("external-secrets.io", "ExternalSecret"),
    ("mlops.seldon.io", "Experiment"), ("mlops.seldon.io", "Model"),
    ("mlops.seldon.io", "SeldonRuntime"), ("mlops.seldon.io", "Server"),
    ("monitoring.coreos.com", "PrometheusRule"), ("networking.k8s.io", "NetworkPolicy"),
    ("rbac.authorization.k8s.io", "Role"), ("rbac.authorization.k8s.io", "RoleBinding"),
)


def emit(plan: EnvironmentPlan) -> Iterable[Output]:
    check_folders(plan)
    env, sources = plan.environment, (plan.source,)
    folder = names.ARGOCD_FOLDER
    bodies = [app_project(plan, ns.name) for ns in namespaces(plan)] + [application_set(plan)]
    result = [Output(object_path(plan.name, folder, body), body, sources) for body in bodies]
    return result + [Output(bootstrap_path(plan.name), bootstrap_application(plan.name, env), sources)]


def check_folders(plan: EnvironmentPlan) -> None:
    """A team namespace named like the Argo CD folder would be excluded from the ApplicationSet."""
    clash = [ns.name for ns in namespaces(plan) if ns.name == names.ARGOCD_FOLDER]
    raise_if_any([Diagnostic(plan.source, None, None, ("spec", "namespace"),
                             f"team namespace '{name}' collides with the folder gitops/{plan.name}/{name}",
                             "choose a namespace pattern that does not produce 'argocd'") for name in clash])


def bootstrap_path(env_name: str) -> str:
    return f"bootstrap/{env_name}.yaml"


def repo_path(env: Environment, *parts: str) -> str:
    """A path in the gitops repository: `<gitops.path>/<parts...>`."""
    base = env.spec.gitops.path.strip("/")
    return posixpath.join(*(p for p in (base, *parts) if p and p != "."))


def _meta(kind: str, name: str, env: Environment) -> dict:
    return metadata(kind, name, names.labels(env.metadata.name), env.spec.argocd.namespace)


def team_project(env_name: str, namespace: str) -> str:
    """The AppProject of one team namespace."""
    return names.fit(f"maestro-{env_name}-{namespace}")


def app_project(plan: EnvironmentPlan, namespace: str) -> dict:
    env = plan.environment
    spec = {
        "description": f"maestro: ML pipelines and serving of namespace {namespace} in environment {plan.name}",
        "sourceRepos": [env.spec.gitops.repo_url],
        "destinations": [{"server": env.spec.cluster, "namespace": namespace}],
        # The one cluster-scoped object a team folder holds is its own Namespace.
        "clusterResourceWhitelist": [{"group": "", "kind": "Namespace", "name": namespace}],
        "namespaceResourceWhitelist": [{"group": g, "kind": k} for g, k in sorted(NAMESPACED_KINDS)],
    }
    meta = _meta("AppProject", team_project(plan.name, namespace), env)
    return resource(API, "AppProject", meta, spec=spec)


def application_set(plan: EnvironmentPlan) -> dict:
    env = plan.environment
    elements = [{"namespace": ns.name, "project": team_project(plan.name, ns.name),
                 "path": repo_path(env, plan.name, ns.name)} for ns in namespaces(plan)]
    spec = {
        "goTemplate": True,
        "goTemplateOptions": ["missingkey=error"],
        "generators": [{"list": {"elements": elements}}],
        # Deleting the ApplicationSet (or a bad generator run) must not delete the workloads.
        "syncPolicy": {"preserveResourcesOnDeletion": True},
        "template": application_template(plan),
    }
    return resource(API, "ApplicationSet", _meta("ApplicationSet", names.argocd_project(plan.name), env), spec=spec)


def application_template(plan: EnvironmentPlan) -> dict:
    env = plan.environment
    git = env.spec.gitops
    meta = {"name": f"maestro-{plan.name}-{{{{.namespace}}}}", "labels": names.labels(plan.name)}
    spec = {
        "project": "{{.project}}",
        # recurse: the namespace folder's manual/ subfolder (hand-written manifests, kept on purpose) is
        # synced too; `maestro compile --check` fails on any other file maestro did not generate.
        "source": {"repoURL": git.repo_url, "targetRevision": git.revision, "path": "{{.path}}",
                   "directory": {"recurse": True}},
        "destination": {"server": env.spec.cluster, "namespace": "{{.namespace}}"},
        "syncPolicy": sync_policy(env),
    }
    return {"metadata": meta, "spec": spec}


def sync_policy(env: Environment) -> dict:
    argocd = env.spec.argocd
    policy: dict = {"syncOptions": list(SYNC_OPTIONS)}
    if argocd.auto_sync:
        policy["automated"] = {"prune": argocd.prune, "selfHeal": argocd.self_heal}
    return policy


def bootstrap_application(env_name: str, env: Environment) -> dict:
    git = env.spec.gitops
    # Argo CD's own objects live beside Argo CD, which need not run in the environment's cluster.
    spec = {
        "project": "default",
        "source": {"repoURL": git.repo_url, "targetRevision": git.revision,
                   "path": repo_path(env, env_name, names.ARGOCD_FOLDER)},
        "destination": {"server": IN_CLUSTER, "namespace": env.spec.argocd.namespace},
        "syncPolicy": sync_policy(env),
    }
    return resource(API, "Application", _meta("Application", f"maestro-{env_name}-bootstrap", env), spec=spec)
