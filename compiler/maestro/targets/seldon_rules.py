"""Check the serving plan against the rules Seldon's scheduler enforces only at run time.

In: an `EnvironmentPlan`. Out: nothing, or one `MaestroError` with every broken rule located at
the pipeline's spec file. The spec layer already guarantees most of these; this is the defensive
last line before objects are emitted (Seldon would accept the object and leave it not Ready).
Rules (scheduler/pkg/store/experiment/validate.go, scheduler/pkg/store/utils/validate.go):
names match `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`; the default is a candidate; no name is both a
candidate and the mirror; a model is the baseline of at most one experiment in its namespace;
an experiment's models are served.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Callable, Iterator

from ..errors import Diagnostic, raise_if_any
from ..ir import EnvironmentPlan, ExperimentPlan, PipelinePlan
from .objects import pipeline_file

SELDON_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
NAME_HINT = "use lower-case letters, digits and '-'; Seldon refuses dots"


SpecOf = Callable[[ExperimentPlan], dict]


def check_plan(plan: EnvironmentPlan, spec_of: SpecOf) -> None:
    """Raise if the plan, or an Experiment spec built from it by `spec_of`, breaks a rule."""
    diagnostics = [d for p in plan.pipelines if p.serving for d in _pipeline_findings(p, spec_of)]
    raise_if_any(diagnostics + list(_baseline_findings(plan)))


def _diagnostic(pipeline: PipelinePlan, path: str, message: str, hint: str = "") -> Diagnostic:
    return Diagnostic(pipeline_file(pipeline), 1, 1, path, f"{message} (environment {pipeline.env})", hint)


def _pipeline_findings(p: PipelinePlan, spec_of: SpecOf) -> Iterator[Diagnostic]:
    for served in p.serving.models:
        if not SELDON_NAME.match(served.name):
            yield _diagnostic(p, "spec.serving.versions", f"Seldon Model name '{served.name}' is invalid", NAME_HINT)
    if p.serving.experiment:
        yield from _experiment_findings(p, spec_of(p.serving.experiment))


def _experiment_findings(p: PipelinePlan, spec: dict) -> Iterator[Diagnostic]:
    name, path = p.serving.experiment.name, "spec.serving.experiment"
    candidates = [c["name"] for c in spec["candidates"]]
    mirror = spec.get("mirror", {}).get("name")
    if not SELDON_NAME.match(name):
        yield _diagnostic(p, path, f"Seldon Experiment name '{name}' is invalid", NAME_HINT)
    if spec.get("default") not in candidates:
        yield _diagnostic(p, path, f"default model '{spec.get('default')}' is not a candidate of experiment '{name}'")
    for twice in sorted({c for c in candidates if candidates.count(c) > 1} | ({mirror} & set(candidates))):
        yield _diagnostic(p, path, f"model '{twice}' appears twice in experiment '{name}' (candidates and mirror)",
                          "choose a candidate version other than the default")
    for missing in sorted(set(candidates + [mirror] * bool(mirror)) - {m.name for m in p.serving.models}):
        yield _diagnostic(p, path, f"experiment '{name}' refers to model '{missing}', which is not served")


def _baseline_findings(plan: EnvironmentPlan) -> Iterator[Diagnostic]:
    baselines: dict[tuple[str, str], list[PipelinePlan]] = defaultdict(list)
    for p in plan.pipelines:
        if p.serving and p.serving.experiment:
            baselines[(p.namespace, p.serving.experiment.default)].append(p)
    for (_, model), owners in sorted(baselines.items()):
        for p in owners[1:]:
            message = f"model '{model}' is already the baseline of experiment '{owners[0].serving.experiment.name}'"
            yield _diagnostic(p, "spec.serving.experiment", message, "a model can be the default of one experiment only")
