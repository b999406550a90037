"""Lower: effective specs to the target-neutral plan (IR), names resolved and defaults applied.

In: a loaded `Project`. Out: a `Plan`, one `EnvironmentPlan` per environment, sorted by name, and
teams.yaml's ownership. The only stage that reads the spec models: the emitters and the local
executor read the plan, and spec.json (what the pods read) is built here, once.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Sequence

from . import indented_json, names
from .ir import (ArtifactStore, EnvironmentPlan, EnvironmentSettings, ExperimentPlan, ExternalSecretPlan, GitopsLayout,
                 GpuPlacement, NetworkPlan, Ownership, PipelinePlan, Plan, QuotaPlan, SchedulePlan, ServedModel,
                 ServingPlan, StepPlan, SyncPolicy, TeamOwnership, TeamPlan, Toleration, TrainerPlan)
from .project import Effective, Project
from .language.environment import Artifacts, Environment
from .language.pipeline import Pipeline
from .language.teams import TEAMS_FILE, Teams
from .language.types import duration_seconds
from .language.workflow import CustomPipeline, is_custom
from .contract import AFTER, BUILTIN_STEPS, READS
from .step_calls import LIGHT_STEP_TIMEOUT, exchanged, git_credentials, step_args, training_placement

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
    return Plan(tuple(envs), ownership(project.teams))


def lower_environment(project: Project, env_name: str, effectives: Iterable[Effective]) -> EnvironmentPlan:
    pipelines = tuple(lower_pipeline(e) for e in effectives)
    return environment_plan(env_name, project.environments[env_name], project.files[f"environment/{env_name}"],
                            team_plans(pipelines), pipelines)


def environment_plan(name: str, env: Environment, source: str, teams: tuple[TeamPlan, ...],
                     pipelines: tuple[PipelinePlan, ...] = ()) -> EnvironmentPlan:
    """The plan of one environment from its (already lowered) teams and pipelines: the incremental
    compile passes teams without pipelines to emit what does not depend on them."""
    return EnvironmentPlan(name, environment_settings(env), source, teams, pipelines)


def environment_settings(env: Environment) -> EnvironmentSettings:
    spec = env.spec
    git, argocd, gpu, network = spec.gitops, spec.argocd, spec.gpu, spec.network
    return EnvironmentSettings(
        gitops=GitopsLayout(git.repo_url, git.revision, git.path.strip("/"), spec.cluster, argocd.namespace,
                            SyncPolicy(argocd.auto_sync, argocd.prune, argocd.self_heal)),
        gpu=GpuPlacement(gpu.resource, dict(gpu.node_selector),
                         tuple(Toleration(t.key, t.operator, t.value, t.effect, t.tolerationSeconds)
                               for t in gpu.tolerations),
                         gpu.priority_class, gpu.max_concurrent_trainings),
        quota=QuotaPlan(spec.quota.cpu, spec.quota.memory, spec.quota.gpus),
        network=NetworkPlan(tuple(network.egress), network.ingest_internet, tuple(network.inference_from),
                            network.seldon_namespace),
        artifacts=_artifact_store(spec.artifacts),
        trainer=TrainerPlan(spec.trainer.runtime),
    )


def _artifact_store(a: Artifacts) -> ArtifactStore:
    ref = a.external_secret
    external = ExternalSecretPlan(ref.store, ref.store_kind, ref.key) if ref else None
    return ArtifactStore(a.bucket, a.endpoint, a.region, a.insecure, a.credentials_secret, external)


def ownership(teams: Teams | None) -> Ownership | None:
    """teams.yaml as CODEOWNERS needs it; None without one."""
    if teams is None:
        return None
    declared = tuple(TeamOwnership(name, tuple(team.owners), tuple(team.paths))
                     for name, team in sorted(teams.spec.teams.items()))
    return Ownership(TEAMS_FILE, tuple(teams.spec.owners), declared)


def lower_pipeline(effective: Effective) -> PipelinePlan:
    p, env = effective.pipeline, effective.environment
    if is_custom(p):
        return _custom_pipeline(effective)
    meta, env_name = p.metadata, env.metadata.name
    steps = exchanged(_builtin_steps(effective) + _custom_steps(p))
    return PipelinePlan(
        name=meta.name,
        team=meta.team,
        env=env_name,
        namespace=names.namespace(env.spec.namespace, meta.team, env_name),
        description=meta.description,
        labels=names.labels(env_name, meta.team, meta.name, meta.labels),
        sources=effective.sources,
        data_start=p.spec.data.start,
        data_end=p.spec.data.end,
        steps=steps,
        workflow_deadline_seconds=sum(s.timeout_seconds * (1 + s.retries) for s in steps),
        spec_configmap=names.spec_configmap(meta.name),
        spec_json=spec_json(p, env),
        schedule=_schedule(p, env.spec.schedules),
        serving=_serving(p, env.spec.artifacts),
        max_hours_since_success=p.spec.monitoring.max_hours_since_success,
    )


def _custom_pipeline(effective: Effective) -> PipelinePlan:
    """A bring-your-own pipeline: its steps, the gate and publish (`lower_workflow`), no data window."""
    from .language.workflow import step_roles
    from .lower_workflow import workflow_steps

    p, env = effective.pipeline, effective.environment
    meta, env_name = p.metadata, env.metadata.name
    steps = workflow_steps(p, env)
    return PipelinePlan(
        name=meta.name, team=meta.team, env=env_name,
        namespace=names.namespace(env.spec.namespace, meta.team, env_name),
        description=meta.description, labels=names.labels(env_name, meta.team, meta.name, meta.labels),
        sources=effective.sources, data_start=None, data_end=None, steps=steps,
        workflow_deadline_seconds=sum(s.timeout_seconds * (1 + s.retries) for s in steps),
        spec_configmap=names.spec_configmap(meta.name), spec_json=spec_json(p, env),
        schedule=_schedule(p, env.spec.schedules), serving=_serving(p, env.spec.artifacts),
        max_hours_since_success=p.spec.monitoring.max_hours_since_success,
        template="custom", roles=tuple(sorted(step_roles(p.spec).items())),
    )


def _builtin_steps(effective: Effective) -> tuple[StepPlan, ...]:
    return tuple(_builtin_step(effective, name, depends, inputs) for name, depends, inputs in BUILTIN_DAG)


def _builtin_step(effective: Effective, name: str, depends: tuple[str, ...], inputs: tuple[str, ...]) -> StepPlan:
    p, env = effective.pipeline, effective.environment
    training = p.spec.training
    heavy = {"cpu": training.resources.cpu, "memory": training.resources.memory}
    resources = heavy if name in ("train", "evaluate", "features") else {"cpu": "500m", "memory": "1Gi"}
    train_timeout = duration_seconds(training.timeout)
    timeout = {"train": train_timeout, "evaluate": train_timeout * p.spec.evaluation.folds}.get(name, LIGHT_STEP_TIMEOUT)
    # evaluate trains the fold models, so it runs where train does: what is scored is what is served.
    trains = name in TRAINING_STEPS
    placement = training_placement(p.metadata.team, training.resources.gpus,
                                   training.resources.shared_memory) if trains else {}
    return StepPlan(
        name=name, builtin=True, image=env.spec.image,
        command=("maestro", "step", name), args=step_args(name),
        depends=depends, inputs=inputs, **resources, **placement,
        retries=training.retries, timeout_seconds=timeout,
        nodes=training.resources.nodes if name == "train" else 1,
        **_step_role(name, p, env),
    )


def _step_role(name: str, p: Pipeline, env: Environment) -> dict:
    """What one built-in step alone does: the gate decides (and keeps the trial registry when
    policy.multiple_testing asks for the correction); publish runs only on its yes, uploads the model
    and pushes to git."""
    team, pipeline = p.metadata.team, p.metadata.name
    if name == "gate":
        keeps_trials = env.spec.policy.multiple_testing is not None
        return {"output_parameter": "passed", "trials_key": names.trials_key(team, pipeline) if keeps_trials else None}
    if name == "publish":
        return {"when_gate_passed": True, "secret_env": git_credentials(env),
                "model_key": names.model_key(team, pipeline, "{{workflow.name}}")}
    return {}


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


def spec_json(pipeline: Pipeline, environment: Environment) -> str:
    """spec.json, the effective spec every built-in step reads: the pipeline (its overrides already
    applied, so without them) and its environment; exact values, sorted keys, two-space indent.

    What `json.dumps({"environment": ..., "pipeline": ...}, indent=2, sort_keys=True)` writes, with the
    environment's part written once per environment: JSON escapes every newline inside a string, so
    indenting a dumped value's lines nests it, byte for byte (tests/targets/test_plan.py)."""
    document = pipeline.model_dump(mode="json", exclude={"spec": {"overrides"}})
    if len(_section_texts) >= _SECTION_TEXTS_MAX:
        _section_texts.clear()
    pipeline_part = indented_json.dumps_remembering(document, _section_texts, indent="  ")
    return f'{{\n  "environment": {_nested(_environment_json(environment))},\n  "pipeline": {pipeline_part}\n}}\n'


