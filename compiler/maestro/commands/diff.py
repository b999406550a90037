"""`maestro diff`: what a fresh compile changes against the tree on disk or at a git ref."""

from __future__ import annotations

from pathlib import Path

import click

from .options import debug_option, env_option, resolve_root, root_option

FORMATTERS = ("text", "markdown", "json")


@click.command("diff")
@root_option
@env_option
@click.option("--against", metavar="GITREF", default=None,
              help="Compare with gitops/ at this git revision; default: gitops/ on disk.")
@click.option("--format", "fmt", type=click.Choice(FORMATTERS), default="text", show_default=True)
@click.option("--exit-code", is_flag=True, help="Exit 1 when there are changes, like `git diff --exit-code`.")
@debug_option
def diff_command(root: Path | None, envs: tuple[str, ...], against: str | None, fmt: str, exit_code: bool) -> int:
    """Show, per resource and field, what compiling the specs changes.

    The compiled tree is validated as `maestro compile` validates it (schemas from
    $MAESTRO_SCHEMA_LOCATION, then those shipped with Maestro): a tree compile refuses is refused here.

    \b
    Examples:
      maestro diff
      maestro diff --against origin/main --format markdown > comment.md
    """
    from .. import diff_format
    from ..compile import compile_project
    from ..diff import diff_trees, tree_at_ref
    from ..gitops import generated_files, locked, preflight
    from ..tree import in_scope
    from .compile import compile_cache, schema_locations

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
    click.echo({"text": diff_format.as_text, "markdown": diff_format.as_markdown,
                "json": diff_format.as_json}[fmt](changes))
    return 1 if exit_code and changes else 0
