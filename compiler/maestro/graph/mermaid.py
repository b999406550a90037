"""The DAG picture as Mermaid flowchart source: what `maestro graph --format mermaid` prints, what
the html page renders and what the markdown diff embeds in a ```mermaid block.

In: a `Graph`. Out: the source text, deterministic (nodes in DAG order, one line each, LF).
"""

from __future__ import annotations

from .labels import (GATE_STEP, PUBLISH_LABEL, Edge, experiment_edges,
                     experiment_lines, model_lines, node_id, publishing_step, schedule_lines, workflow_edges,
                     serving_title, step_lines, workflow_title)
from .model import Graph, Step

# Mermaid reads `#name;` as an entity code and, with HTML labels, `<`, `>` and `&` as markup; a quote
# ends the label and a leading backtick starts markdown. Each is written as its decimal entity code.
_ESCAPED = {c: f"#{ord(c)};" for c in '"#<>&`'}
CLASSES = (
    "classDef gpu fill:#fde68a,stroke:#b45309,color:#111827",
    "classDef custom fill:#e0f2fe,stroke:#0369a1,stroke-dasharray:5 3,color:#111827",
    "classDef serving fill:#dcfce7,stroke:#15803d,color:#111827",
    "classDef schedule fill:#f3f4f6,stroke:#6b7280,color:#111827",
)


def text(lines: list[str]) -> str:
    """Label lines as one quoted Mermaid label."""
    return '"' + "<br/>".join("".join(_ESCAPED.get(c, c) for c in line) for line in lines) + '"'


def to_mermaid(graph: Graph) -> str:
    lines = [f"%% maestro graph {graph.pipeline} --env {graph.env}", "flowchart TD", *(f"  {c}" for c in CLASSES)]
    if graph.schedule:
        lines.append(f"  schedule([{text(schedule_lines(graph.schedule))}]):::schedule")
    lines.append(f"  subgraph workflow[{text([workflow_title(graph)])}]")
    lines += [f"    {_step(step)}" for step in graph.steps]
    lines.append("  end")
    lines += [f"  {_edge(edge)}" for edge in workflow_edges(graph)]
    lines += _serving(graph)
    return "\n".join(lines) + "\n"


def _step(step: Step) -> str:
    label = text(step_lines(step))
    shape = f"{{{label}}}" if step.builtin and step.name == GATE_STEP else f"[{label}]"
    style = ":::gpu" if step.gpus else (":::custom" if not step.builtin else "")
    return f"{node_id('step', step.name)}{shape}{style}"


def _serving(graph: Graph) -> list[str]:
    if not graph.models:
        return []
    lines = [f"  subgraph serving[{text([serving_title(graph)])}]"]
    lines += [f"    {node_id('model', m.name)}[({text(model_lines(m))})]:::serving" for m in graph.models]
    if graph.experiment:
        lines.append(f"    {node_id('experiment', graph.experiment.name)}{{{{{text(experiment_lines(graph.experiment))}}}}}"
                     ":::serving")
    lines.append("  end")
    publish = publishing_step(graph)
    if publish:
        lines.append(f"  {_edge(Edge(node_id('step', publish.name), 'serving', PUBLISH_LABEL, True))}")
    if graph.experiment:
        lines += [f"  {_edge(edge)}" for edge in experiment_edges(graph.experiment)]
    return lines


def _edge(edge: Edge) -> str:
    arrow = "-.->" if edge.dashed else "-->"
    label = f"|{text([edge.label])}|" if edge.label else ""
    return f"{edge.source} {arrow}{label} {edge.target}"
