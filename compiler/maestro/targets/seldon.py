"""Emit: Seldon Core v2 serving objects, per environment, into each team namespace.

In: an `EnvironmentPlan`. Out: per served pipeline one `Model` per served version (default and
candidate) and an `Experiment` when an experiment is planned; per namespace that hosts models a
`SeldonRuntime` and one `Server` per runtime in use. The rules Seldon's scheduler enforces only at
run time are checked on these objects with the others' (validation/rules/seldon.py), before anything
is written.
"""

from __future__ import annotations

import math
from typing import Iterable

from .. import names
from ..ir import EnvironmentPlan, ExperimentPlan, PipelinePlan, ServedModel
from .output import Output
from .objects import NamespacePlan, metadata, namespaces, outputs, resource

API = "mlops.seldon.io/v1alpha1"
# An old model version is removed only after the new objects are synced and healthy.
MODEL_SYNC_OPTIONS = {"argocd.argoproj.io/sync-options": "PruneLast=true"}
# maestro serves Models and Experiments only: the Kafka-based pipeline components are not needed,
# and hodometer only reports usage to Seldon (its egress is denied anyway).
DISABLED_COMPONENTS = ("hodometer", "seldon-dataflow-engine", "seldon-pipelinegateway")
SERVER_CONTAINERS = {"mlserver": ("rclone", "agent", "mlserver"), "triton": ("rclone", "agent", "triton")}
RESTRICTED_CONTAINER = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
RESTRICTED_POD = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
         "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18, "m": 10**-3}


def emit(plan: EnvironmentPlan) -> Iterable[Output]:
    result: list[Output] = []
    for ns in namespaces(plan):
        if ns.served:
            result += outputs(plan.name, ns.name, [seldon_runtime(ns)], ns.sources)
        for runtime in sorted({p.serving.runtime for p in ns.served}):
            users = [p for p in ns.served if p.serving.runtime == runtime]
            result += outputs(plan.name, ns.name, [server(ns, runtime)], ns.sources_of(users))
        for pipeline in ns.served:
            result += outputs(plan.name, ns.name, pipeline_objects(pipeline), pipeline.sources)
    return result


def pipeline_objects(pipeline: PipelinePlan) -> list[dict]:
    models = [model(pipeline, served, pipeline.serving.storage_secret) for served in pipeline.serving.models]
    experiment_plan = pipeline.serving.experiment
    return models + ([experiment(pipeline, experiment_plan)] if experiment_plan else [])


def model(pipeline: PipelinePlan, served: ServedModel, secret: str) -> dict:
    serving = pipeline.serving
    labels = {**pipeline.labels, "maestro.dev/version": served.version}
    meta = metadata("Model", served.name, labels, pipeline.namespace, MODEL_SYNC_OPTIONS)
    spec = {"storageUri": served.storage_uri, "requirements": list(serving.requirements),
            "memory": serving.memory, "replicas": serving.replicas, "secretName": secret}
    return resource(API, "Model", meta, spec=spec)


def experiment(pipeline: PipelinePlan, plan: ExperimentPlan) -> dict:
    meta = metadata("Experiment", plan.name, pipeline.labels, pipeline.namespace)
    return resource(API, "Experiment", meta, spec=experiment_spec(plan))


def experiment_spec(plan: ExperimentPlan) -> dict:
    """A/B: split traffic 100-w/w on the default's endpoint. Shadow: mirror w% to the candidate."""
    if plan.mode == "ab":
        candidates = [{"name": plan.default, "weight": 100 - plan.weight},
                      {"name": plan.candidate, "weight": plan.weight}]
        return {"default": plan.default, "candidates": candidates}
    return {"default": plan.default, "candidates": [{"name": plan.default, "weight": 100}],
            "mirror": {"name": plan.candidate, "percent": plan.weight}}


def seldon_runtime(ns: NamespacePlan) -> dict:
    overrides = [{"name": component, "disable": True} for component in DISABLED_COMPONENTS]
    meta = metadata("SeldonRuntime", names.SELDON_RUNTIME, ns.labels, ns.name)
    return resource(API, "SeldonRuntime", meta, spec={"seldonConfig": "default", "overrides": overrides})


def server(ns: NamespacePlan, runtime: str) -> dict:
    pipelines = [p for p in ns.served if p.serving.runtime == runtime]
    # The scheduler places each model replica on a different server replica, and a replica's
    # capacity is its inference container's memory request: every model must fit on each one.
    replicas = max(p.serving.replicas for p in pipelines)
    memory = sum(quantity_bytes(p.serving.memory) * len(p.serving.models) for p in pipelines)
    spec = {"serverConfig": runtime, "replicas": replicas, "podSpec": _server_pod(runtime, memory)}
    return resource(API, "Server", metadata("Server", runtime, ns.labels, ns.name), spec=spec)


def _server_pod(runtime: str, memory_bytes: int) -> dict:
    # Seldon merges these containers into the ServerConfig's by name; the namespace enforces
    # Pod Security Standards `restricted`, which the stock ServerConfigs do not satisfy.
    containers = [{"name": name, "securityContext": dict(RESTRICTED_CONTAINER)}
                  for name in SERVER_CONTAINERS[runtime]]
    containers[-1]["resources"] = {"requests": {"memory": f"{math.ceil(memory_bytes / 2**20)}Mi"}}
    return {"securityContext": dict(RESTRICTED_POD), "containers": containers}


def quantity_bytes(quantity: str) -> int:
    """A Kubernetes memory quantity in bytes (`2Gi`, `512M`, `1e9`, `1500`)."""
    for suffix in sorted(UNITS, key=len, reverse=True):
        if quantity.endswith(suffix):
            return math.ceil(float(quantity[: -len(suffix)]) * UNITS[suffix])
    return math.ceil(float(quantity))
