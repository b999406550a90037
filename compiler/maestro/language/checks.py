"""Semantic checks of a validated pipeline: references, the custom-step DAG, secrets in env, ranges.

In: a `Pipeline` model. Out: `Diagnostic`s (field path, message, hint), which the caller locates.
Each check is a small function; `PIPELINE_CHECKS` is their ordered tuple.
"""

from __future__ import annotations

import re
from typing import Callable, Iterator

from ..errors import Diagnostic, did_you_mean, one_of
from ..contract import BUILTIN_STEPS
from .pipeline import Pipeline
from .partial import reads
from .types import env_name_problem, image_problem

# A variable looks like a credential when its name, in any case, contains one of CREDENTIAL_WORDS
# anywhere (DBPASSWORD, Password1, HFTOKEN, GIT_ASKPASS), or has one of CREDENTIAL_PARTS as a whole
# part between `_`, `-`, `.` or digits (GH_PAT, DB_PASS, SSH_KEY; not PATH or MONKEY). TOKEN is not
# a credential only where it counts tokens: TOKENIZERS_PARALLELISM, MAX_TOKENS. docs/spec.md
# states the same rule.
CREDENTIAL_WORDS = ("PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "ASKPASS", "CREDENTIAL",
                    "APIKEY", "API_KEY", "ACCESSKEY", "ACCESS_KEY", "PRIVATEKEY", "PRIVATE_KEY", "AUTH_KEY")
CREDENTIAL_PARTS = ("PAT", "PASS", "PWD", "KEY", "KEYS", "AUTH", "CREDS", "COOKIE")
# PWD is a credential part only with a prefix: a bare PWD is the shell's working directory.
NOT_CREDENTIALS = re.compile(r"TOKENIZ|(?:^|[^A-Z])TOKENS(?:[^A-Z]|$)")
NAME_PARTS = re.compile(r"[^A-Z]+")


def looks_like_credential(name: str) -> bool:
    upper = name.upper()
    if any(word in NOT_CREDENTIALS.sub("", upper) for word in CREDENTIAL_WORDS):
        return True
    return upper != "PWD" and any(part in CREDENTIAL_PARTS for part in NAME_PARTS.split(upper))


@reads("data")
def check_dates(p: Pipeline) -> Iterator[Diagnostic]:
    data = p.spec.data
    if data.end is not None and data.start >= data.end:
        yield Diagnostic.about(("spec", "data", "end"), f"end {data.end} is not after start {data.start}")


@reads("data")
def check_csv_path(p: Pipeline) -> Iterator[Diagnostic]:
    data = p.spec.data
    if data.source == "csv" and not data.path:
        yield Diagnostic.about(("spec", "data", "source"), "source 'csv' needs data.path", "e.g. path: data/aapl.csv")
    if data.source != "csv" and data.path:
        yield Diagnostic.about(("spec", "data", "path"), f"path is only used with source 'csv', not '{data.source}'")


@reads("features")
def check_features(p: Pipeline) -> Iterator[Diagnostic]:
    for i, feature in enumerate(p.spec.features):
        if feature.kind == "macd" and feature.fast >= feature.slow:
            yield Diagnostic.about(("spec", "features", i, "fast"),
                                   f"fast {feature.fast} must be below slow {feature.slow}")


@reads("model")
def check_model(p: Pipeline) -> Iterator[Diagnostic]:
    model = p.spec.model
    if model.kind == "transformer" and model.hidden_size % model.heads:
        yield Diagnostic.about(("spec", "model", "heads"),
                               f"{model.heads} heads do not divide hidden_size {model.hidden_size}",
                               "choose heads that divide hidden_size")


@reads("serving")
def check_serving_references(p: Pipeline) -> Iterator[Diagnostic]:
    serving = p.spec.serving
    if serving is None:
        return
    names = [v.name for v in serving.versions]
    for i, name in enumerate(names):
        if name in names[:i]:
            yield Diagnostic.about(("spec", "serving", "versions", i, "name"), f"version '{name}' is listed twice")
    if serving.versions and serving.default is None:
        yield Diagnostic.about(("spec", "serving", "default"), "required when versions are listed", one_of(names))
    if serving.default is not None and serving.default not in names:
        yield _unknown_version(("spec", "serving", "default"), serving.default, names)
    experiment = serving.experiment
    if experiment is not None:
        path = ("spec", "serving", "experiment", "candidate")
        if experiment.candidate not in names:
            yield _unknown_version(path, experiment.candidate, names)
        elif experiment.candidate == serving.default:
            yield Diagnostic.about(path, f"candidate '{experiment.candidate}' is already the default",
                                   "a candidate must differ from the default")
    previous = serving.previous_default
    if previous is not None:
        path = ("spec", "serving", "previous_default")
        if previous not in names:
            yield _unknown_version(path, previous, names)
        elif previous == serving.default:
            yield Diagnostic.about(path, f"previous_default '{previous}' is the default itself",
                                   "name the version served before the default, or remove previous_default")


def _unknown_version(path: tuple, name: str, names: list[str]) -> Diagnostic:
    hint = did_you_mean(name, names) or (one_of(names) if names else "add it to serving.versions first")
    return Diagnostic.about(path, f"'{name}' is not among serving.versions", hint)


