"""`maestro promote`: make a version the candidate or the default, checked before writing; prints the
change to the compiled tree (`--output json`: `maestro.promote/v1`)."""

from __future__ import annotations

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
    from .. import api, diff_format
    from .compile import schema_locations

    result = api.promote_version(pipeline, version, role=role, run=run, weight=weight, mode=mode,
                                 root=resolve_root(root), schema_locations=schema_locations(()))
    for line in result.warnings:
        click.echo(line, err=True)
    if output == "json":
        emit("promote", pipeline=pipeline, version=version, role=role, run=run, weight=weight, mode=mode,
             edited=result.spec, changes=diff_format.records(result.changes))
    else:
        click.echo(diff_format.as_text(result.changes))
    click.echo(f"edited {result.spec}; run `maestro compile` and commit both", err=True)
    return 0
