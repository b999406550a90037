"""The plan (IR): what to generate, target-neutral, with every default applied and every name resolved.

In: built by `lower` from effective specs. Out: read by every module in `targets/`.
Environment-wide settings stay on the validated `Environment` model; the plan adds what is derived.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from .language.environment import Environment
from .language.pipeline import Pipeline
from .language.teams import Teams


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


@dataclass(frozen=True)
class SchedulePlan:
    name: str
    cron: str
    timezone: str
    suspended: bool


@dataclass(frozen=True)
class PipelinePlan:
    name: str
    team: str
    env: str
    namespace: str
    description: str
    labels: dict
    sources: tuple[str, ...]
    pipeline: Pipeline
    steps: tuple[StepPlan, ...]
    workflow_deadline_seconds: int
    spec_configmap: str
    spec_json: str
    schedule: Optional[SchedulePlan]
    serving: Optional[ServingPlan]
    max_hours_since_success: int


@dataclass(frozen=True)
class TeamPlan:
    team: str
    env: str
    namespace: str
    labels: dict
    service_account: str
    semaphore_configmap: str
    pipelines: tuple[str, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class EnvironmentPlan:
    name: str
    environment: Environment
    source: str
    teams: tuple[TeamPlan, ...]
    pipelines: tuple[PipelinePlan, ...]


@dataclass(frozen=True)
class Plan:
    environments: tuple[EnvironmentPlan, ...] = field(default_factory=tuple)
    teams: Optional[Teams] = None     # teams.yaml: owners and paths, for CODEOWNERS