@reads("steps")
def check_step_names(p: Pipeline) -> Iterator[Diagnostic]:
    seen: set[str] = set()
    for i, step in enumerate(p.spec.steps):
        if step.name in BUILTIN_STEPS:
            yield Diagnostic.about(("spec", "steps", i, "name"), f"'{step.name}' is a built-in step's name",
                                   "built-in steps: " + ", ".join(BUILTIN_STEPS))
        elif step.name in seen:
            yield Diagnostic.about(("spec", "steps", i, "name"), f"step '{step.name}' is defined twice")
        seen.add(step.name)


@reads("steps")
def check_step_references(p: Pipeline) -> Iterator[Diagnostic]:
    known = set(BUILTIN_STEPS) | {s.name for s in p.spec.steps}
    for i, step in enumerate(p.spec.steps):
        for field in ("after", "inputs"):
            for j, ref in enumerate(getattr(step, field)):
                if ref not in known:
                    yield Diagnostic.about(("spec", "steps", i, field, j), f"unknown step '{ref}'",
                                           did_you_mean(ref, known) or one_of(known))
                elif ref == step.name:
                    yield Diagnostic.about(("spec", "steps", i, field, j), f"step '{ref}' cannot depend on itself")


@reads("steps")
def check_step_cycles(p: Pipeline) -> Iterator[Diagnostic]:
    steps = {s.name: i for i, s in enumerate(p.spec.steps)}
    edges = {s.name: [r for r in (*s.after, *s.inputs) if r in steps and r != s.name] for s in p.spec.steps}
    reported: set[frozenset] = set()
    for name in edges:
        cycle = _cycle_from(name, edges)
        if cycle and frozenset(cycle) not in reported:
            reported.add(frozenset(cycle))
            first = min(cycle, key=steps.get)
            yield Diagnostic.about(("spec", "steps", steps[first], "name"),
                                   "custom steps form a cycle: " + " -> ".join(_rotate(cycle, first) + [first]),
                                   "remove one of these dependencies")


def _cycle_from(start: str, edges: dict[str, list[str]]) -> list[str] | None:
    stack, path = [(start, iter(edges[start]))], [start]
    while stack:
        node, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            path.pop()
        elif child == start:
            return list(path)
        elif child not in path:
            stack.append((child, iter(edges[child])))
            path.append(child)
    return None


def _rotate(cycle: list[str], first: str) -> list[str]:
    i = cycle.index(first)
    return cycle[i:] + cycle[:i]


@reads("steps")
def check_env_secrets(p: Pipeline) -> Iterator[Diagnostic]:
    for i, step in enumerate(p.spec.steps):
        for name in step.env:
            if looks_like_credential(name):
                yield Diagnostic.about(("spec", "steps", i, "env", name),
                                       f"'{name}' looks like a credential; secret values never go in a spec",
                                       "put it in a Kubernetes Secret and list the Secret under secrets:")


@reads("steps")
def check_env_names(p: Pipeline) -> Iterator[Diagnostic]:
    for i, step in enumerate(p.spec.steps):
        for name in step.env:
            problem = env_name_problem(name)
            if problem:
                yield Diagnostic.about(("spec", "steps", i, "env", name), problem)


@reads("steps")
def check_images(p: Pipeline) -> Iterator[Diagnostic]:
    for i, step in enumerate(p.spec.steps):
        problem = image_problem(step.image)
        if problem:
            yield Diagnostic.about(("spec", "steps", i, "image"), problem)


@reads("evaluation", "target")
def check_evaluation(p: Pipeline) -> Iterator[Diagnostic]:
    ev = p.spec.evaluation
    if ev.gap < p.spec.target.horizon:
        yield Diagnostic.about(("spec", "evaluation", "gap"),
                               f"gap {ev.gap} is shorter than the target horizon {p.spec.target.horizon}",
                               "a gap of at least the horizon keeps test labels out of training")


PIPELINE_CHECKS: tuple[Callable[[Pipeline], Iterator[Diagnostic]], ...] = (
    check_dates,
    check_csv_path,
    check_features,
    check_model,
    check_serving_references,
    check_step_names,
    check_step_references,
    check_step_cycles,
    check_env_secrets,
    check_env_names,
    check_images,
    check_evaluation,
)


def check_pipeline(p: Pipeline) -> list[Diagnostic]:
    return [finding for check in PIPELINE_CHECKS for finding in check(p)]


@reads("training")
def check_cpu_nodes(p: Pipeline, env_name: str) -> Iterator[Diagnostic]:
    """Several nodes without GPUs is most often an override that dropped the GPUs (dev's gpus: 0) but
    kept the nodes: every node would be paid for and train on CPU. Allowed only when asked for."""
    yield from cpu_nodes(p.spec.training.resources, ("spec", "training", "resources"), env_name)


def cpu_nodes(resources, at: tuple, env_name: str) -> Iterator[Diagnostic]:
    """The rule of check_cpu_nodes on a training step's `resources` found at `at` (the built-in train
    step's, a custom trainer's)."""
    if resources.nodes > 1 and not resources.gpus and not resources.allow_cpu_nodes:
        yield Diagnostic.about((*at, "nodes"),
                               f"{resources.nodes} nodes but no GPUs in {env_name}: each node would train on CPU",
                               "give the nodes GPUs (gpus: N), set nodes: 1, or set allow_cpu_nodes: true")


# On the effective spec of each environment only: the pipeline as written may leave its GPUs to an
# environment's defaults or overrides.
EFFECTIVE_CHECKS: tuple[Callable[[Pipeline, str], Iterator[Diagnostic]], ...] = (check_cpu_nodes,)


def check_effective(p: Pipeline, env_name: str) -> list[Diagnostic]:
    return [finding for check in EFFECTIVE_CHECKS for finding in check(p, env_name)]
