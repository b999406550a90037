"""Emit: one PrometheusRule per team namespace with the alerts of its pipelines and models.

In: an `EnvironmentPlan`. Out: `PrometheusRule` objects (monitoring.coreos.com/v1), one group per
pipeline: a training workflow failed (Argo's own per-template counter); no training succeeded for
`monitoring.max_hours_since_success` (the gauge the WorkflowTemplate sets on success; only for
pipelines whose schedule runs here); a served model is not loaded on all its replicas (the
`seldon_loaded_model_gauge` that Seldon's server agents export).
"""

from __future__ import annotations

from typing import Iterable

from .. import names
from ..ir import EnvironmentPlan, PipelinePlan, ServedModel
from .output import Output
from .objects import NamespacePlan, metadata, namespaces, outputs, resource

API = "monitoring.coreos.com/v1"
RULE_NAME = "maestro-alerts"
FAILED_PHASES = "Failed|Error"
FAILURE_WINDOW = "1h"
LAST_SUCCESS = "maestro_training_last_success_timestamp_seconds"
NOT_READY_FOR = "15m"


def emit(plan: EnvironmentPlan) -> Iterable[Output]:
    result: list[Output] = []
    for ns in namespaces(plan):
        result += outputs(plan.name, ns.name, [prometheus_rule(ns)], ns.sources_of(ns.pipelines))
    return result


def prometheus_rule(ns: NamespacePlan) -> dict:
    groups = [{"name": f"maestro.{p.name}", "rules": pipeline_rules(p)} for p in ns.pipelines]
    meta = metadata("PrometheusRule", RULE_NAME, ns.labels, ns.name)
    return resource(API, "PrometheusRule", meta, spec={"groups": groups})


def pipeline_rules(p: PipelinePlan) -> list[dict]:
    rules = [training_failed(p)]
    if p.schedule is not None and not p.schedule.suspended:
        rules.append(training_stale(p))
    served = p.serving.models if p.serving else ()
    return rules + [model_not_ready(p, m, p.serving.replicas) for m in served]


def _alert(name: str, expr: str, p: PipelinePlan, summary: str, for_: str | None = None,
           severity: str = "warning", extra: dict | None = None) -> dict:
    labels = {"severity": severity, "pipeline": p.name, "team": p.team, "environment": p.env, **(extra or {})}
    rule = {"alert": name, "expr": expr, "labels": labels,
            "annotations": {"summary": summary, "description": f"{summary} (namespace {p.namespace})."}}
    return {**rule, "for": for_} if for_ else rule


def training_failed(p: PipelinePlan) -> dict:
    # argo_workflows_workflowtemplate_triggered_total counts workflows of a template entering each phase.
    selector = f'name="{names.workflow_template(p.name)}", phase=~"{FAILED_PHASES}"'
    expr = f"sum(increase(argo_workflows_workflowtemplate_triggered_total{{{selector}}}[{FAILURE_WINDOW}])) > 0"
    return _alert("MaestroTrainingFailed", expr, p, f"A training workflow of {p.name} failed in the last hour")


def training_stale(p: PipelinePlan) -> dict:
    hours = p.max_hours_since_success
    # max_over_time keeps the last value across controller restarts; absent_over_time covers "never".
    series = f'{LAST_SUCCESS}{{pipeline="{p.name}"}}'
    expr = (f"(time() - max(max_over_time({series}[{hours}h]))) > {hours * 3600}"
            f" or absent_over_time({series}[{hours}h])")
    summary = f"No training run of {p.name} succeeded in the last {hours} hours"
    return _alert("MaestroTrainingStale", expr, p, summary, for_="10m")


def model_not_ready(p: PipelinePlan, model: ServedModel, replicas: int) -> dict:
    # Seldon names a loaded model `<model>_<artifact version>` on its server replicas.
    selector = f'namespace="{p.namespace}", model_internal=~"{model.name}_[0-9]+"'
    expr = f"(sum(seldon_loaded_model_gauge{{{selector}}}) or vector(0)) < {replicas}"
    summary = f"Seldon model {model.name} is loaded on fewer than {replicas} replicas"
    return _alert("MaestroModelNotReady", expr, p, summary, for_=NOT_READY_FOR, extra={"model": model.name})
