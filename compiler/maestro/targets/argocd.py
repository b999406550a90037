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
from ..ir import EnvironmentPlan, GitopsLayout, SyncPolicy
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
    sources, folder = (plan.source,), names.ARGOCD_FOLDER
    bodies = [app_project(plan, ns.name) for ns in namespaces(plan)] + [application_set(plan)]
    result = [Output(object_path(plan.name, folder, body), body, sources) for body in bodies]
    return result + [Output(bootstrap_path(plan.name), bootstrap_application(plan.name, plan.settings.gitops), sources)]


def check_folders(plan: EnvironmentPlan) -> None:
    """A team namespace named like the Argo CD folder would be excluded from the ApplicationSet."""
    clash = [ns.name for ns in namespaces(plan) if ns.name == names.ARGOCD_FOLDER]
    raise_if_any([Diagnostic(plan.source, None, None, ("spec", "namespace"),
                             f"team namespace '{name}' collides with the folder gitops/{plan.name}/{name}",
                             "choose a namespace pattern that does not produce 'argocd'") for name in clash])


def bootstrap_path(env_name: str) -> str:
    return f"bootstrap/{env_name}.yaml"


def repo_path(gitops: GitopsLayout, *parts: str) -> str:
    """A path in the gitops repository: `<gitops.path>/<parts...>`."""
    return posixpath.join(*(p for p in (gitops.path, *parts) if p and p != "."))


def _meta(kind: str, name: str, env_name: str, gitops: GitopsLayout) -> dict:
    return metadata(kind, name, names.labels(env_name), gitops.argocd_namespace)


def team_project(env_name: str, namespace: str) -> str:
    """The AppProject of one team namespace."""
    return names.fit(f"maestro-{env_name}-{namespace}")


def app_project(plan: EnvironmentPlan, namespace: str) -> dict:
    gitops = plan.settings.gitops
    spec = {
        "description": f"maestro: ML pipelines and serving of namespace {namespace} in environment {plan.name}",
        "sourceRepos": [gitops.repo_url],
        "destinations": [{"server": gitops.cluster, "namespace": namespace}],
        # The one cluster-scoped object a team folder holds is its own Namespace.
        "clusterResourceWhitelist": [{"group": "", "kind": "Namespace", "name": namespace}],
        "namespaceResourceWhitelist": [{"group": g, "kind": k} for g, k in sorted(NAMESPACED_KINDS)],
    }
    meta = _meta("AppProject", team_project(plan.name, namespace), plan.name, gitops)
    return resource(API, "AppProject", meta, spec=spec)


def application_set(plan: EnvironmentPlan) -> dict:
    gitops = plan.settings.gitops
    elements = [{"namespace": ns.name, "project": team_project(plan.name, ns.name),
                 "path": repo_path(gitops, plan.name, ns.name)} for ns in namespaces(plan)]
    spec = {
        "goTemplate": True,
        "goTemplateOptions": ["missingkey=error"],
        "generators": [{"list": {"elements": elements}}],
        # Deleting the ApplicationSet (or a bad generator run) must not delete the workloads.
        "syncPolicy": {"preserveResourcesOnDeletion": True},
        "template": application_template(plan),
    }
    meta = _meta("ApplicationSet", names.argocd_project(plan.name), plan.name, gitops)
    return resource(API, "ApplicationSet", meta, spec=spec)


def application_template(plan: EnvironmentPlan) -> dict:
    git = plan.settings.gitops
    meta = {"name": f"maestro-{plan.name}-{{{{.namespace}}}}", "labels": names.labels(plan.name)}
    spec = {
        "project": "{{.project}}",
        # recurse: the namespace folder's manual/ subfolder (hand-written manifests, kept on purpose) is
        # synced too; `maestro compile --check` fails on any other file maestro did not generate.
        "source": {"repoURL": git.repo_url, "targetRevision": git.revision, "path": "{{.path}}",
                   "directory": {"recurse": True}},
        "destination": {"server": git.cluster, "namespace": "{{.namespace}}"},
        "syncPolicy": sync_policy(git.sync),
    }
    return {"metadata": meta, "spec": spec}


def sync_policy(sync: SyncPolicy) -> dict:
    policy: dict = {"syncOptions": list(SYNC_OPTIONS)}
    if sync.auto_sync:
        policy["automated"] = {"prune": sync.prune, "selfHeal": sync.self_heal}
    return policy


def bootstrap_application(env_name: str, git: GitopsLayout) -> dict:
    # Argo CD's own objects live beside Argo CD, which need not run in the environment's cluster.
    spec = {
        "project": "default",
        "source": {"repoURL": git.repo_url, "targetRevision": git.revision,
                   "path": repo_path(git, env_name, names.ARGOCD_FOLDER)},
        "destination": {"server": IN_CLUSTER, "namespace": git.argocd_namespace},
        "syncPolicy": sync_policy(git.sync),
    }
    meta = _meta("Application", f"maestro-{env_name}-bootstrap", env_name, git)
    return resource(API, "Application", meta, spec=spec)
