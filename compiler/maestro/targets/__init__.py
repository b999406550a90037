"""Emit: one module per target turns an `EnvironmentPlan` into Kubernetes objects.

In: the plan of one environment. Out: `Output`s, each one object and the gitops-relative path of the
file it goes in. Adding a target is one new module and one entry in `TARGETS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from ..ir import EnvironmentPlan


@dataclass(frozen=True)
class Output:
    path: str                   # relative to the gitops root, e.g. "prod/quant-research-prod/workflowtemplate-x.yaml"
    body: dict                  # one Kubernetes object
    sources: tuple[str, ...]    # spec files it came from, relative to the project root


Emitter = Callable[[EnvironmentPlan], Iterable[Output]]


def object_path(env: str, folder: str, body: dict) -> str:
    """The conventional file of an object: `<env>/<folder>/<kind>-<name>.yaml`."""
    return f"{env}/{folder}/{body['kind'].lower()}-{body['metadata']['name']}.yaml"


def registry() -> tuple[Emitter, ...]:
    from . import argo, argocd, monitoring, platform, seldon

    return (platform.emit, monitoring.emit, argo.emit, seldon.emit, argocd.emit)


def emit_all(plan: EnvironmentPlan) -> list[Output]:
    return [output for emit in registry() for output in emit(plan)]
