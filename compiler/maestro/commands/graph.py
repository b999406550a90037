"""`maestro graph PIPELINE`: the pipeline's DAG as Argo will run it, in one environment.

In: a pipeline name, `--env` (default dev), `--format mermaid|dot|html`, `--root`. Out: the picture
on stdout (exit 0); an unknown pipeline or environment is a usage error naming the accepted ones
(exit 2), an invalid spec its located diagnostics (exit 1).
"""

from __future__ import annotations

from pathlib import Path

import click

from .options import debug_option, resolve_root, root_option

FORMATS = ("mermaid", "dot", "html")   # maestro.graph.FORMATS, spelled here so `--help` imports nothing


@click.command("graph")
@click.argument("pipeline")
@click.option("--env", "env_name", default="dev", show_default=True, metavar="NAME",
              help="The environment whose overrides and settings apply.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="mermaid", show_default=True,
              help="mermaid: flowchart source; dot: Graphviz; html: a page that renders offline.")
@root_option
@debug_option
def graph_command(pipeline: str, env_name: str, fmt: str, root: Path | None) -> int:
    """Draw PIPELINE's DAG as Argo will run it in one environment.

    The steps and their order come from the compiled WorkflowTemplate: GPU steps, custom steps,
    the gate and the condition (`when`) that guards publishing, the schedule, and the Seldon
    Models and Experiment it serves.

    \b
    Examples:
      maestro graph aapl-direction --env prod
      maestro graph msft-momentum --env prod --format dot | dot -Tsvg > msft.svg
      maestro graph msft-momentum --env prod --format html > msft.html
    """
    from ..graph import pipeline_graph, render_graph

    graph = pipeline_graph(resolve_root(root), pipeline, env_name)
    click.echo(render_graph(graph, fmt), nl=False)
    return 0
