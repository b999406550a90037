"""`maestro init`: scaffold a new repository (environments/, one example pipeline, editor schemas,
the pre-commit config), refusing to overwrite anything."""

from __future__ import annotations

from pathlib import Path

import click

from .options import debug_option


@click.command("init")
@click.argument("directory", required=False, default=".", type=click.Path(file_okay=False, path_type=Path))
@debug_option
def init_command(directory: Path) -> int:
    """Write the first files of a Maestro repository into DIRECTORY (default: here).

    environments/dev.yaml and pipelines/ibm-direction.yaml, with the editor modelines that name
    docs/schemas/*.schema.json (written too), a .pre-commit-config.yaml running maestro's hooks,
    and a .gitignore for maestro's local state when there is none. Nothing is written when any of
    these files exists already. `maestro compile` works right after it.

    \b
    Example:
      git init ml-platform && cd ml-platform && maestro init && maestro compile
    """
    from ..api import init_project

    written = init_project(directory)
    for path in written:
        click.echo(f"wrote {path}")
    click.echo("next: edit environments/dev.yaml to your cluster, then `maestro compile` and commit gitops/", err=True)
    return 0
