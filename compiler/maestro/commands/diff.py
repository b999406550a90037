"""`maestro diff`: what a fresh compile changes against the tree on disk or at a git ref, as text,
markdown (with `--graph`, each changed pipeline's Mermaid graph) or JSON (`maestro.diff/v1`)."""

from __future__ import annotations

from pathlib import Path

import click

from .json_output import errors_as_json, output_option
from .options import collector_paused, debug_option, env_option, jobs_option, resolve_root, root_option

FORMATTERS = ("text", "markdown", "json")


@click.command("diff")
@root_option
@env_option
@click.option("--against", metavar="GITREF", default=None,
              help="Compare with gitops/ at this git revision; default: gitops/ on disk.")
@click.option("--format", "fmt", type=click.Choice(FORMATTERS), default="text", show_default=True)
@click.option("--exit-code", is_flag=True, help="Exit 1 when there are changes, like `git diff --exit-code`.")
@click.option("--graph", "graphs", is_flag=True,
              help="markdown: add the Mermaid graph of each changed pipeline (as `maestro graph` draws it).")
@jobs_option
@output_option
@debug_option
@errors_as_json(lambda arguments: "json" in (arguments["fmt"], arguments["output"]))
@collector_paused
def diff_command(root: Path | None, envs: tuple[str, ...], against: str | None, fmt: str, exit_code: bool,
                 graphs: bool, jobs: int | None, output: str) -> int:
    """Show, per resource and field, what compiling the specs changes.

    The compiled tree is validated as `maestro compile` validates it (schemas from
    $MAESTRO_SCHEMA_LOCATION, then those shipped with Maestro): a tree compile refuses is refused here.

    \b
    Examples:
      maestro diff
      maestro diff --against origin/main --format markdown --graph > comment.md
      maestro diff --output json      # the same as --format json
    """
    from .. import api
    from .compile import cache_wanted, schema_locations

    fmt = _format(fmt, output, graphs)
    root = resolve_root(root)
    result = api.diff_gitops(root, envs, against=against, schema_locations=schema_locations(()), cache=cache_wanted(),
                              jobs=jobs)
    for line in result.warnings:
        click.echo(line, err=True)
    if fmt == "markdown" and graphs:
        from ..diff_format import as_markdown

        click.echo(as_markdown(result.changes, changed_graphs(root, result.changes)))
    else:
        click.echo(result.format(fmt))
    return 1 if exit_code and result.changes else 0


def _format(fmt: str, output: str, graphs: bool) -> str:
    """`--output json` is `--format json`, the spelling every other command takes."""
    from ..errors import UsageError

    if output == "json" and fmt not in ("text", "json"):
        raise UsageError(f"--output json and --format {fmt} contradict each other; give one")
    chosen = "json" if output == "json" else fmt
    if graphs and chosen != "markdown":
        raise UsageError("--graph draws into the markdown comment: add --format markdown")
    return chosen


def changed_graphs(root: Path, changes: list) -> list[tuple[str, str | None]]:
    """(title, Mermaid source) of each pipeline with a changed or added resource, per environment; the
    source is None past the first MAX_GRAPHS, which are named but not drawn."""
    from ..diff_format import MAX_GRAPHS
    from ..graph import pipeline_graph, to_mermaid

    changed = sorted({(c.pipeline, c.env) for c in changes if c.pipeline and c.change != "removed"})
    shown = [(f"{name} in {env}", to_mermaid(pipeline_graph(root, name, env))) for name, env in changed[:MAX_GRAPHS]]
    return shown + [(f"{name} in {env}", None) for name, env in changed[MAX_GRAPHS:]]
