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
    from .. import api
    from .compile import cache_wanted, schema_locations

    result = api.diff_gitops(resolve_root(root), envs, against=against, schema_locations=schema_locations(()),
                             cache=cache_wanted())
    for line in result.warnings:
        click.echo(line, err=True)
    click.echo(result.format(fmt))
    return 1 if exit_code and result.changes else 0
