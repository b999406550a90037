"""Object names and labels: the name rule, and derived names, deterministic, length-checked, cut
with a stable hash suffix."""

from __future__ import annotations

import hashlib
import re

LABEL_NAME_MAX = 63
CRON_NAME_MAX = 52   # the CronWorkflow controller appends an 11-character suffix to the Workflow name
MANAGED_BY = {"app.kubernetes.io/managed-by": "maestro"}
# A lowercase RFC 1123 label: what Kubernetes requires of a namespace and Seldon Core v2 of every
# Model, Experiment and Pipeline name (no dots). The one copy: spec names, the manifest metadata
# checks and the Seldon rules all use it.
RFC1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def fit(name: str, limit: int = LABEL_NAME_MAX) -> str:
    """`name` if it fits in `limit`, else a prefix plus an 8-character hash of the whole name."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: limit - 9].rstrip('-')}-{digest}"


def namespace(pattern: str, team: str, env: str) -> str:
    return fit(pattern.replace("{team}", team).replace("{env}", env))


def labels(env: str, team: str | None = None, pipeline: str | None = None, extra: dict | None = None) -> dict:
    result = {**(extra or {}), **MANAGED_BY, "maestro.dev/environment": env}
    if team:
        result["maestro.dev/team"] = team
    if pipeline:
        result["maestro.dev/pipeline"] = pipeline
    return result


def workflow_service_account(team: str) -> str:
    return fit(f"{team}-workflow")


def trainjob_service_account(team: str) -> str:
    """The one account that may create TrainJobs: only the train step's resource template uses it."""
    return fit(f"{team}-trainjob-launcher")


# A TrainJob name must be an RFC 1035 label (a letter first) of at most 63 characters, and JobSet adds
# `-node-<i>-<j>` to it in its pods' host names: a short prefix that starts with a letter, and the
# API server's five random characters after it.
TRAINJOB_PREFIX_MAX = 40


def trainjob_prefix(pipeline: str) -> str:
    return fit(f"train-{pipeline}", TRAINJOB_PREFIX_MAX) + "-"


def exchange_prefix() -> str:
    """Where the steps around a TrainJob meet in the artifact store: beside the workflow's own
    artifacts (`artifacts/<namespace>/<workflow>/<pod>`), at a name no pod has."""
    return "artifacts/{{workflow.namespace}}/{{workflow.name}}/exchange"


def semaphore_configmap(team: str) -> str:
    return fit(f"{team}-training-semaphore")


SEMAPHORE_KEY = "trainings"
ARTIFACT_REPOSITORIES = "artifact-repositories"   # Argo's conventional ConfigMap name
ARTIFACT_REPOSITORY_KEY = "default"


def model_key(team: str, pipeline: str, run: str) -> str:
    """Where a published model lives in the environment's bucket: under its team, so a store policy
    can grant each team's key exactly its own `models/<team>/` prefix."""
    return f"models/{team}/{pipeline}/{run}"


def trials_key(team: str, pipeline: str) -> str:
    """The one place of a pipeline's trial registry in the artifact repository, under its team too."""
    return f"trials/{team}/{pipeline}/trials.json"


def spec_configmap(pipeline: str) -> str:
    return fit(f"{pipeline}-spec")


def seldon_model(pipeline: str, version: str) -> str:
    return fit(f"{pipeline}-{version}")


def argocd_project(env: str) -> str:
    return fit(f"maestro-{env}")


# Argo CD applies lower waves first: scaffolding, then ConfigMaps, then templates, then Models, then Experiments.
SYNC_WAVES = {
    "Namespace": "-1", "ServiceAccount": "0", "Role": "0", "RoleBinding": "0", "NetworkPolicy": "0",
    "ResourceQuota": "0", "LimitRange": "0", "ExternalSecret": "0", "PrometheusRule": "0",
    "ConfigMap": "1", "WorkflowTemplate": "2", "CronWorkflow": "3", "Model": "4", "Experiment": "5",
}


def sync_wave(kind: str) -> dict:
    """The Argo CD sync-wave annotation for objects of `kind`."""
    return {"argocd.argoproj.io/sync-wave": SYNC_WAVES[kind]}


# --- Appended for the Seldon, Argo CD, platform and monitoring targets (issue 4). ---

def workflow_template(pipeline: str) -> str:
    """The WorkflowTemplate of a pipeline; alerts select Argo's per-template metrics by this name."""
    return fit(pipeline)


def seldon_storage_secret(credentials_secret: str) -> str:
    """The rclone-format Secret Seldon's agents read (`Model.spec.secretName`), beside the S3 one."""
    return fit(f"{credentials_secret}-rclone")


ARGOCD_FOLDER = "argocd"          # gitops/<env>/argocd holds the AppProject and the ApplicationSet
SELDON_RUNTIME = "seldon"         # the SeldonRuntime of a namespace that hosts models

# Serving infrastructure before Models; Argo CD's own objects in their own Application.
SYNC_WAVES.update({"SeldonRuntime": "3", "Server": "3", "AppProject": "0", "ApplicationSet": "1", "Application": "0"})
