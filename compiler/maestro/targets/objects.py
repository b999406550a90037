"""Emit helpers shared by the platform, Seldon, Argo CD and monitoring targets.

In: names, labels and the plan's grouping of teams. Out: object metadata (labels plus the sync-wave
annotation), `Output`s, and the namespaces of an environment with the teams and pipelines in each.
Pure functions; nothing here knows a particular target.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from .. import names
from ..ir import EnvironmentPlan, PipelinePlan, TeamPlan
from .output import Output, object_path


@dataclass(frozen=True)
class NamespacePlan:
    """One team namespace: with a fixed namespace pattern several teams share it."""

    name: str
    env: str
    teams: tuple[TeamPlan, ...]
    pipelines: tuple[PipelinePlan, ...]
    source: str                       # the environment's spec file

    @property
    def labels(self) -> dict:
        # A shared namespace belongs to no single team, so it carries no team label.
        team = self.teams[0].team if len(self.teams) == 1 else None
        return names.labels(self.env, team)

    @property
    def sources(self) -> tuple[str, ...]:
        """What a namespace-wide object's content comes from: the environment alone. Its team names
        come from pipelines, but which pipelines does not change it, so adding one leaves it alone."""
        return (self.source,)

    def sources_of(self, pipelines: Iterable[PipelinePlan]) -> tuple[str, ...]:
        """The sources of an object whose content depends on `pipelines`: theirs and the environment's."""
        return tuple(sorted({self.source, *(s for p in pipelines for s in p.sources)}))

    @property
    def served(self) -> tuple[PipelinePlan, ...]:
        return tuple(p for p in self.pipelines if p.serving)


def namespaces(plan: EnvironmentPlan) -> tuple[NamespacePlan, ...]:
    """The team namespaces of an environment, sorted by name."""
    teams: dict[str, list[TeamPlan]] = {}
    for t in plan.teams:
        teams.setdefault(t.namespace, []).append(t)
    pipelines: dict[str, list[PipelinePlan]] = {}
    for p in plan.pipelines:
        pipelines.setdefault(p.namespace, []).append(p)
    return tuple(NamespacePlan(ns, plan.name, tuple(teams[ns]), tuple(pipelines.get(ns, ())), plan.source)
                 for ns in sorted(teams))


def metadata(kind: str, name: str, labels: dict, namespace: str | None = None,
             annotations: dict | None = None) -> dict:
    """Metadata with maestro's labels and the Argo CD sync wave of `kind`."""
    meta = {"name": name, "labels": dict(labels),
            "annotations": {**(annotations or {}), **names.sync_wave(kind)}}
    if namespace:
        meta["namespace"] = namespace
    return meta


def resource(api_version: str, kind: str, meta: dict, **fields) -> dict:
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, **fields}


def outputs(env: str, folder: str, bodies: Iterable[dict], sources: Iterable[str]) -> list[Output]:
    srcs = tuple(sorted(set(sources)))
    return [Output(object_path(env, folder, body), body, srcs) for body in bodies]


def pipeline_file(pipeline: PipelinePlan) -> str:
    """The pipeline's own spec file, where a diagnostic about it points."""
    return next((s for s in pipeline.sources if s.startswith("pipelines/")), pipeline.sources[-1])
