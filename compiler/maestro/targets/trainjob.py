"""Emit the train step of a pipeline that spans nodes: a Kubeflow Trainer v2 TrainJob (v2.3.0,
trainer.kubeflow.org/v1alpha1), created and watched by an Argo resource template.

In: the environment plan (GPU placement, artifact store, Trainer runtime), the pipeline plan and the
train `StepPlan` (nodes > 1). Out: the resource template; its manifest is the TrainJob. The TrainJob
runs `torchrun` (which reads the PET_* variables the Trainer's torch plugin sets) over the same
`maestro step train` as the single-node step, with the same image, resources per node, GPU node
selector and tolerations, /dev/shm and pod security; it reads `features/` from and writes `train/`
to the artifact store (docs/multinode.md), with the store's keys by Secret reference. A custom
pipeline's trainer spanning nodes is emitted by the same code: its own image, command, args and env
(no torchrun around it: its command starts its own processes from the PET_* variables), and where
in the store its inputs and outputs are (`contract.EXCHANGE_VARIABLE`).
"""

from __future__ import annotations

import json

from .. import names
from ..contract import (ACCESS_KEY_VARIABLE, ENDPOINT_VARIABLE, EXCHANGE_VARIABLE, REGION_VARIABLE,
                        SECRET_KEY_VARIABLE, WORKDIR)
from ..ir import EnvironmentPlan, PipelinePlan, StepPlan
from ..render import manifest_text
from .argo_steps import CONTAINER_SECURITY, POD_SECURITY, RETRY_BACKOFF, toleration, step_volumes

API_VERSION = "trainer.kubeflow.org/v1alpha1"
NODE = "node"                   # the replicated job and container of the torch runtimes (constants.Node)
PATCH_MANAGER = "maestro.dev/compiler"
LAUNCHER = ("torchrun", "--no-python")   # torchrun takes nodes, processes, rank and master from PET_*
# Argo reads these with label-selector syntax over JSON paths: no array queries, so by index. The
# TrainJob is created unsuspended: its conditions are none while it runs, then Complete or Failed
# (trainer.TrainJobComplete / TrainJobFailed, both only ever True).
SUCCESS = "status.conditions.0.type == Complete"
FAILURE = "status.conditions.0.type == Failed"
# The TrainJob ends itself at the step's timeout (activeDeadlineSeconds); the template waits a little
# longer, so that Argo sees the Failed condition instead of leaving a running TrainJob behind.
WAIT_GRACE = 300
# The resource template's pod is Argo's executor alone (`main`, no `init` or `wait`): the patch gives
# it what Pod Security "restricted" demands, as argo_steps does for the executor of every other step.
LAUNCHER_PATCH = '{\n  "containers": ' + json.dumps([{"name": "main", "securityContext": CONTAINER_SECURITY}],
                                                       sort_keys=True) + "\n}\n"


def trainjob_template(plan: EnvironmentPlan, pipeline: PipelinePlan, step: StepPlan) -> dict:
    resource = {
        "action": "create", "setOwnerReference": True,   # deleted with its Workflow
        "successCondition": SUCCESS, "failureCondition": FAILURE,
        "manifest": manifest_text(trainjob(plan, pipeline, step)),
    }
    template = {
        "name": step.name,
        "metadata": {"labels": {"maestro.dev/step": step.name}},
        # The only template whose pod may create TrainJobs: Argo's executor alone runs in it.
        "serviceAccountName": names.trainjob_service_account(pipeline.team),
        "resource": resource,
        "activeDeadlineSeconds": step.timeout_seconds + WAIT_GRACE,
        "podSpecPatch": LAUNCHER_PATCH,
    }
    if step.retries:
        template["retryStrategy"] = {"limit": step.retries, "retryPolicy": "Always", "backoff": RETRY_BACKOFF}
    if step.semaphore:
        template["synchronization"] = {"semaphores": [{"configMapKeyRef": {
            "name": step.semaphore, "key": names.SEMAPHORE_KEY}}]}
    return template


