"""The DAG picture's model: one pipeline in one environment, as Argo will run it.

In: the lowered plan of the pipeline (`ir.PipelinePlan`) and of its environment. Out: a `Graph` of
plain values the formats (`mermaid`, `dot`, `html`) draw. The steps, their order and their `when`
come from the dag tasks of the WorkflowTemplate the Argo emitter builds from that plan, and each
step's GPUs from its container's limits there, so the picture shows what the cluster runs, not a
reading of the spec; the serving objects are the plan's Seldon Models and Experiment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..ir import EnvironmentPlan, PipelinePlan
from ..targets import argo


@dataclass(frozen=True)
class Step:
    name: str
    builtin: bool
    image: str                     # shown for custom steps
    gpus: int
    depends: tuple[str, ...]       # the tasks its `depends` names
    when: str = ""                 # the task's Argo `when`, verbatim; empty when it always runs


@dataclass(frozen=True)
class Model:
    name: str                      # the Seldon Model
    version: str
    role: str                      # default | candidate


@dataclass(frozen=True)
class Experiment:
    name: str
    mode: str                      # ab | shadow
    default: str                   # Model names
    candidate: str
    weight: int                    # the candidate's percent of traffic (ab) or of mirrored requests (shadow)


@dataclass(frozen=True)
class Schedule:
    name: str                      # the CronWorkflow
    cron: str
    timezone: str
    suspended: bool


@dataclass(frozen=True)
class Graph:
    pipeline: str
    env: str
    namespace: str
    workflow_template: str
    steps: tuple[Step, ...]
    schedule: Optional[Schedule]
    models: tuple[Model, ...]
    experiment: Optional[Experiment]


def build(environment: EnvironmentPlan, pipeline: PipelinePlan) -> Graph:
    template = argo.workflow_template(environment, pipeline)
    return Graph(pipeline.name, pipeline.env, pipeline.namespace, template["metadata"]["name"],
                 _steps(template, pipeline, environment.settings.gpu.resource), _schedule(pipeline),
                 _models(pipeline), _experiment(pipeline))


def _steps(template: dict, pipeline: PipelinePlan, gpu_resource: str) -> tuple[Step, ...]:
    from ..validation.rules.depends import operands

    templates = {t["name"]: t for t in template["spec"]["templates"]}
    tasks = templates[template["spec"]["entrypoint"]]["dag"]["tasks"]
    builtin = {step.name: step.builtin for step in pipeline.steps}
    steps = []
    for task in tasks:
        container = templates[task["template"]]["container"]
        gpus = int(container["resources"].get("limits", {}).get(gpu_resource, 0))
        depends = tuple(dict.fromkeys(name for name, _ in operands(task["depends"]))) if "depends" in task else ()
        steps.append(Step(task["name"], builtin[task["name"]], container["image"], gpus, depends, task.get("when", "")))
    return tuple(steps)


def _schedule(pipeline: PipelinePlan) -> Schedule | None:
    s = pipeline.schedule
    return Schedule(s.name, s.cron, s.timezone, s.suspended) if s else None


def _models(pipeline: PipelinePlan) -> tuple[Model, ...]:
    serving = pipeline.serving
    if serving is None:
        return ()
    roles = ("default", "candidate")
    return tuple(Model(m.name, m.version, roles[min(i, 1)]) for i, m in enumerate(serving.models))


def _experiment(pipeline: PipelinePlan) -> Experiment | None:
    plan = pipeline.serving.experiment if pipeline.serving else None
    return Experiment(plan.name, plan.mode, plan.default, plan.candidate, plan.weight) if plan else None
