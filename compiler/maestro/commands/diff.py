"""`maestro diff`: what a fresh compile changes against the tree on disk or at a git ref, as text,
markdown (with `--graph`, each changed pipeline's Mermaid graph) or JSON (`maestro.diff/v1`)."""

from __future__ import annotations

from pathlib import Path

import click

from .json_output import errors_as_json, output_option
from .options import debug_option, env_option, resolve_root, root_option

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
@output_option
@debug_option
@errors_as_json(lambda arguments: "json" in (arguments["fmt"], arguments["output"]))
def diff_command(root: Path | None, envs: tuple[str, ...], against: str | None, fmt: str, exit_code: bool,
                 graphs: bool, output: str) -> int:
    """Show, per resource and field, what compiling the specs changes.

    The compiled tree is validated as `maestro compile` validates it (schemas from
    $MAESTRO_SCHEMA_LOCATION, then those shipped with Maestro): a tree compile refuses is refused here.

    \b
    Examples:
      maestro diff
      maestro diff --against origin/main --format markdown --graph > comment.md
      maestro diff --output json      # the same as --format json
    """
    from .. import diff_format
    from ..compile import compile_project
    from ..diff import diff_trees, tree_at_ref
    from ..gitops import generated_files, locked, preflight
    from ..tree import in_scope
    from .compile import compile_cache, schema_locations

    fmt = _format(fmt, output, graphs)
    root = resolve_root(root)
    preflight(root)   # before the cache under .maestro/ is read or written
    # Validated as `maestro compile` validates: a tree that compile would refuse is refused here too.
    compiled = compile_project(root, envs, schema_locations=schema_locations(()), cache=compile_cache(root))
    for line in compiled.warnings:
        click.echo(line, err=True)
    tree = compiled.tree
    with locked(root):   # read-only: never recovers an interrupted write, which only `compile` does
        old = tree_at_ref(root, against) if against else generated_files(root / "gitops")
    old = {p: d for p, d in old.items() if in_scope(p, tree.scope)}
    changes = diff_trees(old, tree.files)
    if fmt == "markdown":
        click.echo(diff_format.as_markdown(changes, changed_graphs(root, changes) if graphs else ()))
    else:
        click.echo({"text": diff_format.as_text, "json": diff_format.as_json}[fmt](changes))
    return 1 if exit_code and changes else 0


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
