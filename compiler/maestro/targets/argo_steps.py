"""Emit one Argo container template per pipeline step: image, command, artifacts, resources,
retries, deadlines, pod security (of the step's container and of the `init` and `wait` containers
Argo adds), on the training steps (train, evaluate) only the GPU settings and the semaphore, and
with `policy.multiple_testing` the gate's trial registry, read from and written back to the
artifact repository; around a TrainJob (train spanning nodes, `trainjob`), the folders it reads and
writes, passed through the artifact store's exchange keys instead of Argo's artifacts.

In: the environment plan (its GPU placement), the pipeline plan and one `StepPlan`. Out: a template mapping.
"""

from __future__ import annotations

import json

from .. import names
from ..ir import EnvironmentPlan, GpuPlacement, PipelinePlan, StepPlan, Toleration
from ..contract import WORKDIR

# The step image's own user (Dockerfile); above 10000, clear of host users.
POD_SECURITY = {
    "runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001,
    "seccompProfile": {"type": "RuntimeDefault"},
}
CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}
RETRY_BACKOFF = {"duration": "30s", "factor": 2, "maxDuration": "1h"}
# Argo adds its executor to every step pod: the `init` init container and the `wait` container.
# Their securityContext comes only from the controller's `executor` config, so a per-workflow
# podSpecPatch (applied after Argo adds them, merged by container name) gives them what Pod Security
# "restricted" demands of every container. The pod-level securityContext (POD_SECURITY)
# already sets the non-root user and the seccomp profile for them. Their root stays writable:
# `wait` stages output archives under /tmp, and "restricted" does not ask for a read-only root.
EXECUTOR_CONTAINERS = {"initContainers": ("init",), "containers": ("wait",)}
# JSON, as Argo's own template-level examples write it (every Argo code path reads JSON; YAML is
# converted on some); one line per field, so the gitops tree shows it as a short block.
EXECUTOR_PATCH = "{\n" + ",\n".join(
    f'  "{field}": ' + json.dumps([{"name": name, "securityContext": CONTAINER_SECURITY} for name in containers],
                                  sort_keys=True)
    for field, containers in sorted(EXECUTOR_CONTAINERS.items())) + "\n}\n"


def step_template(plan: EnvironmentPlan, pipeline: PipelinePlan, step: StepPlan) -> dict:
    template: dict = {
        "name": step.name,
        "metadata": {"labels": {"maestro.dev/step": step.name}},
        "container": _container(plan.settings.gpu, step),
        "activeDeadlineSeconds": step.timeout_seconds,
        "outputs": _outputs(step),
        "podSpecPatch": EXECUTOR_PATCH,
    }
    inputs = [{"name": s, "path": f"{WORKDIR}/{s}"} | _exchanged(step, s) for s in step.inputs]
    inputs += [{"name": artifact_input(s, o), "path": f"{WORKDIR}/{s}/{o}"} | _exchanged(step, s, o)
               for s, o in step.artifact_inputs]
    if step.trials_key:
        # Absent on a pipeline's first run: the gate then starts a new registry.
        inputs.append({"name": "trials", "path": f"{WORKDIR}/trials/trials.json", "optional": True,
                       "s3": {"key": step.trials_key}})
    if inputs:
        template["inputs"] = {"artifacts": inputs}
    if step.retries:
        template["retryStrategy"] = {"limit": step.retries, "retryPolicy": "Always", "backoff": RETRY_BACKOFF}
    template.update(_placement(plan.settings.gpu, step))
    if step.trials_key:
        # The registry is read when the gate starts and replaced when it ends: one gate of a pipeline at
        # a time, or a concurrent run's trial would be dropped from the count.
        template["synchronization"] = {"mutexes": [{"name": f"maestro-trials-{pipeline.name}"}]}
    return template


def _container(gpu: GpuPlacement, step: StepPlan) -> dict:
    container: dict = {
        "image": step.image,
        # A digest never changes, so a cached copy is right; a tag may move, so ask the registry.
        "imagePullPolicy": "IfNotPresent" if "@sha256:" in step.image else "Always",
        "command": list(step.command),
        "args": list(step.args),
        "resources": _resources(gpu, step),
        # Every step writes only to its volumes: the work folder and the /tmp scratch emptyDir.
        "securityContext": {**CONTAINER_SECURITY, "readOnlyRootFilesystem": True},
        "volumeMounts": [{"name": "work", "mountPath": WORKDIR}, {"name": "tmp", "mountPath": "/tmp"}],
    }
    if step.builtin:
        container["volumeMounts"].append({"name": "spec", "mountPath": "/maestro/spec", "readOnly": True})
    if step.shared_memory:
        container["volumeMounts"].append({"name": "dshm", "mountPath": "/dev/shm"})
    env = [{"name": k, "value": v} for k, v in step.env] + [
        {"name": variable, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}
        for variable, secret, key in step.secret_env]
    if env:
        container["env"] = env
    if step.secrets:
        container["envFrom"] = [{"secretRef": {"name": s}} for s in step.secrets]
    return container


