"""What every emitter returns: one Kubernetes object and the gitops file it goes in."""

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
