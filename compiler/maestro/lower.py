"""Lower: effective specs to the target-neutral plan (IR), names resolved and defaults applied.

In: a loaded `Project`. Out: a `Plan`, one `EnvironmentPlan` per environment, sorted by name.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Iterable, Sequence

from . import names
from .ir import EnvironmentPlan, ExperimentPlan, PipelinePlan, Plan, SchedulePlan, ServedModel, ServingPlan, StepPlan, TeamPlan
from .project import Effective, Project
from .language.pipeline import Pipeline
from .language.types import duration_seconds
from .contract import AFTER, BUILTIN_STEPS, PASSWORD_VARIABLE, READS, SPEC_PATH, USERNAME_VARIABLE, WORKDIR

LIGHT_STEP_TIMEOUT = 1800
RUNTIME_REQUIREMENTS = {"triton": ("pytorch",), "mlserver": ("mlflow",)}
TRAINING_STEPS = ("train", "evaluate")   # the steps that fit networks: same device, resources and semaphore
# (name, depends on, reads the outputs of): the runtime's own table, so cluster and laptop agree.
BUILTIN_DAG = tuple((name, AFTER[name], READS[name]) for name in BUILTIN_STEPS)


def lower(project: Project) -> Plan:
    by_env: dict[str, list[Effective]] = defaultdict(list)
    for (_, env_name), effective in sorted(project.effective.items()):
        by_env[env_name].append(effective)
    envs = []
    for env_name in sorted(project.environments):
        if env_name in by_env or not project.effective:
            envs.append(lower_environment(project, env_name, by_env.get(env_name, [])))
    return Plan(tuple(envs), project.teams)


def lower_environment(project: Project, env_name: str, effectives: Iterable[Effective]) -> EnvironmentPlan:
    env = project.environments[env_name]
    pipelines = tuple(lower_pipeline(e) for e in effectives)
    return EnvironmentPlan(env_name, env, project.files[f"environment/{env_name}"], team_plans(pipelines), pipelines)


def lower_pipeline(effective: Effective) -> PipelinePlan:
    p, env = effective.pipeline, effective.environment
    meta, env_name = p.metadata, env.metadata.name
    steps = _builtin_steps(effective) + _custom_steps(p)
    return PipelinePlan(
        name=meta.name,
        team=meta.team,
        env=env_name,
        namespace=names.namespace(env.spec.namespace, meta.team, env_name),
        description=meta.description,
        labels=names.labels(env_name, meta.team, meta.name, meta.labels),
        sources=effective.sources,
        pipeline=p,
        steps=steps,
        workflow_deadline_seconds=sum(s.timeout_seconds * (1 + s.retries) for s in steps),
        spec_configmap=names.spec_configmap(meta.name),
        spec_json=_spec_json(effective),
        schedule=_schedule(p, env.spec.schedules),
        serving=_serving(p, env.spec.artifacts.bucket),
        max_hours_since_success=p.spec.monitoring.max_hours_since_success,
    )


def _builtin_steps(effective: Effective) -> tuple[StepPlan, ...]:
    p, env = effective.pipeline, effective.environment
    training = p.spec.training
    heavy = {"cpu": training.resources.cpu, "memory": training.resources.memory}
    light = {"cpu": "500m", "memory": "1Gi"}
    train_timeout = duration_seconds(training.timeout)
    steps = []
    for name, depends, inputs in BUILTIN_DAG:
        resources = heavy if name in ("train", "evaluate", "features") else light
        timeout = {"train": train_timeout, "evaluate": train_timeout * p.spec.evaluation.folds}.get(name, LIGHT_STEP_TIMEOUT)
        steps.append(StepPlan(
            name=name, builtin=True, image=env.spec.image,
            command=("maestro", "step", name), args=_step_args(name),
            depends=depends, inputs=inputs, **resources,
            # evaluate trains the fold models, so it runs where train does: what is scored is what is served.
            gpus=training.resources.gpus if name in TRAINING_STEPS else 0,
            shared_memory=training.resources.shared_memory if name in TRAINING_STEPS and training.resources.gpus else None,
            retries=training.retries, timeout_seconds=timeout,
            when_gate_passed=name == "publish",
            output_parameter="passed" if name == "gate" else None,
            secret_env=_git_credentials(env) if name == "publish" else (),
        ))
    return tuple(steps)


def _step_args(name: str) -> tuple[str, ...]:
    args = ("--spec", SPEC_PATH, "--workdir", WORKDIR, "--run-id", "{{workflow.name}}")
    if name == "ingest":
        args += ("--start", "{{workflow.parameters.start}}", "--end", "{{workflow.parameters.end}}")
    if name == "publish":
        args += ("--write-back",)
    return args


def _git_credentials(env) -> tuple[tuple[str, str, str], ...]:
    """The write-back's git credentials, read from a Secret by key; never a value in a manifest."""

    secret = env.spec.gitops.credentials_secret
    return ((USERNAME_VARIABLE, secret, "username"), (PASSWORD_VARIABLE, secret, "password"))