def _resources(gpu: GpuPlacement, step: StepPlan) -> dict:
    limits = {"memory": step.memory}
    if step.gpus:
        limits[gpu.resource] = str(step.gpus)
    return {"requests": {"cpu": step.cpu, "memory": step.memory}, "limits": limits}


def artifact_input(step: str, output: str) -> str:
    """The input artifact's name on the reading template: Argo's names take no dot."""
    return f"{step}-{output}"


def _outputs(step: StepPlan) -> dict:
    out: dict = {"name": "out", "path": f"{WORKDIR}/{step.name}"}
    if not step.builtin:
        out["optional"] = True   # a custom image may write nothing there
    # A custom pipeline's step declares its folders; each one it declares must be written.
    artifacts = [{"name": o, "path": f"{WORKDIR}/{step.name}/{o}"} for o in step.outputs] or [out]
    if step.exchange_output:
        # Unarchived, file by file under its key: what a TrainJob's pods read with the store's API.
        artifacts.append({"name": "exchange", "path": f"{WORKDIR}/{step.name}", "archive": {"none": {}},
                          "s3": {"key": f"{step.exchange}/{step.name}"}})
    if step.model_key:
        # Uploaded unarchived, so the folder is the model's storageUri as Seldon reads it.
        artifacts.append({
            "name": "model", "path": f"{WORKDIR}/{step.name}/model", "archive": {"none": {}},
            "s3": {"key": step.model_key},
        })
    if step.trials_key:
        # Unarchived at the fixed key, so the next run's gate reads it back as a plain file.
        artifacts.append({"name": "trials", "path": f"{WORKDIR}/{step.name}/trials.json", "archive": {"none": {}},
                          "s3": {"key": step.trials_key}})
    outputs: dict = {"artifacts": artifacts}
    if step.output_parameter:
        outputs["parameters"] = [{"name": step.output_parameter,
                                  "valueFrom": {"path": f"{WORKDIR}/{step.name}/{step.output_parameter}"}}]
    return outputs


def _exchanged(step: StepPlan, source: str, output: str = "") -> dict:
    """An input a TrainJob wrote: read from its key in the artifact store (a folder of files); a
    custom step's named artifact from the folder of that name under the trainer's key."""
    key = f"{step.exchange}/{source}" + (f"/{output}" if output else "")
    return {"s3": {"key": key}} if source in step.exchange_inputs else {}


def step_volumes(step: StepPlan) -> list[dict]:
    volumes = [{"name": "work", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}]
    if step.shared_memory:
        volumes.append({"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": step.shared_memory}})
    return volumes


def _placement(gpu: GpuPlacement, step: StepPlan) -> dict:
    """GPU steps go to GPU nodes; every other step is kept off them; trainings share the team semaphore."""
    placement: dict = {"volumes": step_volumes(step)}
    if step.semaphore:
        placement["synchronization"] = {"semaphores": [{"configMapKeyRef": {
            "name": step.semaphore, "key": names.SEMAPHORE_KEY}}]}
    if not step.gpus:
        if gpu.node_selector:
            placement["affinity"] = _avoid(gpu.node_selector)
        return placement
    if gpu.node_selector:
        placement["nodeSelector"] = dict(gpu.node_selector)
    if gpu.tolerations:
        placement["tolerations"] = [toleration(t) for t in gpu.tolerations]
    if gpu.priority_class:
        placement["priorityClassName"] = gpu.priority_class
    return placement


def toleration(t: Toleration) -> dict:
    fields = {"key": t.key, "operator": t.operator, "value": t.value, "effect": t.effect,
              "tolerationSeconds": t.seconds}
    return {name: value for name, value in fields.items() if value is not None}


def _avoid(node_selector: dict) -> dict:
    terms = [{"key": k, "operator": "NotIn", "values": [v]} for k, v in sorted(node_selector.items())]
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": terms}]}}}
