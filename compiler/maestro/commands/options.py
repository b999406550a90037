"""Options shared by several commands, and the session the error funnel reads."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import click


@dataclass
class Session:
    """What `cli.run`, the one error funnel, knows of the command that runs: whether `--debug` was
    given (before or after the command's name), and the subject of its error lines, if any."""

    debug: bool = False
    subject: str = ""     # e.g. "maestro step train": pod logs say which step failed


def session(ctx: click.Context | None = None) -> Session:
    ctx = ctx or click.get_current_context()
    return ctx.find_root().ensure_object(Session)


def collector_paused(command: Callable[..., Any]) -> Callable[..., Any]:
    """The cyclic collector stays off for the whole command, not only its compile: turned back on as
    the compile returned, its first pass traversed every object the compile still held (0.5 s of a
    1,000-pipeline compile); when the command returns they are freed, and what is left is small."""
    @functools.wraps(command)
    def paused(*args: Any, **kwargs: Any) -> Any:
        from ..compile import paused_gc

        with paused_gc():
            return command(*args, **kwargs)

    return paused


def _set_debug(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        session(ctx).debug = True


debug_option = click.option("--debug", is_flag=True, expose_value=False, callback=_set_debug,
                            help="Show the traceback of an internal error.")
root_option = click.option(
    "--root", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Project root; default: the nearest directory upward holding pipelines/ and environments/.")
quiet_option = click.option("--quiet", "-q", is_flag=True,
                            help="Show no progress: only the result and the errors.")
jobs_option = click.option(
    "--jobs", "-j", type=click.IntRange(min=1), default=None, metavar="N",
    help="Processes that may build team namespaces at once, in a large repository; the output is the same "
         "for any N. Default: the CPUs this process may use (its affinity and cgroup quota).")
env_option = click.option("--env", "envs", multiple=True, metavar="NAME",
                          help="Only this environment (repeatable); default: all.")


def step_settings() -> dict:
    """What the step runtime takes from the environment, read here and passed down as values (the
    StepContext's `templates` and `torch_threads`): $MAESTRO_TEMPLATES, the folder holding the model
    card template, and $MAESTRO_TORCH_THREADS, torch's thread count (a whole number; else ignored)."""
    import os

    templates, threads = os.environ.get("MAESTRO_TEMPLATES", ""), os.environ.get("MAESTRO_TORCH_THREADS", "")
    return {"templates": Path(templates) if templates else None,
            "torch_threads": max(1, int(threads)) if threads.isdigit() else None}


def resolve_root(root: Path | None) -> Path:
    from ..project import project_root

    return project_root(root)
