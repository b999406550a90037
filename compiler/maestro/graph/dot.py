"""The DAG picture as Graphviz DOT: what `maestro graph --format dot` prints (`| dot -Tsvg`).

In: a `Graph`. Out: the DOT text, deterministic, with the same nodes, edges and labels as the
Mermaid source; the workflow and the serving objects are clusters.
"""

from __future__ import annotations

from .labels import (GATE_STEP, PUBLISH_LABEL, Edge, experiment_edges,
                     experiment_lines, model_lines, node_id, publishing_step, schedule_lines, workflow_edges,
                     serving_title, step_lines, workflow_title)
from .model import Graph, Step

STYLES = {
    "step": 'shape=box, style="rounded,filled", fillcolor="#ffffff"',
    "gate": 'shape=diamond, style=filled, fillcolor="#ffffff"',
    "gpu": 'shape=box, style="rounded,filled", fillcolor="#fde68a", color="#b45309"',
    "custom": 'shape=box, style="rounded,filled,dashed", fillcolor="#e0f2fe", color="#0369a1"',
    "model": 'shape=cylinder, style=filled, fillcolor="#dcfce7", color="#15803d"',
    "experiment": 'shape=hexagon, style=filled, fillcolor="#dcfce7", color="#15803d"',
    "schedule": 'shape=box, style="rounded,filled", fillcolor="#f3f4f6", color="#6b7280"',
}


def quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _node(identity: str, lines: list[str], style: str) -> str:
    return f"{identity} [label={quoted(chr(10).join(lines))}, {STYLES[style]}];"


def to_dot(graph: Graph) -> str:
    lines = [f"// maestro graph {graph.pipeline} --env {graph.env}",
             f"digraph {quoted(graph.pipeline)} {{",
             '  graph [rankdir=TB, compound=true, fontname="Helvetica"];',
             '  node [fontname="Helvetica"];', '  edge [fontname="Helvetica"];']
    if graph.schedule:
        lines.append(f"  {_node('schedule', schedule_lines(graph.schedule), 'schedule')}")
    lines += ["  subgraph cluster_workflow {", f"    label={quoted(workflow_title(graph))};"]
    lines += [f"    {_node(node_id('step', s.name), step_lines(s), _style(s))}" for s in graph.steps]
    lines.append("  }")
    lines += [f"  {_edge(edge)}" for edge in workflow_edges(graph)]
    lines += _serving(graph)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _style(step: Step) -> str:
    if step.gpus:
        return "gpu"
    if not step.builtin:
        return "custom"
    return "gate" if step.name == GATE_STEP else "step"


def _serving(graph: Graph) -> list[str]:
    if not graph.models:
        return []
    lines = ["  subgraph cluster_serving {", f"    label={quoted(serving_title(graph))};"]
    lines += [f"    {_node(node_id('model', m.name), model_lines(m), 'model')}" for m in graph.models]
    if graph.experiment:
        lines.append(f"    {_node(node_id('experiment', graph.experiment.name), experiment_lines(graph.experiment), 'experiment')}")
    lines.append("  }")
    publish = publishing_step(graph)
    if publish:
        # An edge into the cluster: Graphviz draws it to the cluster's border (lhead).
        first = node_id("model", graph.models[0].name)
        lines.append(f"  {_edge(Edge(node_id('step', publish.name), first, PUBLISH_LABEL, True), 'lhead=cluster_serving')}")
    if graph.experiment:
        lines += [f"  {_edge(edge)}" for edge in experiment_edges(graph.experiment)]
    return lines


def _edge(edge: Edge, *extra: str) -> str:
    attributes = ([f"label={quoted(edge.label)}"] if edge.label else []) + (["style=dashed"] if edge.dashed else [])
    attributes += extra
    return f"{edge.source} -> {edge.target}" + (f" [{', '.join(attributes)}]" if attributes else "") + ";"
