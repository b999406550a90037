"""`maestro promote`: make a version the candidate or the default, checked before writing; prints the
change to the compiled tree (`--output json`: `maestro.promote/v1`)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import click

from .json_output import emit, errors_as_json, output_option
from .options import debug_option, resolve_root, root_option


@click.command("promote")
@click.argument("pipeline")
@click.option("--version", "version", required=True, help="The model version, e.g. v5.")
@click.option("--run", default=None, help="The training run that produced it; adds the version.")
@click.option("--as", "role", type=click.Choice(["candidate", "default"]), required=True)
@click.option("--weight", type=click.IntRange(1, 99), default=None, help="Candidate's percent of traffic.")
@click.option("--mode", type=click.Choice(["ab", "shadow"]), default=None, help="Experiment mode.")
@root_option
@output_option
@debug_option
@errors_as_json(lambda arguments: arguments["output"] == "json")
def promote_command(pipeline: str, version: str, run: str | None, role: str, weight: int | None,
                    mode: str | None, root: Path | None, output: str) -> int:
    """Edit pipelines/PIPELINE.yaml so VERSION becomes the candidate or the default.

    Comments and formatting are kept. The edited spec is checked against every environment
    first; a refused edit leaves the file untouched. Prints the change to the compiled tree.

    \b
    Examples:
      maestro promote aapl-direction --version v5 --run aapl-direction-x1y2z --as candidate --weight 10
      maestro promote aapl-direction --version v5 --as default --output json
    """
    from .. import diff_format
    from ..compile import compile_project
    from ..diff import diff_trees
    from ..errors import UsageError
    from ..promote import Promotion, promote_text, read_real, refuse_symlinks, replace_file

    root = resolve_root(root)
    spec = root / "pipelines" / f"{pipeline}.yaml"
    refuse_symlinks(root, spec)       # never edit, or echo, a file a link points at
    if not spec.is_file():
        raise UsageError(f"no pipeline spec at {spec.relative_to(root)}")
    change = Promotion(version, role, run, weight, mode)
    edited = promote_text(read_real(spec).decode("utf-8"), spec.relative_to(root).as_posix(), change)
    before = compile_project(root, validate=False).tree.files
    after = _compile_with(root, spec, edited)
    replace_file(spec, edited.encode("utf-8"))
    changes = diff_trees(before, after)
    if output == "json":
        emit("promote", pipeline=pipeline, version=version, role=role, run=run, weight=weight, mode=mode,
             edited=spec.relative_to(root).as_posix(), changes=diff_format.records(changes))
    else:
        click.echo(diff_format.as_text(changes))
    click.echo(f"edited {spec.relative_to(root)}; run `maestro compile` and commit both", err=True)
    return 0


def _compile_with(root: Path, spec: Path, edited: str) -> dict[str, bytes]:
    """The compiled tree with the edited spec, built in a scratch copy of the specs and validated as
    `maestro compile` validates it: an edit whose tree compile would refuse is refused."""
    from ..compile import compile_project
    from ..project import teams_file
    from .compile import schema_locations

    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch)
        for folder in ("pipelines", "environments"):
            shutil.copytree(root / folder, copy / folder)
        for teams in teams_file(root):   # the tenancy the specs are checked against
            shutil.copyfile(teams, copy / teams.name)
        (copy / "pipelines" / spec.name).write_text(edited)
        compiled = compile_project(copy, schema_locations=schema_locations(()))
    for line in compiled.warnings:
        click.echo(line, err=True)
    return compiled.tree.files
