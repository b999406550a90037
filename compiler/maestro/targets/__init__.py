"""Emit: one module per target turns an `EnvironmentPlan` into Kubernetes objects.

In: the plan of one environment. Out: `Output`s, each one object and the gitops-relative path of the
file it goes in. Adding a target is one new module and one entry in `TARGETS`.
"""

from __future__ import annotations

from ..ir import EnvironmentPlan
from . import argo, argocd, monitoring, platform, seldon
from .output import Emitter, Output, object_path

TARGETS: tuple[Emitter, ...] = (platform.emit, monitoring.emit, argo.emit, seldon.emit, argocd.emit)


def emit_all(plan: EnvironmentPlan) -> list[Output]:
    return [output for emit in TARGETS for output in emit(plan)]


__all__ = ["TARGETS", "Emitter", "Output", "emit_all", "object_path"]
