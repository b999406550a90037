"""Semantic checks of a custom (bring-your-own) pipeline: step names, references, artifacts, the DAG, roles.

In: a validated `CustomPipeline` (and for the policy table, its `Environment`). Out: `Diagnostic`s
(field path, message, hint), which the caller locates. A cycle is reported at the reference that
closes it, the `after:` (or `inputs:`) entry a depth-first walk in the file's order meets last.
"""

from __future__ import annotations

from typing import Callable, Iterator, Optional

from ..errors import Diagnostic, did_you_mean, one_of
from .checks import check_env_names, check_env_secrets, check_images, check_serving_references, cpu_nodes
from .environment import Environment
from .policy import check_candidate_weight, check_step_images, nodes_limit, spanning_quota
from .reserved import check_reserved_secrets
from .workflow import (ADDED_STEPS, EVALUATOR, METRICS_ARTIFACT, MODEL_ARTIFACT, TRAINER, CustomPipeline,
                       split_input)

STEPS = ("spec", "steps")
REFERENCE_FIELDS = ("after", "inputs")


def check_workflow_names(p: CustomPipeline) -> Iterator[Diagnostic]:
    seen: set[str] = set()
    for i, step in enumerate(p.spec.steps):
        if step.name in ADDED_STEPS:
            yield Diagnostic.about((*STEPS, i, "name"), f"'{step.name}' is the name of a step maestro adds",
                                   "maestro adds: " + ", ".join(ADDED_STEPS) + "; choose another name")
        elif step.name in seen:
            yield Diagnostic.about((*STEPS, i, "name"), f"step '{step.name}' is defined twice",
                                   "give each step its own name")
        seen.add(step.name)
        outputs: set[str] = set()
        for j, output in enumerate(step.outputs):
            if output in outputs:
                yield Diagnostic.about((*STEPS, i, "outputs", j), f"output '{output}' is listed twice")
            outputs.add(output)


def check_workflow_references(p: CustomPipeline) -> Iterator[Diagnostic]:
    steps = {s.name: s for s in p.spec.steps}
    for i, step in enumerate(p.spec.steps):
        for j, ref in enumerate(step.after):
            yield from _step_reference((*STEPS, i, "after", j), ref, step.name, steps)
        for j, ref in enumerate(step.inputs):
            yield from _input_reference((*STEPS, i, "inputs", j), ref, step.name, steps)


def _step_reference(path: tuple, ref: str, own: str, steps: dict) -> Iterator[Diagnostic]:
    if ref == own:
        yield Diagnostic.about(path, f"step '{ref}' cannot depend on itself", "remove it")
    elif ref not in steps:
        yield Diagnostic.about(path, f"unknown step '{ref}'", did_you_mean(ref, steps) or one_of(steps))


def _input_reference(path: tuple, ref: str, own: str, steps: dict) -> Iterator[Diagnostic]:
    name, artifact = split_input(ref)
    if not artifact:
        example = f"{name}.{steps[name].outputs[0]}" if name in steps and steps[name].outputs else "prepare.table"
        yield Diagnostic.about(path, f"'{ref}' names no artifact", f"an input is step.artifact, e.g. {example}")
        return
    if name == own or name not in steps:
        yield from _step_reference(path, name, own, steps)
        return
    outputs = steps[name].outputs
    if artifact not in outputs:
        hint = did_you_mean(artifact, outputs) or (one_of(outputs) if outputs else f"step '{name}' declares no outputs")
        yield Diagnostic.about(path, f"step '{name}' has no output '{artifact}'", hint)


def check_workflow_variables(p: CustomPipeline) -> Iterator[Diagnostic]:
    """MAESTRO_* name a step's folders (contract.artifact_variables); a step's own would shadow them."""
    for i, step in enumerate(p.spec.steps):
        for name in step.env:
            if name.upper().startswith("MAESTRO_"):
                yield Diagnostic.about((*STEPS, i, "env", name), f"'{name}': MAESTRO_* variables are set by maestro",
                                       "choose a name without the MAESTRO_ prefix")


def check_workflow_input_names(p: CustomPipeline) -> Iterator[Diagnostic]:
    """Argo names an input `<step>-<output>`: two inputs of one step must not share that name."""
    for i, step in enumerate(p.spec.steps):
        seen: dict[str, str] = {}
        for j, ref in enumerate(step.inputs):
            name = "-".join(split_input(ref))
            if name in seen:
                yield Diagnostic.about((*STEPS, i, "inputs", j), f"'{ref}' is listed twice" if seen[name] == ref
                                       else f"'{ref}' and '{seen[name]}' both become the artifact '{name}'",
                                       "list each input once" if seen[name] == ref else "rename one of the outputs")
            seen.setdefault(name, ref)


