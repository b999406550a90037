"""The `Environment` kind of SPEC-v1: cluster, namespaces, image, GPUs, artifact store, sync, policy."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_serializer

from .pipeline import SpecSection
from .types import Fraction, Labels, Name, PositiveInt, Quantity, Selector, check_key_template


class GitOps(SpecSection):
    repo_url: str = Field(min_length=1, description="Git repository Argo CD syncs from.")
    revision: str = Field("main", description="Branch, tag or commit Argo CD syncs.")
    path: str = Field("gitops", description="Folder of the compiled output in that repository.")
    promotion: Literal["pull-request", "direct"] = Field(
        "pull-request", description="How `publish` proposes a new version.")
    credentials_secret: Name = Field(
        "gitops-credentials", description="Secret with `username` and `password` (a token) used by `publish` to push.")


class ArgoCD(SpecSection):
    namespace: Name = Field("argocd", description="Namespace Argo CD runs in.")
    auto_sync: bool = Field(True, description="Sync automatically when the repository changes.")
    prune: bool = Field(True, description="Delete objects that are no longer generated (with auto_sync).")
    self_heal: bool = Field(True, description="Undo changes made in the cluster by hand (with auto_sync).")


class ExternalSecretRef(SpecSection):
    store: Name = Field(description="Name of the (Cluster)SecretStore.")
    key: Annotated[str, AfterValidator(check_key_template)] = Field(
        min_length=1, description="Key of the secret in the external store; {team} and {env} are replaced "
                                  "per namespace, so each team gets its own credentials.")
    store_kind: Literal["ClusterSecretStore", "SecretStore"] = Field(
        "ClusterSecretStore", description="Kind of the store: ClusterSecretStore or SecretStore.")


class Artifacts(SpecSection):
    bucket: str = Field(min_length=3, max_length=63, description="S3 bucket of the artifact repository.")
    endpoint: str = Field(min_length=1, description="S3 endpoint, host[:port].")
    region: str = Field("us-east-1", description="S3 region.")
    insecure: bool = Field(False, description="Plain HTTP to the endpoint (a MinIO in the cluster).")
    credentials_secret: Name = Field("artifact-credentials", description="Secret with accessKey/secretKey.")
    external_secret: Optional[ExternalSecretRef] = Field(
        None, description="Fill credentials_secret from External Secrets.")


class Toleration(SpecSection):
    key: Optional[str] = Field(None, description="Taint key.")
    operator: Literal["Exists", "Equal"] = Field("Equal", description="Exists or Equal.")
    value: Optional[str] = Field(None, description="Taint value (operator Equal).")
    effect: Optional[Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]] = Field(
        None, description="NoSchedule, PreferNoSchedule or NoExecute; empty matches all.")
    tolerationSeconds: Optional[int] = Field(None, description="How long a NoExecute taint is tolerated.")


class Gpu(SpecSection):
    resource: str = Field("nvidia.com/gpu", description="Extended resource name of a GPU.")
    node_selector: Selector = Field(default_factory=dict, description="Node labels a GPU pod must match.")
    tolerations: list[Toleration] = Field(default_factory=list, description="Taints a GPU pod tolerates.")
    priority_class: Optional[Name] = Field(None, description="PriorityClass of GPU pods.")
    max_concurrent_trainings: PositiveInt = Field(
        1, description="Trainings of one team that may run at once here (an Argo semaphore).")


class Trainer(SpecSection):
    runtime: Name = Field(
        "torch-distributed",
        description="The Kubeflow Trainer ClusterTrainingRuntime that multi-node train steps run on "
                    "(training.resources.nodes above 1); the cluster must have it (docs/multinode.md).")


class Quota(SpecSection):
    gpus: int = Field(0, ge=0, description="GPUs a team's namespace may request in total.")
    cpu: Quantity = Field("16", description="CPU a team's namespace may request in total (Kubernetes quantity).")
    memory: Quantity = Field(
        "64Gi", description="Memory a team's namespace may request in total (Kubernetes quantity).")


class Network(SpecSection):
    egress: list[str] = Field(
        default_factory=list,
        description="Egress CIDRs of workflow pods and Seldon's server pods (API server, artifact store); "
                    "DNS is always allowed.")
    ingest_internet: bool = Field(True, description="The ingest step may reach the internet (Yahoo Finance).")
    inference_from: list[Name] = Field(
        default_factory=list,
        description="Namespaces whose pods may call the served models (Seldon's inference port 9000).")
    seldon_namespace: Name = Field(
        "seldon-mesh",
        description="Namespace of the Seldon Core 2 operator, the only caller of a namespace's scheduler (9004) "
                    "from outside it.")


class GateFloor(SpecSection):
    min_accuracy: Optional[Fraction] = Field(
        None, description="Lowest evaluation.gate.min_accuracy a pipeline may set; unset for no floor.")
    min_sharpe: Optional[float] = Field(
        None, description="Lowest evaluation.gate.min_sharpe a pipeline may set; unset for no floor.")
    max_p_value: Optional[Fraction] = Field(
        None, description="Largest evaluation.gate.max_p_value a pipeline may set; unset for no ceiling.")
    beat_baselines: bool = Field(
        False, description="true: pipelines may not set evaluation.gate.beat_baselines to false.")


class MultipleTesting(SpecSection):
    method: Literal["holm"] = Field(
        "holm", description="holm: Holm's step-down correction of the p-value over the pipeline's recent trials.")
    window_days: PositiveInt = Field(
        30, description="Trials (distinct runs) of a pipeline whose data ends within this many days count.")


class Policy(SpecSection):
    require_image_digest: bool = Field(False, description="Every image must be pinned by digest (@sha256:...).")
    allowed_registries: list[str] = Field(
        default_factory=list, description="Image prefixes accepted, e.g. ghcr.io/acme; empty accepts any.")
    max_gpus_per_step: Optional[int] = Field(
        None, ge=0, description="Most GPUs any step may request (per node, for a train step spanning nodes); "
                                "unset for no limit.")
    max_nodes_per_step: Optional[int] = Field(
        None, ge=1, description="Most nodes a train step may span (training.resources.nodes); unset for no limit.")
    max_candidate_weight: int = Field(
        100, ge=0, le=100, description="Largest experiment.candidate_weight accepted.")
    require_gate: bool = Field(False, description="Pipelines may not remove evaluation.gate.")
    gate_floor: Optional[GateFloor] = Field(
        None, description="Bounds no pipeline's evaluation.gate may undercut here; a floor also forbids removing the gate.")
    multiple_testing: Optional[MultipleTesting] = Field(
        None, description="Correct the gate's p-value for the many runs of a pipeline (the trial registry); "
                          "null: no correction.")


class PromotionSource(SpecSection):
    # `from` is a Python keyword: the field is `source`, spelled `from` in YAML and in every dump.
    source: Name = Field(alias="from", description="The environment a version must have passed its gate in "
                                                   "(a run's publish record) before `maestro promote` lets this "
                                                   "environment serve it.")

    @model_serializer(mode="wrap")
    def _as_written(self, handler):
        return {"from": self.source}


class EnvironmentSpec(SpecSection):
    cluster: str = Field("https://kubernetes.default.svc", description="Argo CD destination server.")
    namespace: str = Field("{team}-{env}", description="Pattern with {team} and {env}, or a fixed name.")
    image: str = Field(min_length=1, description="The image that runs the built-in steps.")
    gitops: GitOps = Field(description="Where the compiled output lives and how `publish` proposes versions.")
    argocd: ArgoCD = Field(default_factory=ArgoCD, description="Argo CD sync policy.")
    artifacts: Artifacts = Field(description="Argo Workflows artifact repository (S3 API: AWS, MinIO, ...).")
    gpu: Gpu = Field(default_factory=Gpu, description="GPU scheduling.")
    quota: Quota = Field(default_factory=Quota, description="ResourceQuota of each team namespace.")
    trainer: Trainer = Field(default_factory=Trainer, description="Kubeflow Trainer, for multi-node training.")
    schedules: bool = Field(True, description="false: every CronWorkflow is suspended here.")
    network: Network = Field(default_factory=Network, description="NetworkPolicy: extra egress.")
    defaults: dict[str, Any] = Field(default_factory=dict, description="Deep-merged under every pipeline's spec.")
    policy: Policy = Field(
        default_factory=Policy, description="Rules every pipeline's effective spec must follow here.")
    promotion: Optional[PromotionSource] = Field(
        None, description="Where a version must have been verified before this environment serves it; "
                          "unset: any version may be promoted here.")

    @model_serializer(mode="wrap")
    def _without_unset_promotion(self, handler):
        """An environment without `promotion` dumps as before the field existed, so its spec.json
        (every ConfigMap of its pipelines) is unchanged by the field's arrival."""
        dumped = handler(self)
        if isinstance(dumped, dict) and dumped.get("promotion") is None:
            dumped.pop("promotion", None)
        return dumped

    @field_validator("artifacts")
    @classmethod
    def _per_team_key_needs_team_namespaces(cls, artifacts: Artifacts, info: ValidationInfo) -> Artifacts:
        """Teams that share a namespace share its one artifact Secret, so a key cannot be per team there."""
        ref, pattern = artifacts.external_secret, info.data.get("namespace", "")
        if ref is not None and "{team}" in ref.key and "{team}" not in pattern:
            raise ValueError(f"external_secret.key '{ref.key}' is per team, but namespace '{pattern}' is shared "
                             "by every team; use {team} in both, or in neither")
        return artifacts


class EnvironmentMetadata(SpecSection):
    name: Name = Field(description="Environment name; equals the file stem.")
    labels: Labels = Field(default_factory=dict, description="Kubernetes labels describing the environment.")


class Environment(SpecSection):
    apiVersion: Literal["maestro/v1"] = Field(description="Always maestro/v1.")
    kind: Literal["Environment"] = Field(description="Always Environment.")
    metadata: EnvironmentMetadata = Field(description="Name and labels.")
    spec: EnvironmentSpec = Field(description="Cluster, namespaces, image, GPUs, artifact store, sync and policy.")
