"""Policy: an environment's `policy` rules, checked on a pipeline's effective spec there.

In: an `Environment` and an effective `Pipeline`. Out: `Diagnostic`s about the field that breaks the
rule, not located yet; each one's hint names the environment field that states the rule (its path
under `spec`, e.g. `policy.max_gpus_per_step`), which the caller replaces with that field's position,
so the diagnostic points at both lines.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Iterator

from ..errors import Diagnostic
from .environment import Environment
from .pipeline import Pipeline
from .partial import reads
from .reserved import check_reserved_secrets


@reads("training", "steps")
def check_gpus(env: Environment, p: Pipeline) -> Iterator[Diagnostic]:
    limit = env.spec.policy.max_gpus_per_step
    if limit is None:
        return
    gpus = p.spec.training.resources.gpus
    if gpus > limit:
        yield Diagnostic.about(("spec", "training", "resources", "gpus"),
                               _exceeds(gpus, env, "max_gpus_per_step", limit), "policy.max_gpus_per_step")
    for i, step in enumerate(p.spec.steps):
        if step.resources.gpus > limit:
            yield Diagnostic.about(("spec", "steps", i, "resources", "gpus"),
                                   _exceeds(step.resources.gpus, env, "max_gpus_per_step", limit),
                                   "policy.max_gpus_per_step")


@reads("training")
def check_nodes(env: Environment, p: Pipeline) -> Iterator[Diagnostic]:
    yield from nodes_limit(env, p.spec.training.resources, ("spec", "training", "resources"))


def nodes_limit(env: Environment, resources, at: tuple) -> Iterator[Diagnostic]:
    """policy.max_nodes_per_step on a training step's `resources` (found at `at`): the built-in
    train step's and a custom pipeline's trainer's alike."""
    limit, nodes = env.spec.policy.max_nodes_per_step, resources.nodes
    if limit is not None and nodes > limit:
        yield Diagnostic.about((*at, "nodes"), _exceeds(nodes, env, "max_nodes_per_step", limit),
                               "policy.max_nodes_per_step")


def spanning_quota(env: Environment, resources, at: tuple) -> Iterator[Diagnostic]:
    """A training step spanning nodes asks for its GPUs on every node, all at once: nodes x gpus
    against quota.gpus (the built-in train step's and a custom trainer's)."""
    quota, name = env.spec.quota.gpus, env.metadata.name
    if resources.nodes > 1 and resources.nodes * resources.gpus > quota:
        yield Diagnostic.about((*at, "gpus"),
                               f"{resources.nodes} nodes x {resources.gpus} GPUs = {resources.nodes * resources.gpus} "
                               f"exceed {name}'s quota.gpus {quota}; the TrainJob's pods would never all be admitted",
                               "quota.gpus")


@reads("training", "steps")
def check_gpu_quota(env: Environment, p: Pipeline) -> Iterator[Diagnostic]:
    """A step asking for more GPUs than the namespace quota allows would be refused at run time; a
    train step spanning nodes asks for its GPUs on every node, all at once."""
    quota, name = env.spec.quota.gpus, env.metadata.name
    resources = p.spec.training.resources
    yield from spanning_quota(env, resources, ("spec", "training", "resources"))
    steps = [] if resources.nodes > 1 else [(("spec", "training", "resources", "gpus"), resources.gpus)]
    steps += [(("spec", "steps", i, "resources", "gpus"), s.resources.gpus) for i, s in enumerate(p.spec.steps)]
    for path, gpus in steps:
        if gpus > quota:
            yield Diagnostic.about(path, f"{gpus} exceeds {name}'s quota.gpus {quota}; the pod would "
                                         "never be admitted", "quota.gpus")


@reads("serving")
def check_candidate_weight(env: Environment, p: Pipeline) -> Iterator[Diagnostic]:
    experiment = p.spec.serving.experiment if p.spec.serving else None
    limit = env.spec.policy.max_candidate_weight
    if experiment is not None and experiment.candidate_weight > limit:
        yield Diagnostic.about(("spec", "serving", "experiment", "candidate_weight"),
                               _exceeds(experiment.candidate_weight, env, "max_candidate_weight", limit),
                               "policy.max_candidate_weight")


@reads("evaluation")
def check_gate(env: Environment, p: Pipeline) -> Iterator[Diagnostic]:
    policy, name = env.spec.policy, env.metadata.name
    if p.spec.evaluation.gate is not None:
        return
    if policy.require_gate:
        yield Diagnostic.about(("spec", "evaluation", "gate"),
                               f"the promotion gate is removed, but {name}'s policy.require_gate is true",
                               "policy.require_gate")
    elif policy.gate_floor is not None:
        yield Diagnostic.about(("spec", "evaluation", "gate"),
                               f"the promotion gate is removed, but {name}'s policy.gate_floor requires one",
                               "policy.gate_floor")


@reads("evaluation")
def check_gate_floor(env: Environment, p: Pipeline) -> Iterator[Diagnostic]:
    """A gate that is present but vacuous (accuracy 0, p-value 1, ...) is as good as none."""
    floor, gate = env.spec.policy.gate_floor, p.spec.evaluation.gate
    if floor is None or gate is None:
        return
    name = env.metadata.name

    def finding(field: str, message: str) -> Diagnostic:
        return Diagnostic.about(("spec", "evaluation", "gate", field), message, f"policy.gate_floor.{field}")

    for field in ("min_accuracy", "min_sharpe"):
        bound, value = getattr(floor, field), getattr(gate, field)
        if bound is not None and value < bound:
            yield finding(field, f"{value:g} is below {name}'s policy.gate_floor.{field} {bound:g}")
    if floor.max_p_value is not None and gate.max_p_value > floor.max_p_value:
        yield finding("max_p_value",
                      f"{gate.max_p_value:g} exceeds {name}'s policy.gate_floor.max_p_value {floor.max_p_value:g}")
    if floor.beat_baselines and not gate.beat_baselines:
        yield finding("beat_baselines", f"false, but {name}'s policy.gate_floor.beat_baselines is true")


@reads("steps")
def check_step_images(env: Environment, p: Pipeline) -> Iterator[Diagnostic]:
    for i, step in enumerate(p.spec.steps):
        for finding in image_findings(env, step.image):
            yield replace(finding, path=("spec", "steps", i, "image"))


def image_findings(env: Environment, image: str) -> Iterator[Diagnostic]:
    policy, name = env.spec.policy, env.metadata.name
    if policy.require_image_digest and "@sha256:" not in image:
        yield Diagnostic.about((), f"image '{image}' is not pinned by digest, but {name}'s "
                                   "policy.require_image_digest is true", "policy.require_image_digest")
    registries = policy.allowed_registries
    if registries and not any(image.startswith(r.rstrip("/") + "/") for r in registries):
        yield Diagnostic.about((), f"image '{image}' is not from {name}'s policy.allowed_registries "
                                   f"({', '.join(registries)})", "policy.allowed_registries")


def _exceeds(value: int, env: Environment, rule: str, limit: int) -> str:
    return f"{value} exceeds {env.metadata.name}'s policy.{rule} {limit}"


POLICY_CHECKS: tuple[Callable[[Environment, Pipeline], Iterator[Diagnostic]], ...] = (
    check_gpus,
    check_nodes,
    check_gpu_quota,
    check_candidate_weight,
    check_gate,
    check_gate_floor,
    check_step_images,
    check_reserved_secrets,
)


def check_policy(env: Environment, p: Pipeline) -> list[Diagnostic]:
    return [finding for check in POLICY_CHECKS for finding in check(env, p)]
