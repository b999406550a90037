"""The `Environment` kind of SPEC-v1: cluster, namespaces, image, GPUs, artifact store, sync, policy."""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import Field

from .pipeline import Strict
from .types import Labels, Name, PositiveInt, Quantity, Selector


class GitOps(Strict):
    repo_url: str = Field(min_length=1)
    revision: str = "main"
    path: str = "gitops"
    promotion: Literal["pull-request", "direct"] = Field("pull-request", description="How `publish` proposes a new version.")
    credentials_secret: Name = Field("gitops-credentials", description="Secret with `username` and `password` (a token) used by `publish` to push.")


class ArgoCD(Strict):
    namespace: Name = "argocd"
    auto_sync: bool = True
    prune: bool = True
    self_heal: bool = True


class ExternalSecretRef(Strict):
    store: Name
    key: str = Field(min_length=1)
    store_kind: Literal["ClusterSecretStore", "SecretStore"] = "ClusterSecretStore"


class Artifacts(Strict):
    bucket: str = Field(min_length=3, max_length=63)
    endpoint: str = Field(min_length=1)
    region: str = "us-east-1"
    insecure: bool = False
    credentials_secret: Name = Field("artifact-credentials", description="Secret with accessKey/secretKey.")
    external_secret: Optional[ExternalSecretRef] = Field(None, description="Fill credentials_secret from External Secrets.")


class Toleration(Strict):
    key: Optional[str] = None
    operator: Literal["Exists", "Equal"] = "Equal"
    value: Optional[str] = None
    effect: Optional[Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]] = None
    tolerationSeconds: Optional[int] = None


class Gpu(Strict):
    resource: str = "nvidia.com/gpu"
    node_selector: Selector = Field(default_factory=dict)
    tolerations: list[Toleration] = Field(default_factory=list)
    priority_class: Optional[Name] = None
    max_concurrent_trainings: PositiveInt = 1


class Quota(Strict):
    gpus: int = Field(0, ge=0)
    cpu: Quantity = "16"
    memory: Quantity = "64Gi"


class Network(Strict):
    egress: list[str] = Field(default_factory=list, description="Extra egress CIDRs; DNS is always allowed.")
    ingest_internet: bool = True


class Policy(Strict):
    require_image_digest: bool = False
    allowed_registries: list[str] = Field(default_factory=list)
    max_gpus_per_step: Optional[int] = Field(None, ge=0)
    max_candidate_weight: int = Field(100, ge=0, le=100)
    require_gate: bool = False


class EnvironmentSpec(Strict):
    cluster: str = "https://kubernetes.default.svc"
    namespace: str = Field("{team}-{env}", description="Pattern with {team} and {env}, or a fixed name.")
    image: str = Field(min_length=1, description="The image that runs the built-in steps.")
    gitops: GitOps
    argocd: ArgoCD = Field(default_factory=ArgoCD)
    artifacts: Artifacts
    gpu: Gpu = Field(default_factory=Gpu)
    quota: Quota = Field(default_factory=Quota)
    schedules: bool = True
    network: Network = Field(default_factory=Network)
    defaults: dict[str, Any] = Field(default_factory=dict, description="Deep-merged under every pipeline's spec.")
    policy: Policy = Field(default_factory=Policy)


class EnvironmentMetadata(Strict):
    name: Name
    labels: Labels = Field(default_factory=dict)


class Environment(Strict):
    apiVersion: Literal["maestro/v1"]
    kind: Literal["Environment"]
    metadata: EnvironmentMetadata
    spec: EnvironmentSpec
