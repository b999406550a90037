"""`maestro graph`: a pipeline's DAG as Argo will run it, as Mermaid, DOT or a self-contained page.

In: the project root, a pipeline and an environment. Out: the `Graph` (`model`) built from the
lowered plan and what the Argo emitter makes of it, and its text in each format (`FORMATS`).
`pipeline_graph` loads only that pipeline's spec (and the environments), so it stays quick in a
repository of a thousand pipelines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from .dot import to_dot
from .html import to_html
from .mermaid import to_mermaid
from .model import Graph, build

RENDERERS: dict[str, Callable[[Graph], str]] = {"mermaid": to_mermaid, "dot": to_dot, "html": to_html}
FORMATS = tuple(RENDERERS)


def render_graph(graph: Graph, fmt: str) -> str:
    return RENDERERS[fmt](graph)


def pipeline_graph(root: Path, pipeline: str, env: str) -> Graph:
    """The graph of `pipeline` in `env`; a `UsageError` naming the accepted names when either is unknown."""
    from ..errors import UsageError, did_you_mean, one_of
    from ..lower import lower_environment
    from ..project import load_project, spec_files

    files = {path.stem: path.relative_to(root).as_posix() for path in spec_files(root, "pipelines")}
    if pipeline not in files:
        hint = did_you_mean(pipeline, files) or one_of(files)
        raise UsageError(f"no pipeline named '{pipeline}' in {root / 'pipelines'} ({hint})")
    project = load_project(root, only_envs=[env], only_pipelines={files[pipeline]})
    if env not in project.environments:   # no environment at all: load_project accepts any name then
        raise UsageError(f"no environment named '{env}' in {root / 'environments'} ({one_of(project.environments)})")
    environment = lower_environment(project, env, [project.effective[(pipeline, env)]])
    return build(environment, environment.pipelines[0])



__all__ = ["FORMATS", "Graph", "build", "pipeline_graph", "render_graph", "to_mermaid"]
