"""How a step runs in its pod, for both lowerings (`lower`, built-in steps; `lower_workflow`, a custom
pipeline's): the arguments of `maestro step`, the time limit of the light steps, and where a step
that fits networks is placed."""

from __future__ import annotations

from . import names
from .contract import SPEC_PATH, WORKDIR

LIGHT_STEP_TIMEOUT = 1800


def step_args(name: str, write_back: bool = True) -> tuple[str, ...]:
    args = ("--spec", SPEC_PATH, "--workdir", WORKDIR, "--run-id", "{{workflow.name}}")
    if name == "ingest":
        args += ("--start", "{{workflow.parameters.start}}", "--end", "{{workflow.parameters.end}}")
    if name == "publish" and write_back:
        args += ("--write-back",)
    return args


def training_placement(team: str, gpus: int, shared_memory: str) -> dict:
    """Where a step that fits networks runs: its GPUs, a memory-backed /dev/shm when it has GPUs, and
    the team's semaphore (at most gpu.max_concurrent_trainings at once). The built-in train and
    evaluate steps and a custom pipeline's trainer all get it from here."""
    return {"gpus": gpus, "shared_memory": shared_memory if gpus else None,
            "semaphore": names.semaphore_configmap(team)}
