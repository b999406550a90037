"""`maestro run PIPELINE`: the pipeline's DAG on this machine, with the pods' step code.

In: a pipeline name, `--root`, `--env` (default dev), `--output-dir` (default
`<root>/runs/<pipeline>-<env>/`), `--no-cache`, `--quiet`, `--output text|json`, `--debug`. Out: progress
with per-step timings on stderr (live on a terminal, one line per step elsewhere, none with --quiet;
what the steps print is in `<output-dir>/logs/`), the gate's verdict on stdout (`--output json`: the `maestro.run/v1`
document instead), `summary.json` in the output dir; exit 0 when the run
completes (whatever the gate said), 1 when a step fails or the specs are invalid, 2 on a usage
error (`cli.run` reports those). Light to import: the steps (and torch, pandas) load only when a run
starts.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .json_output import emit, errors_as_json, output_option
from .options import debug_option, quiet_option, session, step_settings


RUN_HELP = """Run a pipeline locally, end to end, in one environment.

Steps whose inputs did not change are reused from the output folder; custom container
steps are listed as skipped. On a terminal each step shows a spinner, and training a bar
(epoch k/N, losses, time left); elsewhere one line per step. What the steps and their
libraries print goes to <output-dir>/logs/<step>.log. NO_COLOR turns colour off.
Exit 0 when the run completes, whatever the gate decided.

\b
Example:
  maestro run aapl-direction --env dev
  maestro run msft-momentum --env dev --output-dir /tmp/msft --no-cache
  maestro run aapl-direction --env dev --output json > run.json
"""


@click.command("run", help=RUN_HELP)
@click.argument("pipeline")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Project folder with pipelines/ and environments/ (default: found from here).")
@click.option("--env", "env_name", default="dev", show_default=True, help="Environment whose overrides apply.")
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where work/ and summary.json go (default: <root>/runs/<pipeline>-<env>/).")
@click.option("--no-cache", is_flag=True, help="Run every step even when its inputs are unchanged.")
@quiet_option
@output_option
@debug_option
@errors_as_json(lambda arguments: arguments["output"] == "json")
def run_command(pipeline, root, env_name, output_dir, no_cache, quiet, output) -> int:
    from ..progress import display_for
    from ..runner import run_pipeline

    display = display_for(sys.stderr, quiet=quiet,
                          plain=lambda text: click.echo(text, err=True, nl=False))
    result = run_pipeline(pipeline, env_name, root=root, output_dir=output_dir, use_cache=not no_cache,
                          display=display, debug=session().debug, **step_settings())
    if output == "json":
        _run_document(result.output)
    else:
        _verdict(result.summary, result.output)
    return 0


def _run_document(directory: Path) -> None:
    """`maestro.run/v1`: summary.json as written (values made JSON-safe), its steps as a list in DAG order."""
    import json

    summary = json.loads((directory / "summary.json").read_text(encoding="utf-8"))
    steps = [{"name": name, **result} for name, result in summary.pop("steps").items()]
    emit("run", **{**summary, "steps": steps, "output_dir": str(directory.resolve()),
                   "summary_file": str((directory / "summary.json").resolve())})


def _verdict(summary: dict, output: Path) -> None:
    gate = summary["gate"]
    click.echo(f"gate {'PASSED' if gate['passed'] else 'REFUSED'}:")
    met = [check["met"] for check in gate.get("checks", [])] or [gate["passed"]] * len(gate["reasons"])
    for reason, ok in zip(gate["reasons"], met):
        click.echo(f"  {'met   ' if ok else 'MISSED'} {reason}")
    for warning in gate.get("warnings", []):
        click.echo(f"  warning {warning}")
    published = (summary["model"] or {}).get("published")
    click.echo(f"model published at {published['path']}" if published else "model not published")
    if summary.get("model_card"):
        click.echo(f"model card: {summary['model_card']}")
    click.echo(f"summary: {output / 'summary.json'}")