def trainjob(plan: EnvironmentPlan, pipeline: PipelinePlan, step: StepPlan) -> dict:
    labels = {**pipeline.labels, "maestro.dev/step": step.name}
    spec = {
        "runtimeRef": {"apiGroup": "trainer.kubeflow.org", "kind": "ClusterTrainingRuntime",
                       "name": plan.settings.trainer.runtime},
        "activeDeadlineSeconds": step.timeout_seconds,
        "trainer": _trainer(plan, step),
        "runtimePatches": [{"manager": PATCH_MANAGER, "trainingRuntimeSpec": {"template": {"spec": {
            "replicatedJobs": [{"name": NODE, "template": {"spec": {"template": _pod(plan, pipeline, step)}}}]}}}}],
    }
    metadata = {"generateName": names.trainjob_prefix(pipeline.name), "namespace": pipeline.namespace,
                "labels": labels}
    return {"apiVersion": API_VERSION, "kind": "TrainJob", "metadata": metadata, "spec": spec}


def _trainer(plan: EnvironmentPlan, step: StepPlan) -> dict:
    gpu, store = plan.settings.gpu, plan.settings.artifacts
    limits = {"memory": step.memory, **({gpu.resource: str(step.gpus)} if step.gpus else {})}
    env = [{"name": variable, "valueFrom": {"secretKeyRef": {"name": store.credentials_secret, "key": key}}}
           for variable, key in ((ACCESS_KEY_VARIABLE, "accessKey"), (SECRET_KEY_VARIABLE, "secretKey"))]
    if not step.builtin:
        # The built-in step reads the store's location from spec.json; a custom image gets it here.
        place = ((EXCHANGE_VARIABLE, f"s3://{store.bucket}/{step.exchange}"), (ENDPOINT_VARIABLE, store.endpoint),
                 (REGION_VARIABLE, store.region))
        env += [{"name": k, "value": v} for k, v in (*step.env, *place)]
    return {
        "image": step.image,
        "command": [*LAUNCHER, *step.command] if step.builtin else list(step.command),
        "args": list(step.args),
        "numNodes": step.nodes,
        "numProcPerNode": max(step.gpus, 1),    # one process per GPU; on CPU (allow_cpu_nodes) one per node
        "resourcesPerNode": {"requests": {"cpu": step.cpu, "memory": step.memory}, "limits": limits},
        "env": env,
    }


def _pod(plan: EnvironmentPlan, pipeline: PipelinePlan, step: StepPlan) -> dict:
    """The node pods, as runtimePatches may shape them (no priorityClassName, no env on `node`)."""
    gpu, labels = plan.settings.gpu, {**pipeline.labels, "maestro.dev/step": step.name}
    mounts = [{"name": "work", "mountPath": WORKDIR}, {"name": "tmp", "mountPath": "/tmp"}]
    volumes = step_volumes(step)
    if step.builtin:   # as on every step's pod: only maestro's own steps read the spec
        mounts.append({"name": "spec", "mountPath": "/maestro/spec", "readOnly": True})
        volumes.append({"name": "spec", "configMap": {"name": pipeline.spec_configmap}})
    if step.shared_memory:
        mounts.append({"name": "dshm", "mountPath": "/dev/shm"})
    spec: dict = {
        "securityContext": POD_SECURITY,
        "volumes": volumes,
        "containers": [{"name": NODE, "securityContext": {**CONTAINER_SECURITY, "readOnlyRootFilesystem": True},
                        "volumeMounts": mounts}],
    }
    if step.gpus and gpu.node_selector:
        spec["nodeSelector"] = dict(gpu.node_selector)
    if step.gpus and gpu.tolerations:
        spec["tolerations"] = [toleration(t) for t in gpu.tolerations]
    return {"metadata": {"labels": labels}, "spec": spec}
