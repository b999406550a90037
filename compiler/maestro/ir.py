"""The plan (IR): what to generate, target-neutral, with every default applied and every name resolved.

In: built by `lower` from effective specs. Out: read by every module in `targets/` and by the local
executor (`maestro run`). Plain frozen dataclasses only: nothing here is a spec model, so an emitter
never reads the spec and a change to the spec language stops at `lower`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import MISSING, dataclass, field, fields
from typing import Optional


def _quick_init(cls):
    """The dataclass's own `__init__`, one assignment of the instance's `__dict__` instead of one
    `object.__setattr__` per field: the `__init__` of a frozen dataclass calls that for each field, and
    a compile builds a StepPlan of thirty fields for every step of every pipeline in every environment.
    The same parameters in the same order with the same defaults; instances stay frozen (assigning
    a field still raises), equal and hashed as before. Only for classes without default factories."""
    params, scope = [], {"_set": object.__setattr__}
    for f in fields(cls):
        if f.default_factory is not MISSING or not f.init:
            raise TypeError(f"{cls.__name__}.{f.name}: _quick_init takes plain defaults only")
        if f.default is MISSING:
            params.append(f.name)
        else:
            scope[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
    values = ", ".join(f"{f.name!r}: {f.name}" for f in fields(cls))
    exec(f"def __init__(self, {', '.join(params)}):\n    _set(self, '__dict__', {{{values}}})\n", scope)
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init
    return cls


@_quick_init
@dataclass(frozen=True)
class StepPlan:
    name: str
    builtin: bool
    image: str
    command: tuple[str, ...]
    args: tuple[str, ...]
    depends: tuple[str, ...]          # steps that must finish first
    inputs: tuple[str, ...]           # steps whose output folders are mounted
    cpu: str
    memory: str
    gpus: int = 0
    shared_memory: Optional[str] = None
    env: tuple[tuple[str, str], ...] = ()
    secrets: tuple[str, ...] = ()
    secret_env: tuple[tuple[str, str, str], ...] = ()   # (variable, Secret name, key)
    retries: int = 0
    timeout_seconds: Optional[int] = None
    when_gate_passed: bool = False
    output_parameter: Optional[str] = None   # gate: the file holding "true"/"false"
    semaphore: Optional[str] = None          # the training steps: ConfigMap of the team's semaphore
    model_key: Optional[str] = None          # publish: artifact key the model folder is uploaded to
    trials_key: Optional[str] = None         # gate with policy.multiple_testing: key of the trial registry
    nodes: int = 1                           # train: above 1, a TrainJob of nodes x max(gpus, 1) workers
    # Steps of a TrainJob cannot pass artifacts through Argo: they meet in the artifact store under this
    # key prefix, `<exchange>/<step>/` holding one step's folder.
    exchange: Optional[str] = None
    exchange_inputs: tuple[str, ...] = ()    # inputs read from the exchange instead of from their tasks
    exchange_output: bool = False            # the step's folder is also uploaded to the exchange
    # Custom template (bring-your-own): named folders instead of the one `out` folder of a step.
    outputs: tuple[str, ...] = ()            # WORKDIR/<step>/<output>, each an output artifact
    artifact_inputs: tuple[tuple[str, str], ...] = ()   # (step, output), mounted at WORKDIR/<step>/<output>
    local_command: Optional[tuple[str, ...]] = None     # what `maestro run` runs instead of the container


@dataclass(frozen=True)
class ServedModel:
    name: str          # Seldon Model name
    version: str
    run: str
    storage_uri: str


@dataclass(frozen=True)
class ExperimentPlan:
    name: str
    mode: str          # ab | shadow
    default: str       # Seldon Model name of the default
    candidate: str     # Seldon Model name of the candidate
    weight: int


@dataclass(frozen=True)
class ServingPlan:
    runtime: str
    requirements: tuple[str, ...]
    replicas: int
    memory: str
    models: tuple[ServedModel, ...]
    experiment: Optional[ExperimentPlan]
    storage_secret: str   # the rclone-format Secret the model servers read the artifact store with


@dataclass(frozen=True)
class SchedulePlan:
    name: str
    cron: str
    timezone: str
    suspended: bool


@_quick_init
@dataclass(frozen=True)
class PipelinePlan:
    name: str
    team: str
    env: str
    namespace: str
    description: str
    labels: dict
    sources: tuple[str, ...]
    data_start: Optional[dt.date]     # the default history window of a run; None: no window (custom)
    data_end: Optional[dt.date]       # None: the day of the run
    steps: tuple[StepPlan, ...]
    workflow_deadline_seconds: int
    spec_configmap: str
    spec_json: str                    # the effective spec every built-in step reads (contract.SPEC_PATH)
    schedule: Optional[SchedulePlan]
    serving: Optional[ServingPlan]
    max_hours_since_success: int
    template: str = "market-data"     # or custom: the author's steps, then maestro's gate and publish
    roles: tuple[tuple[str, str], ...] = ()   # custom: (role, step), the trainer and the evaluator


@dataclass(frozen=True)
class TeamPlan:
    team: str
    env: str
    namespace: str
    labels: dict
    service_account: str
    semaphore_configmap: str
    pipelines: tuple[str, ...]


@dataclass(frozen=True)
class Toleration:
    key: Optional[str]
    operator: str
    value: Optional[str]
    effect: Optional[str]
    seconds: Optional[int]            # how long a NoExecute taint is tolerated


@dataclass(frozen=True)
class GpuPlacement:
    resource: str                     # the extended resource name of a GPU
    node_selector: dict               # node labels a GPU pod must match; every other pod avoids them
    tolerations: tuple[Toleration, ...]
    priority_class: Optional[str]
    max_concurrent_trainings: int     # per team: the size of its semaphore


@dataclass(frozen=True)
class QuotaPlan:
    cpu: str
    memory: str
    gpus: int


@dataclass(frozen=True)
class NetworkPlan:
    egress: tuple[str, ...]           # CIDRs of the API server, artifact store and the like
    ingest_internet: bool
    inference_from: tuple[str, ...]   # namespaces whose pods may call the served models
    seldon_namespace: str             # where the Seldon operator runs


@dataclass(frozen=True)
class ExternalSecretPlan:
    store: str
    store_kind: str
    key: str                          # may hold {team} and {env}, filled per namespace


@dataclass(frozen=True)
class ArtifactStore:
    bucket: str
    endpoint: str
    region: str
    insecure: bool
    credentials_secret: str
    external_secret: Optional[ExternalSecretPlan]


@dataclass(frozen=True)
class SyncPolicy:
    auto_sync: bool
    prune: bool
    self_heal: bool


@dataclass(frozen=True)
class GitopsLayout:
    repo_url: str
    revision: str
    path: str                         # the compiled tree's folder in the repository, without slashes around
    cluster: str                      # the Argo CD destination server
    argocd_namespace: str
    sync: SyncPolicy


@dataclass(frozen=True)
class TrainerPlan:
    runtime: str                      # the ClusterTrainingRuntime multi-node train steps run on


@dataclass(frozen=True)
class EnvironmentSettings:
    """What the targets need of one environment, beyond its pipelines and teams."""

    gitops: GitopsLayout
    gpu: GpuPlacement
    quota: QuotaPlan
    network: NetworkPlan
    artifacts: ArtifactStore
    trainer: TrainerPlan


@dataclass(frozen=True)
class EnvironmentPlan:
    name: str
    settings: EnvironmentSettings
    source: str
    teams: tuple[TeamPlan, ...]
    pipelines: tuple[PipelinePlan, ...]


@dataclass(frozen=True)
class TeamOwnership:
    team: str
    owners: tuple[str, ...]           # whose review a change to the team's files needs
    paths: tuple[str, ...]            # the team's files, CODEOWNERS patterns from the repository root


@dataclass(frozen=True)
class Ownership:
    """teams.yaml: who reviews what, for CODEOWNERS."""

    source: str                       # the teams file, relative to the project root
    platform: tuple[str, ...]         # owners of everything no team owns
    teams: tuple[TeamOwnership, ...]  # sorted by team name


@dataclass(frozen=True)
class Plan:
    environments: tuple[EnvironmentPlan, ...] = field(default_factory=tuple)
    ownership: Optional[Ownership] = None     # None: no teams.yaml, every team accepted
