"""What the DAG picture says about each node and edge, for every format to draw alike.

In: the values of a `Graph`. Out: node ids (stable across runs, valid in Mermaid and DOT), label
lines (plain text, each format escapes and joins them) and the serving edges.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .model import Experiment, Graph, Model, Schedule, Step

PUBLISH_STEP, GATE_STEP = "publish", "gate"
DIGEST_SHOWN = 12   # hex digits of an image digest: enough to tell images apart in a picture


class Edge(NamedTuple):
    source: str
    target: str
    label: str = ""
    dashed: bool = False


def node_id(prefix: str, name: str) -> str:
    """`step_train`, `model_msft_momentum_v11`: names are DNS labels, so no two map to one id."""
    return f"{prefix}_{re.sub(r'[^A-Za-z0-9]', '_', name)}"


def step_lines(step: Step) -> list[str]:
    lines = [step.name]
    if step.gpus:
        lines.append(f"{step.gpus} GPU{'s' if step.gpus > 1 else ''}")
    if not step.builtin:
        lines += ["custom step", short_image(step.image)]
    if step.when:
        lines.append(f"when {step.when}")
    return lines


def short_image(image: str) -> str:
    name, at, digest = image.partition("@")
    algorithm, _, value = digest.partition(":")
    return f"{name}@{algorithm}:{value[:DIGEST_SHOWN]}..." if at and len(value) > DIGEST_SHOWN else image


def workflow_title(graph: Graph) -> str:
    return f"WorkflowTemplate {graph.workflow_template} in {graph.namespace}"


def serving_title(graph: Graph) -> str:
    return f"Seldon Core v2 serving in {graph.namespace}"


def schedule_lines(schedule: Schedule) -> list[str]:
    state = ", suspended in this environment" if schedule.suspended else ""
    return [f"CronWorkflow {schedule.name}", f"{schedule.cron} ({schedule.timezone}){state}"]


def model_lines(model: Model) -> list[str]:
    return [f"Model {model.name}", f"{model.version}, {model.role}"]


def experiment_lines(experiment: Experiment) -> list[str]:
    split = (f"A/B {100 - experiment.weight}% / {experiment.weight}%" if experiment.mode == "ab"
             else f"shadow, mirrors {experiment.weight}%")
    return [f"Experiment {experiment.name}", split]


def experiment_edges(experiment: Experiment) -> list[Edge]:
    source = node_id("experiment", experiment.name)
    default, candidate = node_id("model", experiment.default), node_id("model", experiment.candidate)
    if experiment.mode == "ab":
        return [Edge(source, default, f"{100 - experiment.weight}%"), Edge(source, candidate, f"{experiment.weight}%")]
    return [Edge(source, default, "100%"), Edge(source, candidate, f"mirror {experiment.weight}%", dashed=True)]


def dependency_edges(graph: Graph) -> list[Edge]:
    return [Edge(node_id("step", before), node_id("step", step.name)) for step in graph.steps for before in step.depends]


def workflow_edges(graph: Graph) -> list[Edge]:
    """The schedule's edges to the steps it starts (when there is one), then the steps' dependencies."""
    starts = [Edge("schedule", node_id("step", s.name), SCHEDULE_LABEL, True) for s in first_steps(graph)]
    return (starts if graph.schedule else []) + dependency_edges(graph)


def first_steps(graph: Graph) -> list[Step]:
    return [step for step in graph.steps if not step.depends]


def publishing_step(graph: Graph) -> Step | None:
    """The built-in step that uploads the model the serving objects are promoted from."""
    return next((step for step in graph.steps if step.builtin and step.name == PUBLISH_STEP), None)


PUBLISH_LABEL = "uploads the model, promote serves it"
SCHEDULE_LABEL = "starts"