def check_workflow_cycles(p: CustomPipeline) -> Iterator[Diagnostic]:
    """Each cycle once, at the reference that closes it: walking each step's dependencies depth first
    in the file's order, the reference that leads back to a step still being walked."""
    index = {s.name: i for i, s in enumerate(p.spec.steps)}
    state: dict[str, str] = {}      # name -> "open" while walked, "done" after
    reported: set[frozenset] = set()
    for name in index:
        for cycle, finding in _walk(name, p, index, state, []):
            if frozenset(cycle) not in reported:
                reported.add(frozenset(cycle))
                yield finding


def _walk(name: str, p: CustomPipeline, index: dict, state: dict, path: list) -> Iterator[tuple[list, Diagnostic]]:
    if state.get(name):
        return
    state[name] = "open"
    path.append(name)
    i = index[name]
    for field, j, target in _dependencies(p.spec.steps[i]):
        if target not in index or target == name:
            continue                  # unknown or itself: check_workflow_references says so
        if state.get(target) == "open":
            cycle = [name, *path[path.index(target):-1], name]   # each waits for the next
            yield cycle, Diagnostic.about((*STEPS, i, field, j), "this dependency closes a cycle: "
                                          + " -> ".join(cycle) + " (each step waits for the next)",
                                          "remove one of these dependencies")
        else:
            yield from _walk(target, p, index, state, path)
    path.pop()
    state[name] = "done"


def _dependencies(step) -> Iterator[tuple[str, int, str]]:
    """(field, index, step) of each step this one waits for, the first reference to it only."""
    seen: set[str] = set()
    for field, refs in (("after", step.after), ("inputs", [split_input(r)[0] for r in step.inputs])):
        for j, ref in enumerate(refs):
            if ref not in seen:
                seen.add(ref)
                yield field, j, ref


def check_workflow_roles(p: CustomPipeline) -> Iterator[Diagnostic]:
    for role, artifact in ((TRAINER, MODEL_ARTIFACT), (EVALUATOR, METRICS_ARTIFACT)):
        holders = [(i, s) for i, s in enumerate(p.spec.steps) if s.role == role]
        if not holders:
            others = ", ".join(s.name for s in p.spec.steps)
            yield Diagnostic.about(STEPS, f"no step has role: {role}",
                                   f"give exactly one of the steps ({others}) role: {role}")
            continue
        first = holders[0][1].name
        for i, step in holders[1:]:
            yield Diagnostic.about((*STEPS, i, "role"), f"step '{first}' already has role: {role}",
                                   f"exactly one step is the {role}")
        i, step = holders[0]
        if artifact not in step.outputs:
            yield Diagnostic.about((*STEPS, i, "role"), f"the {role} '{step.name}' declares no output '{artifact}'",
                                   f"add outputs: [{', '.join([*step.outputs, artifact])}]")


# What the servers of Seldon Core 2's default ServerConfigs (the ones maestro's Server objects use)
# advertise: a Model whose requirements a server lacks is never scheduled, and says so only at run time.
SERVER_CAPABILITIES = {
    "mlserver": ("mlserver", "alibi-detect", "alibi-explain", "huggingface", "lightgbm", "mlflow", "python",
                 "sklearn", "spark-mlib", "xgboost"),
    "triton": ("triton", "dali", "fil", "onnx", "openvino", "python", "pytorch", "tensorflow", "tensorrt"),
}


def check_workflow_requirements(p: CustomPipeline) -> Iterator[Diagnostic]:
    serving = p.spec.serving
    if serving is None:
        return
    known = SERVER_CAPABILITIES[serving.runtime]
    for j, requirement in enumerate(serving.requirements):
        if requirement not in known:
            yield Diagnostic.about(("spec", "serving", "requirements", j),
                                   f"'{requirement}' is not a capability of Seldon's {serving.runtime} servers",
                                   did_you_mean(requirement, known) or one_of(known))


def check_workflow_nodes(p: CustomPipeline) -> Iterator[Diagnostic]:
    """Only the trainer may span nodes (a TrainJob, docs/multinode.md); every other step is one pod."""
    for i, step in enumerate(p.spec.steps):
        if step.resources.nodes > 1 and step.role != TRAINER:
            yield Diagnostic.about((*STEPS, i, "resources", "nodes"),
                                   f"{step.resources.nodes} nodes: only the trainer may span nodes",
                                   "nodes: 1, or role: trainer on this step (docs/multinode.md)")
        elif step.resources.nodes > 1 and step.secrets:
            # A TrainJob's trainer takes env entries only (Trainer v2.3.0): no envFrom of a whole Secret.
            yield Diagnostic.about((*STEPS, i, "secrets"), "secrets on a trainer spanning nodes: a TrainJob's "
                                   "trainer cannot take a Secret with envFrom", "nodes: 1, or no secrets on the trainer")


WORKFLOW_CHECKS: tuple[Callable[[CustomPipeline], Iterator[Diagnostic]], ...] = (
    check_workflow_names,
    check_workflow_references,
    check_workflow_cycles,
    check_workflow_variables,
    check_workflow_input_names,
    check_workflow_roles,
    check_workflow_nodes,
    check_env_secrets,
    check_env_names,
    check_images,
    check_serving_references,
    check_workflow_requirements,
)


