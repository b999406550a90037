"""Emit Argo Workflows: per pipeline a WorkflowTemplate (the DAG; a container template per step, or
for a train step spanning nodes the resource template of its TrainJob, `trainjob`), a CronWorkflow
when scheduled, and the ConfigMap holding the effective spec that the built-in steps read.

In: an `EnvironmentPlan`. Out: `Output`s under `<env>/<namespace>/`.
"""

from __future__ import annotations

from typing import Iterable

from .. import names
from ..ir import EnvironmentPlan, PipelinePlan, SchedulePlan, StepPlan
from ..contract import WORKDIR
from .output import Output, object_path
from .argo_steps import POD_SECURITY, artifact_input, step_template
from .trainjob import trainjob_template

API_VERSION = "argoproj.io/v1alpha1"
ENTRYPOINT = "pipeline"
POD_GC = {"strategy": "OnPodSuccess", "deleteDelayDuration": "10m"}
TTL = {"secondsAfterSuccess": 3 * 86400, "secondsAfterFailure": 7 * 86400}
CRON_STARTING_DEADLINE = 3600


def emit(plan: EnvironmentPlan) -> Iterable[Output]:
    # Equal steps of one environment have equal templates (most built-in steps are alike in every
    # pipeline): each is built once and the one mapping is shared by the WorkflowTemplates that hold
    # it. Nothing after emit changes a body (render and validate only read them), so sharing is safe.
    templates: dict = {}
    for pipeline in plan.pipelines:
        sources = pipeline.sources
        for body in (spec_configmap(pipeline), workflow_template(plan, pipeline, templates), cron_workflow(pipeline)):
            if body is not None:
                yield Output(object_path(plan.name, pipeline.namespace, body), body, sources)


def _metadata(pipeline: PipelinePlan, name: str, kind: str, annotations: dict | None = None) -> dict:
    return {
        "name": name,
        "namespace": pipeline.namespace,
        "labels": dict(pipeline.labels),
        "annotations": {**(annotations or {}), **names.sync_wave(kind)},
    }


def spec_configmap(pipeline: PipelinePlan) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(pipeline, pipeline.spec_configmap, "ConfigMap"),
        "data": {"spec.json": pipeline.spec_json},
    }


def workflow_template(plan: EnvironmentPlan, pipeline: PipelinePlan, templates: dict | None = None) -> dict:
    """The pipeline's WorkflowTemplate; `templates` (step -> its template) is shared by the pipelines
    of `plan`, so that equal steps share one template."""
    annotations = {
        "workflows.argoproj.io/title": pipeline.name,
        "workflows.argoproj.io/description": pipeline.description or f"Training pipeline {pipeline.name}.",
    }
    return {
        "apiVersion": API_VERSION,
        "kind": "WorkflowTemplate",
        "metadata": _metadata(pipeline, names.workflow_template(pipeline.name), "WorkflowTemplate", annotations),
        "spec": _workflow_spec(plan, pipeline, {} if templates is None else templates),
    }


def _workflow_spec(plan: EnvironmentPlan, pipeline: PipelinePlan, templates: dict) -> dict:
    return {
        "entrypoint": ENTRYPOINT,
        "serviceAccountName": names.workflow_service_account(pipeline.team),
        "artifactRepositoryRef": {"configMap": names.ARTIFACT_REPOSITORIES, "key": names.ARTIFACT_REPOSITORY_KEY},
        "activeDeadlineSeconds": pipeline.workflow_deadline_seconds,
        **({"arguments": {"parameters": _arguments(pipeline)}} if pipeline.data_start else {}),
        "podGC": POD_GC,
        "ttlStrategy": TTL,
        "securityContext": POD_SECURITY,
        "podMetadata": {"labels": dict(pipeline.labels)},
        "workflowMetadata": {"labels": dict(pipeline.labels)},
        "metrics": {"prometheus": _metrics(pipeline)},
        "volumes": [{"name": "spec", "configMap": {"name": pipeline.spec_configmap}}],
        "templates": [_dag(pipeline)] + [_template(plan, pipeline, step, templates) for step in pipeline.steps],
    }


def _template(plan: EnvironmentPlan, pipeline: PipelinePlan, step: StepPlan, templates: dict) -> dict:
    """A container template; a TrainJob's resource template for a train step spanning nodes."""
    if step.nodes > 1:
        return trainjob_template(plan, pipeline, step)
    # A container template reads of its pipeline only the name, and that only for the gate's trial mutex.
    key = (step, pipeline.name) if step.trials_key else step
    template = templates.get(key)
    if template is None:
        template = templates[key] = step_template(plan, pipeline, step)
    return template


def _arguments(pipeline: PipelinePlan) -> list[dict]:
    start, end = pipeline.data_start, pipeline.data_end
    return [
        {"name": "start", "value": start.isoformat(), "description": "First day of history (YYYY-MM-DD)."},
        {"name": "end", "value": end.isoformat() if end else "",
         "description": "Last day of history (YYYY-MM-DD); empty means the day of the run."},
    ]


def _metrics(pipeline: PipelinePlan) -> list[dict]:
    label = {"key": "pipeline", "value": pipeline.name}
    return [
        {"name": "maestro_training_duration_seconds", "help": "Duration of the training workflow.",
         "labels": [label, {"key": "status", "value": "{{workflow.status}}"}],
         "gauge": {"realtime": False, "value": "{{workflow.duration}}"}},
        {"name": "maestro_training_failures_total", "help": "Training workflows that failed or errored.",
         "labels": [label], "when": "{{workflow.status}} != Succeeded", "counter": {"value": "1"}},
        {"name": "maestro_training_last_success_timestamp_seconds",
         "help": "Unix time at which the last successful training workflow started.",
         "labels": [label], "when": "{{workflow.status}} == Succeeded",
         "gauge": {"realtime": False, "value": "{{workflow.creationTimestamp.s}}"}},
    ]


def _dag(pipeline: PipelinePlan) -> dict:
    return {"name": ENTRYPOINT, "dag": {"tasks": [_task(step) for step in pipeline.steps]}}


def _task(step: StepPlan) -> dict:
    task: dict = {"name": step.name, "template": step.name}
    if step.depends:
        task["depends"] = " && ".join(step.depends)
    passed = [(source, "out", source) for source in step.inputs if source not in step.exchange_inputs]
    passed += [(source, output, artifact_input(source, output)) for source, output in step.artifact_inputs
               if source not in step.exchange_inputs]
    if passed:
        task["arguments"] = {"artifacts": [
            {"name": name, "from": f"{{{{tasks.{source}.outputs.artifacts.{output}}}}}"}
            for source, output, name in passed
        ]}
    if step.when_gate_passed:
        task["when"] = "{{tasks.gate.outputs.parameters.passed}} == true"
    return task


def cron_workflow(pipeline: PipelinePlan) -> dict | None:
    schedule: SchedulePlan | None = pipeline.schedule
    if schedule is None:
        return None
    return {
        "apiVersion": API_VERSION,
        "kind": "CronWorkflow",
        "metadata": _metadata(pipeline, schedule.name, "CronWorkflow"),
        "spec": {
            "schedules": [schedule.cron],
            "timezone": schedule.timezone,
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": CRON_STARTING_DEADLINE,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 5,
            "suspend": schedule.suspended,
            "workflowMetadata": {"labels": dict(pipeline.labels)},
            "workflowSpec": {"workflowTemplateRef": {"name": names.workflow_template(pipeline.name)}},
        },
    }


__all__ = ["emit", "workflow_template", "cron_workflow", "spec_configmap", "WORKDIR"]
