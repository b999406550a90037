"""How a step runs in its pod, for both lowerings (`lower`, built-in steps; `lower_workflow`, a custom
pipeline's): the arguments of `maestro step`, the time limit of the light steps, where a step
that fits networks is placed, and how the steps around a TrainJob meet in the artifact store."""

from __future__ import annotations

from dataclasses import replace

from . import names
from .contract import PASSWORD_VARIABLE, SPEC_PATH, USERNAME_VARIABLE, WORKDIR
from .ir import StepPlan

LIGHT_STEP_TIMEOUT = 1800


def step_args(name: str) -> tuple[str, ...]:
    args = ("--spec", SPEC_PATH, "--workdir", WORKDIR, "--run-id", "{{workflow.name}}")
    if name == "ingest":
        args += ("--start", "{{workflow.parameters.start}}", "--end", "{{workflow.parameters.end}}")
    if name == "publish":   # both templates' publish writes back to git
        args += ("--write-back",)
    return args


def training_placement(team: str, gpus: int, shared_memory: str) -> dict:
    """Where a step that fits networks runs: its GPUs, a memory-backed /dev/shm when it has GPUs, and
    the team's semaphore (at most gpu.max_concurrent_trainings at once). The built-in train and
    evaluate steps and a custom pipeline's trainer all get it from here."""
    return {"gpus": gpus, "shared_memory": shared_memory if gpus else None,
            "semaphore": names.semaphore_configmap(team)}


def exchanged(steps: tuple[StepPlan, ...]) -> tuple[StepPlan, ...]:
    """Steps that run outside Argo (a TrainJob: the built-in train step or a custom trainer spanning
    nodes) take their inputs from the artifact store and leave their output there: each of their
    inputs is also uploaded there, each reader of theirs downloads it from there. A built-in step is
    told where with `--exchange`; a custom trainer by its environment (targets/trainjob.py)."""
    remote = {s.name for s in steps if s.nodes > 1}
    if not remote:
        return steps
    feeds = {i for s in steps if s.name in remote for i in _reads(s)}
    prefix = names.exchange_prefix()
    return tuple(replace(
        s, exchange=prefix if s.name in remote | feeds or set(_reads(s)) & remote else None,
        exchange_inputs=tuple(i for i in _reads(s) if i in remote or s.name in remote),
        exchange_output=s.name in feeds or s.name in remote,
        args=s.args + (("--exchange", prefix) if s.name in remote and s.builtin else ()),
    ) for s in steps)


def _reads(step: StepPlan) -> tuple[str, ...]:
    """The steps whose folders a step reads: a built-in's `inputs`, a custom step's named artifacts."""
    return tuple(dict.fromkeys((*step.inputs, *(source for source, _ in step.artifact_inputs))))


def git_credentials(env) -> tuple[tuple[str, str, str], ...]:
    """The write-back's git credentials (publish of either template), read from a Secret by key;
    never a value in a manifest."""
    secret = env.spec.gitops.credentials_secret
    return ((USERNAME_VARIABLE, secret, "username"), (PASSWORD_VARIABLE, secret, "password"))
