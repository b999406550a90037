"""`maestro promote`: make a version the candidate or the default, in every environment or in one
(`--env`), checked before writing; or swap back to the previous default (`--rollback`). Prints the
change to the compiled tree (`--output json`: `maestro.promote/v1`, with the evidence checked)."""

from __future__ import annotations

from pathlib import Path

import click

from .json_output import emit, errors_as_json, output_option
from .options import debug_option, resolve_root, root_option


@click.command("promote")
@click.argument("pipeline")
@click.option("--version", "version", default=None, help="The model version, e.g. v5.")
@click.option("--run", default=None, help="The training run that produced it; adds the version.")
@click.option("--as", "role", type=click.Choice(["candidate", "default"]), default=None)
@click.option("--weight", type=click.IntRange(1, 99), default=None, help="Candidate's percent of traffic.")
@click.option("--mode", type=click.Choice(["ab", "shadow"]), default=None, help="Experiment mode.")
@click.option("--env", "environment", default=None,
              help="Edit only this environment's overrides (spec.overrides.ENV.serving).")
@click.option("--rollback", is_flag=True, help="Swap the default and serving.previous_default back.")
@click.option("--store", "artifact_store", envvar="MAESTRO_ARTIFACT_STORE", default=None,
              help="Where the runs' publish records are read: `s3` (each environment's own store, as its spec "
                   "names it, with your AWS credentials), or a local copy (file:///path or a folder of buckets). "
                   "A store that does not answer, or none given: the committed promotions/ records are the evidence.")
@root_option
@output_option
@debug_option
@errors_as_json(lambda arguments: arguments["output"] == "json")
def promote_command(pipeline: str, version: str | None, run: str | None, role: str | None, weight: int | None,
                    mode: str | None, environment: str | None, rollback: bool, artifact_store: str | None,
                    root: Path | None, output: str) -> int:
    """Edit pipelines/PIPELINE.yaml so VERSION becomes the candidate or the default.

    Comments and formatting are kept. The edited spec is checked against every environment
    first, and every version it newly serves against its evidence (an environment's
    promotion.from, the run's publish record); a refused edit leaves the file untouched.
    Prints the change to the compiled tree.

    \b
    Examples:
      maestro promote aapl-direction --version v5 --run aapl-direction-x1y2z --as candidate --weight 10
      maestro promote aapl-direction --env prod --version v5 --as default --output json
      maestro promote aapl-direction --env prod --rollback
    """
    from .. import api, diff_format
    from ..errors import UsageError
    from .compile import schema_locations

    if rollback:
        if version or run or role or weight or mode:
            raise UsageError("--rollback takes no --version, --run, --as, --weight or --mode: it swaps the "
                             "default with serving.previous_default")
        result = api.rollback_default(pipeline, environment=environment, root=resolve_root(root),
                                      schema_locations=schema_locations(()))
        version, role = result.default, "default"
    else:
        if version is None or role is None:
            raise UsageError("promote needs --version and --as (candidate or default), or --rollback")
        result = api.promote_version(pipeline, version, role=role, run=run, weight=weight, mode=mode,
                                     environment=environment, artifact_store=artifact_store,
                                     root=resolve_root(root), schema_locations=schema_locations(()))
    for line in result.warnings:
        click.echo(line, err=True)
    if output == "json":
        emit("promote", pipeline=pipeline, version=version, role=role, run=run, weight=weight, mode=mode,
             environment=environment, rollback=rollback, previous_default=result.previous_default,
             edited=result.spec, evidence=[e.as_json() for e in result.evidence],
             changes=diff_format.records(result.changes))
    else:
        for e in result.evidence:
            click.echo(f"checked: {e.run} ({e.version}) for {e.environment}: {_proved(e)} ({e.record})", err=True)
        click.echo(diff_format.as_text(result.changes))
    click.echo(f"edited {result.spec}; run `maestro compile` and commit both", err=True)
    return 0


def _proved(evidence) -> str:
    if evidence.check == "from":
        return f"passed the gate in {evidence.checked_in}"
    return f"published in {evidence.checked_in} with a passing gate"
