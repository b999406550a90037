"""`run_pipeline`, the Python API of `maestro run`: one pipeline of a project, run on this machine.

In: a pipeline name, an environment, the project root and the run's options. Out: a `RunResult`
(the run id, the output folder, each step's result, summary.json's content) once the run completed,
whatever the gate decided; a failed step raises `Failure`, a bad name `UsageError` (both
`MaestroError`s). Loads the project, lowers the pipeline to the plan the emitters compile, and hands
it to the local executor (`local.execute`), so laptop and cluster run the same DAG. Kept apart from
`api`: it reaches the step runtime (torch, pandas), which the compile path never imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .api import PathLike
from .errors import Failure, UsageError, did_you_mean, one_of
from .local import StepResult, execute, summarize
from .lower import lower_pipeline
from .progress import Display, PlainDisplay
from .project import Effective, find_root, load_project


@dataclass(frozen=True)
class RunResult:
    """A local run that completed (whatever the gate decided); `summary` is summary.json's content."""

    run_id: str
    output: Path
    steps: tuple[StepResult, ...]
    summary: dict


def run_pipeline(pipeline: str, env: str = "dev", *, root: PathLike | None = None, output_dir: PathLike | None = None,
                 use_cache: bool = True, progress: Callable[[str], None] | None = None,
                 templates: PathLike | None = None, torch_threads: int | None = None,
                 debug: bool = False, display: Display | None = None) -> RunResult:
    """Run the pipeline's DAG with the pods' step code in `output_dir` (default
    `<root>/runs/<pipeline>-<env>/`). `progress` gets the plain text `maestro run` shows off a
    terminal, chunk by chunk; `display` (`maestro.progress`) instead shows it live. What the steps
    print goes to `<output_dir>/logs/<step>.log`. Steps whose inputs did not change are reused unless
    `use_cache` is false; `templates` is a folder tried first for the model card template; `debug`
    adds a failed step's traceback to its error."""
    root, effective = _effective(pipeline, root, env)
    plan = lower_pipeline(effective)
    output = Path(output_dir) if output_dir is not None else root / "runs" / f"{pipeline}-{env}"
    display = display or PlainDisplay(progress or (lambda text: None))
    display.line(f"maestro run {pipeline} --env {env} -> {output}")
    try:
        outcome = execute(plan, output, root, use_cache=use_cache, display=display, debug=debug,
                          templates=Path(templates) if templates else None, torch_threads=torch_threads)
    finally:
        display.close()
    summary = summarize(outcome, plan)
    if outcome.failed:
        raise Failure(outcome.error)
    return RunResult(outcome.run_id, output, tuple(outcome.results), summary)


def _effective(pipeline: str, root: PathLike | None, env: str) -> tuple[Path, Effective]:
    root = Path(root).resolve() if root is not None else find_root(Path.cwd().resolve())
    project = load_project(root, only_envs=[env])
    if (pipeline, env) not in project.effective:
        hint = did_you_mean(pipeline, project.pipelines) or one_of(project.pipelines)
        raise UsageError(f"no pipeline named '{pipeline}' in {root / 'pipelines'} ({hint})")
    return root, project.effective[(pipeline, env)]