def _custom_steps(p: Pipeline) -> tuple[StepPlan, ...]:
    return tuple(
        StepPlan(
            name=s.name, builtin=False, image=s.image, command=tuple(s.command), args=tuple(s.args),
            depends=tuple(dict.fromkeys((*s.after, *s.inputs))), inputs=tuple(s.inputs),
            cpu=s.resources.cpu, memory=s.resources.memory, gpus=s.resources.gpus,
            env=tuple(sorted(s.env.items())), secrets=tuple(s.secrets),
            retries=s.retries, timeout_seconds=duration_seconds(s.timeout),
        )
        for s in p.spec.steps
    )


def _spec_json(effective: Effective) -> str:
    document = {
        "pipeline": effective.pipeline.model_dump(mode="json", exclude={"spec": {"overrides"}}),
        "environment": effective.environment.model_dump(mode="json"),
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _schedule(p: Pipeline, schedules_on: bool) -> SchedulePlan | None:
    schedule = p.spec.schedule
    if schedule is None:
        return None
    name = names.fit(p.metadata.name, names.CRON_NAME_MAX)
    return SchedulePlan(name, schedule.cron, schedule.timezone, suspended=not schedules_on)


def _serving(p: Pipeline, bucket: str) -> ServingPlan | None:
    serving = p.spec.serving
    if serving is None or serving.default is None:
        return None
    runs = {v.name: v.run for v in serving.versions}
    served = [serving.default] + ([serving.experiment.candidate] if serving.experiment else [])
    models = tuple(
        ServedModel(names.seldon_model(p.metadata.name, v), v, runs[v],
                    f"s3://{bucket}/{names.model_key(p.metadata.team, p.metadata.name, runs[v])}")
        for v in served
    )
    return ServingPlan(serving.runtime, RUNTIME_REQUIREMENTS[serving.runtime], serving.replicas,
                       serving.memory, models, _experiment(p, models))


def _experiment(p: Pipeline, models: tuple[ServedModel, ...]) -> ExperimentPlan | None:
    experiment = p.spec.serving.experiment
    if experiment is None:
        return None
    default, candidate = models[0].name, models[1].name
    # A new name for every change of weights: Seldon applies edited weights unreliably (seldon-core#5181).
    name = names.fit(f"{p.metadata.name}-{experiment.mode}-{models[1].version}-w{experiment.candidate_weight}")
    return ExperimentPlan(name, experiment.mode, default, candidate, experiment.candidate_weight)


def team_plans(pipelines: Sequence) -> tuple[TeamPlan, ...]:
    """The teams of an environment from its pipelines (anything with name, team, env, namespace and
    sources: the incremental compile groups pipelines it has not loaded)."""
    grouped: dict[str, list[PipelinePlan]] = defaultdict(list)
    for plan in pipelines:
        grouped[plan.team].append(plan)
    return tuple(
        TeamPlan(
            team=team, env=plans[0].env, namespace=plans[0].namespace,
            labels=names.labels(plans[0].env, team),
            service_account=names.workflow_service_account(team),
            semaphore_configmap=names.semaphore_configmap(team),
            pipelines=tuple(p.name for p in plans),
            sources=tuple(sorted({s for p in plans for s in p.sources})),
        )
        for team, plans in sorted(grouped.items())
    )
