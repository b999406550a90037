"""The `custom` template of a Pipeline (bring-your-own): the whole DAG is the author's container steps.

A pipeline chooses its template with `spec.template`: `market-data` (the default, the built-in
ingest ... publish DAG of `pipeline.py`) or `custom` (this module). A custom pipeline lists its steps,
each with named output artifacts and inputs that name another step's artifact (`step.artifact`);
one step is the trainer (it gets the train step's GPU placement, retries, semaphore and /dev/shm),
one the evaluator (it writes `metrics/metrics.json`); maestro adds the built-in `gate`, which reads
those metrics, and `publish`, which stores the trainer's `model` artifact where Seldon reads it.

In: the raw pipeline document (`pipeline_model` picks the model by `spec.template`). Out: pydantic
models, unknown keys refused, like every spec model.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

from pydantic import Field, model_serializer

from .pipeline import Metadata, Monitoring, Schedule, ServedVersions, SpecSection
from .types import Duration, Name, PositiveInt, Quantity

CUSTOM = "custom"
MARKET_DATA = "market-data"
TEMPLATES = (MARKET_DATA, CUSTOM)
TRAINER, EVALUATOR = "trainer", "evaluator"
MODEL_ARTIFACT = "model"        # the trainer's output that is published and served
METRICS_ARTIFACT = "metrics"    # the evaluator's output holding metrics.json
METRICS_FILE = "metrics.json"
# Steps maestro adds to every custom DAG; no author's step may take their names.
ADDED_STEPS = ("gate", "publish")


class WorkflowResources(SpecSection):
    cpu: Quantity = Field("1", description="CPU request and limit (Kubernetes quantity).")
    memory: Quantity = Field("1Gi", description="Memory request and limit (Kubernetes quantity).")
    gpus: Annotated[int, Field(ge=0)] = Field(0, description="GPUs for this step.")
    shared_memory: Quantity = Field(
        "1Gi", description="Trainer only: size of the memory-backed /dev/shm when it has GPUs.")
    nodes: PositiveInt = Field(
        1, description="Trainer only: nodes the step spans; above 1, a Kubeflow Trainer TrainJob of nodes x gpus "
                       "workers, each node with the cpu, memory and GPUs above (docs/multinode.md).")
    allow_cpu_nodes: bool = Field(
        False, description="Trainer only: with nodes above 1 and no GPUs, span the nodes on CPU anyway.")

    @model_serializer(mode="wrap")
    def _without_unasked_cpu_nodes(self, handler):
        """Unset, it dumps as before the field existed: spec.json (and gitops/) unchanged."""
        dumped = handler(self)
        if isinstance(dumped, dict) and not dumped.get("allow_cpu_nodes"):
            dumped.pop("allow_cpu_nodes", None)
        return dumped


class WorkflowStep(SpecSection):
    name: Name = Field(description="Step name; unique, and not gate or publish (maestro adds those).")
    role: Optional[Literal["trainer", "evaluator"]] = Field(
        None, description="trainer: GPU placement, retries, semaphore, /dev/shm; evaluator: writes the metrics.")
    image: str = Field(min_length=1, description="Container image.")
    command: list[str] = Field(default_factory=list, description="Container command (entrypoint).")
    args: list[str] = Field(default_factory=list, description="Container arguments.")
    after: list[str] = Field(default_factory=list, description="Steps that must finish first.")
    inputs: list[str] = Field(
        default_factory=list, description="Artifacts of other steps given to this one, as `step.artifact`.")
    outputs: list[Name] = Field(
        default_factory=list, description="Names of the folders this step writes, passed on as artifacts.")
    resources: WorkflowResources = Field(default_factory=WorkflowResources, description="Resources of this step.")
    env: dict[str, str] = Field(
        default_factory=dict, description="Plain environment variables; credentials go in secrets.")
    secrets: list[Name] = Field(default_factory=list, description="Kubernetes Secret names, exposed with envFrom.")
    retries: Optional[Annotated[int, Field(ge=0, le=20)]] = Field(
        None, description="Retries, with exponential backoff; default 2 for the trainer (as the built-in train step), else 0.")
    timeout: Duration = Field("1h", description="Longest the step may run.")
    local: Optional[list[Annotated[str, Field(min_length=1)]]] = Field(
        None, min_length=1, description="The command `maestro run` runs on this machine instead of the container.")


class MetricsGate(SpecSection):
    min: dict[str, float] = Field(
        default_factory=dict, description="Metric name to the lowest value accepted.")
    max: dict[str, float] = Field(
        default_factory=dict, description="Metric name to the highest value accepted.")


class CustomServing(ServedVersions):
    runtime: Literal["triton", "mlserver"] = Field("mlserver", description="The Seldon server: mlserver or triton.")
    format: str = Field(min_length=1, description="The model format the trainer writes, e.g. sklearn, onnx.")
    requirements: list[Annotated[str, Field(min_length=1)]] = Field(
        min_length=1, description="Seldon Model requirements: capabilities a server must have (e.g. sklearn).")


class CustomSpec(SpecSection):
    template: Literal["custom"] = Field(description="custom: the DAG is spec.steps.")
    steps: list[WorkflowStep] = Field(min_length=1, description="The DAG's container steps.")
    gate: Optional[MetricsGate] = Field(
        default_factory=MetricsGate, description="Bounds on the evaluator's metrics; null removes the gate.")
    schedule: Optional[Schedule] = Field(None, description="Retraining schedule; omit for on-demand only.")
    serving: Optional[CustomServing] = Field(None, description="Seldon Core v2 serving of the trainer's model.")
    monitoring: Monitoring = Field(default_factory=Monitoring, description="Alerting on stale models.")
    overrides: dict[Name, dict[str, Any]] = Field(
        default_factory=dict, description="Per-environment patches, deep-merged over spec.")


class CustomPipeline(SpecSection):
    apiVersion: Literal["maestro/v1"] = Field(description="Always maestro/v1.")
    kind: Literal["Pipeline"] = Field(description="Always Pipeline.")
    metadata: Metadata = Field(description="Name, team, description and labels.")
    spec: CustomSpec = Field(description="The steps, the gate on their metrics, schedule and serving.")


def is_custom(pipeline: Any) -> bool:
    return isinstance(pipeline, CustomPipeline)


def template_of(data: Any) -> str:
    """The template a raw pipeline document asks for; anything but `custom` is validated as market-data
    (whose model then says what `template` accepts)."""
    spec = data.get("spec") if isinstance(data, dict) else None
    return CUSTOM if isinstance(spec, dict) and spec.get("template") == CUSTOM else MARKET_DATA


def template_problem(data: Any) -> tuple[str, str] | None:
    """(message, hint) when `spec.template` is given but names no template."""
    spec = data.get("spec") if isinstance(data, dict) else None
    if not isinstance(spec, dict) or "template" not in spec or spec["template"] in (*TEMPLATES, None):
        return None
    return f"{spec['template']!r} is not a template", "expected one of: " + ", ".join(TEMPLATES)


def pipeline_model(data: Any) -> type:
    from .pipeline import Pipeline

    return CustomPipeline if template_of(data) == CUSTOM else Pipeline


def step_roles(spec: CustomSpec) -> dict[str, str]:
    """role -> the name of the (first) step that has it."""
    roles: dict[str, str] = {}
    for step in spec.steps:
        if step.role:
            roles.setdefault(step.role, step.name)
    return roles


def split_input(ref: str) -> tuple[str, str]:
    """`step.artifact` -> (step, artifact); a reference without a dot -> (ref, '')."""
    step, _, artifact = ref.partition(".")
    return step, artifact