# The JSON of a pipeline's sections (spec.data, spec.training, ...) by their compact JSON: one pipeline in
# several environments, and pipelines written from one template, repeat most of them.
_section_texts: dict[tuple[str, str], str] = {}
_SECTION_TEXTS_MAX = 8192
_environment_texts: dict[int, tuple[Environment, str]] = {}   # id -> (the environment, kept alive; its JSON)


def _environment_json(environment: Environment) -> str:
    known = _environment_texts.get(id(environment))
    if known is None or known[0] is not environment:
        if len(_environment_texts) >= 64:
            _environment_texts.clear()
        known = _environment_texts[id(environment)] = (
            environment, indented_json.dumps(environment.model_dump(mode="json")))
    return known[1]


def _nested(text: str) -> str:
    return text.replace("\n", "\n  ")


def _schedule(p: Pipeline, schedules_on: bool) -> SchedulePlan | None:
    schedule = p.spec.schedule
    if schedule is None:
        return None
    name = names.fit(p.metadata.name, names.CRON_NAME_MAX)
    return SchedulePlan(name, schedule.cron, schedule.timezone, suspended=not schedules_on)


def _serving(p: Pipeline | CustomPipeline, artifacts: Artifacts) -> ServingPlan | None:
    serving, bucket = p.spec.serving, artifacts.bucket
    if serving is None or serving.default is None:
        return None
    runs = {v.name: v.run for v in serving.versions}
    served = [serving.default] + ([serving.experiment.candidate] if serving.experiment else [])
    models = tuple(
        ServedModel(names.seldon_model(p.metadata.name, v), v, runs[v],
                    f"s3://{bucket}/{names.model_key(p.metadata.team, p.metadata.name, runs[v])}")
        for v in served
    )
    # A custom pipeline names what its model needs of a server; the built-in model is what its runtime loads.
    requirements = tuple(serving.requirements) if is_custom(p) else RUNTIME_REQUIREMENTS[serving.runtime]
    return ServingPlan(serving.runtime, requirements, serving.replicas,
                       serving.memory, models, _experiment(p, models),
                       names.seldon_storage_secret(artifacts.credentials_secret))


def _experiment(p: Pipeline, models: tuple[ServedModel, ...]) -> ExperimentPlan | None:
    experiment = p.spec.serving.experiment
    if experiment is None:
        return None
    default, candidate = models[0].name, models[1].name
    # A new name for every change of weights: Seldon applies edited weights unreliably (seldon-core#5181).
    name = names.fit(f"{p.metadata.name}-{experiment.mode}-{models[1].version}-w{experiment.candidate_weight}")
    return ExperimentPlan(name, experiment.mode, default, candidate, experiment.candidate_weight)


def team_plans(pipelines: Sequence) -> tuple[TeamPlan, ...]:
    """The teams of an environment from its pipelines (anything with name, team, env and namespace:
    the incremental compile groups pipelines it has not loaded)."""
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
        )
        for team, plans in sorted(grouped.items())
    )