def check_workflow(p: CustomPipeline) -> list[Diagnostic]:
    return [finding for check in WORKFLOW_CHECKS for finding in check(p)]


def check_workflow_effective(p: CustomPipeline, env_name: str) -> list[Diagnostic]:
    """On the effective spec of each environment, as the built-in's EFFECTIVE_CHECKS: a trainer
    spanning nodes without GPUs there (an override that dropped them) is refused unless asked for."""
    return [finding for i, step in enumerate(p.spec.steps) if step.role == TRAINER
            for finding in cpu_nodes(step.resources, (*STEPS, i, "resources"), env_name)]


# ---- policy -------------------------------------------------------------------------------------

def check_workflow_gpus(env: Environment, p: CustomPipeline) -> Iterator[Diagnostic]:
    """GPUs per pod (per node for a trainer spanning nodes) against the policy; against the quota, a
    spanning trainer's nodes x gpus, as for the built-in train step (`policy.spanning_quota`)."""
    limit, quota, name = env.spec.policy.max_gpus_per_step, env.spec.quota.gpus, env.metadata.name
    for i, step in enumerate(p.spec.steps):
        at = (*STEPS, i, "resources")
        gpus, path = step.resources.gpus, (*at, "gpus")
        if step.role == TRAINER:
            yield from nodes_limit(env, step.resources, at)
        if limit is not None and gpus > limit:
            yield Diagnostic.about(path, f"{gpus} exceeds {name}'s policy.max_gpus_per_step {limit}",
                                   "policy.max_gpus_per_step")
        elif step.role == TRAINER and step.resources.nodes > 1:
            yield from spanning_quota(env, step.resources, at)
        elif gpus > quota:
            yield Diagnostic.about(path, f"{gpus} exceeds {name}'s quota.gpus {quota}; the pod would never be admitted",
                                   "quota.gpus")


def check_workflow_gate(env: Environment, p: CustomPipeline) -> Iterator[Diagnostic]:
    """require_gate and gate_floor ask for a gate; the floor's bounds are on market-data figures
    (accuracy, Sharpe, p-value), so a custom gate is held only to bounding at least one metric."""
    policy, name, gate = env.spec.policy, env.metadata.name, p.spec.gate
    rule = "policy.require_gate" if policy.require_gate else "policy.gate_floor" if policy.gate_floor else None
    if rule is None:
        return
    if gate is None:
        yield Diagnostic.about(("spec", "gate"), f"the promotion gate is removed, but {name}'s {rule} requires one", rule)
    elif not gate.min and not gate.max:
        yield Diagnostic.about(("spec", "gate"), f"the gate bounds no metric, but {name}'s {rule} requires a gate",
                               rule)


CUSTOM_POLICY_CHECKS: tuple[Callable[[Environment, CustomPipeline], Iterator[Diagnostic]], ...] = (
    check_workflow_gpus,
    check_candidate_weight,
    check_workflow_gate,
    check_step_images,
    check_reserved_secrets,
)


def check_workflow_policy(env: Environment, p: CustomPipeline) -> list[Diagnostic]:
    return [finding for check in CUSTOM_POLICY_CHECKS for finding in check(env, p)]


# ---- a custom pipeline that failed its model -------------------------------------------------

def partial_checks(data: dict, problems: list[Diagnostic]) -> tuple[list[Diagnostic], dict[str, tuple]]:
    """The findings of the checks a custom pipeline whose model failed can still have: every check
    reads `spec.steps` (and the serving check `spec.serving`), so they run when those validate on
    their own. Out: the findings, and {check not run: the sections with errors that stopped it}."""
    from pydantic import TypeAdapter, ValidationError

    from .partial import check_name
    from .workflow import CustomServing, CustomSpec, WorkflowStep

    raw = data.get("spec") if isinstance(data.get("spec"), dict) else {}
    bad = {p.path[1] for p in problems if p.path[:1] == ("spec",) and len(p.path) > 1}
    bad |= {"steps", "serving"} if any(p.path in ((), ("spec",)) for p in problems) else set()
    sections = {}
    for name, kind in (("steps", list[WorkflowStep]), ("serving", Optional[CustomServing])):
        try:
            sections[name] = TypeAdapter(kind).validate_python(raw.get(name)) if name not in bad else None
        except ValidationError:
            bad.add(name)
    findings, not_run = [], {}
    partial = CustomPipeline.model_construct(spec=CustomSpec.model_construct(**sections))
    for check in WORKFLOW_CHECKS:
        reads = ("serving",) if check in (check_serving_references, check_workflow_requirements) else ("steps",)
        blocking = tuple(s for s in reads if s in bad)
        if blocking:
            not_run[check_name(check)] = tuple(dict.fromkeys(blocking))
        else:
            findings.extend(check(partial))
    return findings, not_run
