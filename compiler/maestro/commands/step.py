"""`maestro step NAME`: run one built-in step, as the workflow pods do.

In: `--spec spec.json --workdir DIR --run-id ID [--start YYYY-MM-DD] [--end YYYY-MM-DD] [--write-back]`
(start/end for ingest only, an empty string meaning "use the spec"; --write-back for publish only).
Out: the step's folder under the work dir; exit 0 on success (also when the gate refuses: Argo reads
gate/passed), 1 when the step fails (`cli.run` prints its message as `maestro step NAME: error: ...`,
no traceback unless --debug). Imports neither torch nor pandas itself.
train only: $MAESTRO_TRAIN_CPU_WORKERS=N runs N CPU worker processes (see steps/distributed.py); under
torchrun, one rank of the world it started; `--exchange PREFIX` (a TrainJob's pods) reads features/ from
and writes train/ to the artifact store (steps/exchange.py).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import click

from ..contract import ACCESS_KEY_VARIABLE, BUILTIN_STEPS, SECRET_KEY_VARIABLE
from .options import debug_option, session, step_settings


def _date(ctx, param, value: str):
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date; use YYYY-MM-DD") from None


CPU_WORKERS = "MAESTRO_TRAIN_CPU_WORKERS"


def _train_options(name: str, exchange: str) -> dict:
    """train only, read here and only here: $MAESTRO_TRAIN_CPU_WORKERS=N forces N CPU worker
    processes (gloo), for tests and benchmarks of the multi-GPU path on machines without GPUs;
    torchrun's RANK, WORLD_SIZE, ... make this process one rank of a TrainJob's world; --exchange
    takes the artifact store's keys from $MAESTRO_ARTIFACT_ACCESS_KEY and $MAESTRO_ARTIFACT_SECRET_KEY."""
    if name != "train":
        if exchange:
            raise click.UsageError("--exchange applies to the train step only")
        return {}
    from ..steps.launch import launch_from

    try:
        launch = launch_from(os.environ)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    options = {"launch": launch} if launch else {}
    value = os.environ.get(CPU_WORKERS, "")
    if value and launch:
        raise click.UsageError(f"{CPU_WORKERS} cannot be used under torchrun, which starts the workers itself")
    if value and (not value.isdigit() or int(value) < 1):
        raise click.UsageError(f"{CPU_WORKERS} must be a whole number of at least 1, not '{value}'")
    if value:
        options["cpu_workers"] = int(value)
    if exchange:
        options["exchange"] = _exchange(exchange)
    return options


def _exchange(prefix: str):
    from ..steps.exchange import Exchange

    keys = [os.environ.get(variable, "") for variable in (ACCESS_KEY_VARIABLE, SECRET_KEY_VARIABLE)]
    if not all(keys):
        raise click.UsageError(f"--exchange needs the artifact store's keys in {ACCESS_KEY_VARIABLE} and "
                               f"{SECRET_KEY_VARIABLE}")
    return Exchange(prefix.strip("/"), *keys)


def _write_back_options() -> dict:
    """publish --write-back: the write-back recompiles and validates like `maestro compile`, with the
    pod's $MAESTRO_SCHEMA_LOCATION, read here."""
    from ..validation.locations import schema_locations_from_env

    return {"write_back": True, "schema_locations": tuple(schema_locations_from_env(os.environ))}


STEP_HELP = """Run one built-in pipeline step (what the workflow pods run).

\b
Example:
  maestro step features --spec runs/x/spec.json --workdir runs/x/work --run-id local-1
"""


@click.command("step", help=STEP_HELP)
@click.argument("name", type=click.Choice(BUILTIN_STEPS))
@click.option("--spec", "spec_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="spec.json: the effective pipeline and its environment.")
@click.option("--workdir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder holding one sub-folder per step.")
@click.option("--run-id", required=True, help="Identifier of this run (the workflow's name).")
@click.option("--start", default="", callback=_date, help="ingest only: first day; empty: the spec's.")
@click.option("--end", default="", callback=_date, help="ingest only: last day; empty: the spec's.")
@click.option("--write-back", is_flag=True, help="publish only: propose the run as a new version in the GitOps repo.")
@click.option("--exchange", default="", metavar="PREFIX",
              help="train only: fetch the inputs from and store the output in the artifact store under PREFIX "
                   "(a TrainJob's pods, which Argo passes no artifacts).")
@debug_option
def step_command(name, spec_path, workdir, run_id, start, end, write_back, exchange) -> int:
    if name != "ingest" and (start or end):
        raise click.UsageError("--start and --end apply to the ingest step only")
    if name != "publish" and write_back:
        raise click.UsageError("--write-back applies to the publish step only")
    options = {**(_write_back_options() if write_back else {}), **_train_options(name, exchange)}
    from ..steps.context import StepContext, load_spec
    from ..steps.registry import step_function

    session().subject = f"maestro step {name}"   # a failure, or a bug, is reported as this step's
    pipeline, environment = load_spec(spec_path)
    ctx = StepContext(pipeline, environment, workdir, run_id, start, end, **step_settings())
    step_function(name)(ctx, **options)
    if name == "gate":
        passed = (workdir / "gate" / "passed").read_text(encoding="utf-8")
        click.echo(f"gate: {'passed' if passed == 'true' else 'refused'}")
    return 0
