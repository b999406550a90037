"""Lower, the custom template: a bring-your-own pipeline's steps to `StepPlan`s, then maestro's gate and publish.

In: a validated `CustomPipeline` and its environment. Out: the steps of its `PipelinePlan`: each
author's step with its named artifacts; the trainer placed as the built-in train step is
(`step_calls.training_placement`: GPUs, /dev/shm, the team's semaphore; retries 2 by default); the
built-in `gate` (the same step code, `maestro step gate`) reading the evaluator's `metrics`; the
built-in `publish`, run only on the gate's yes, storing the trainer's `model` at the model key that
serving's storageUri names.
"""

from __future__ import annotations

from . import names
from .step_calls import LIGHT_STEP_TIMEOUT, exchanged, git_credentials, step_args, training_placement
from .contract import artifact_variables
from .ir import StepPlan
from .language.environment import Environment
from .language.types import duration_seconds
from .language.workflow import (EVALUATOR, METRICS_ARTIFACT, MODEL_ARTIFACT, TRAINER, CustomPipeline, WorkflowStep,
                                split_input, step_roles)

TRAINER_RETRIES = 2          # the built-in train step's default (spec.training.retries)
LIGHT = {"cpu": "500m", "memory": "1Gi"}


def workflow_steps(p: CustomPipeline, env: Environment) -> tuple[StepPlan, ...]:
    roles = step_roles(p.spec)
    own = tuple(_step(p, s) for s in p.spec.steps)
    # A trainer spanning nodes is a TrainJob: what it reads and writes passes through the artifact
    # store, exactly as around the built-in train step's.
    return exchanged(own + _added_steps(p, env, roles[TRAINER], roles[EVALUATOR]))


def _step(p: CustomPipeline, s: WorkflowStep) -> StepPlan:
    inputs = tuple(split_input(ref) for ref in s.inputs)
    depends = tuple(dict.fromkeys((*s.after, *(step for step, _ in inputs))))
    trainer = s.role == TRAINER
    placement = training_placement(p.metadata.team, s.resources.gpus, s.resources.shared_memory) \
        if trainer else {"gpus": s.resources.gpus}
    variables = artifact_variables(s.name, s.outputs, inputs)
    retries = s.retries if s.retries is not None else (TRAINER_RETRIES if trainer else 0)
    return StepPlan(
        name=s.name, builtin=False, image=s.image, command=tuple(s.command), args=tuple(s.args),
        depends=depends, inputs=(), cpu=s.resources.cpu, memory=s.resources.memory,
        env=tuple(sorted(s.env.items())) + tuple(sorted(variables.items())),
        secrets=tuple(s.secrets), retries=retries, timeout_seconds=duration_seconds(s.timeout),
        outputs=tuple(s.outputs), artifact_inputs=inputs,
        local_command=tuple(s.local) if s.local is not None else None,
        nodes=s.resources.nodes if trainer else 1, **placement,
    )


def _added_steps(p: CustomPipeline, env: Environment, trainer: str, evaluator: str) -> tuple[StepPlan, ...]:
    common = {"builtin": True, "image": env.spec.image, "timeout_seconds": LIGHT_STEP_TIMEOUT, **LIGHT}
    gate = StepPlan(name="gate", command=("maestro", "step", "gate"), args=step_args("gate"),
                    depends=(evaluator,), inputs=(), artifact_inputs=((evaluator, METRICS_ARTIFACT),),
                    output_parameter="passed", **common)
    # Publish writes back to git as the built-in's does (--write-back, the same git credentials).
    publish = StepPlan(name="publish", command=("maestro", "step", "publish"), args=step_args("publish"),
                       depends=("gate", trainer), inputs=("gate",), artifact_inputs=((trainer, MODEL_ARTIFACT),),
                       when_gate_passed=True, secret_env=git_credentials(env),
                       model_key=names.model_key(p.metadata.team, p.metadata.name, "{{workflow.name}}"), **common)
    return gate, publish
