"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path

import click

root_option = click.option(
    "--root", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Project root; default: the nearest directory upward holding pipelines/ and environments/.")
env_option = click.option("--env", "envs", multiple=True, metavar="NAME",
                          help="Only this environment (repeatable); default: all.")


def resolve_root(root: Path | None) -> Path:
    from ..project import find_root

    if root is not None:
        if not (root / "pipelines").is_dir() or not (root / "environments").is_dir():
            from ..errors import UsageError
            raise UsageError(f"{root} holds no pipelines/ and environments/")
        return root.resolve()
    return find_root(Path.cwd().resolve())
