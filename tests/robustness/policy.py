"""Policy scan: checkov over a compiled tree, with the step pods that Argo Workflows will create.

In: a compiled gitops/ folder and a checkov executable. Out: the failed checks, as (check id,
resource) pairs, and every figure of the scan. checkov's Kubernetes checks read Pods and workload
kinds, not the container templates inside a WorkflowTemplate; so each template that runs a
container is also written out as the Pod the workflow controller makes of it (the workflow's
service account, pod security context, volumes and placement, the template's container, and the
`init` and `wait` containers of Argo's executor with the template's podSpecPatch applied), and
scanned with the rest. Usage: python -m tests.robustness.policy [GITOPS] [CHECKOV] (see
docs/policy-scan.md).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import yaml

POD_FIELDS = ("affinity", "nodeSelector", "tolerations", "priorityClassName")
# What Argo Workflows' controller (v4.1.2, default pod layout, emissary executor) adds to every
# container template's pod: the executor image as the `init` init container and the `wait`
# container, with no securityContext unless the controller's `executor` config sets one, and the
# volumes they share with the step's container.
EXECUTOR_IMAGE = "quay.io/argoproj/argoexec:v4.1.2"
EXECUTOR_VOLUMES = [
    {"name": "podmetadata", "downwardAPI": {"items": [
        {"path": "annotations", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.annotations"}}]}},
    {"name": "var-run-argo", "emptyDir": {}},
]


def step_pods(template: dict) -> list[dict]:
    """The Pods an Argo WorkflowTemplate's container templates become."""
    spec = template.get("spec", {})
    return [_pod(template, spec, t) for t in spec.get("templates", []) if "container" in t]


def _pod(workflow: dict, spec: dict, template: dict) -> dict:
    meta = workflow["metadata"]
    labels = {**spec.get("podMetadata", {}).get("labels", {}), **template.get("metadata", {}).get("labels", {})}
    pod_spec = {
        "serviceAccountName": spec.get("serviceAccountName", "default"),
        "securityContext": template.get("securityContext", spec.get("securityContext", {})),
        "initContainers": [_executor("init")],
        "containers": [_executor("wait"), {"name": "main", **template["container"]}],
        "volumes": EXECUTOR_VOLUMES + spec.get("volumes", []) + template.get("volumes", []),
        **{k: template[k] for k in POD_FIELDS if k in template},
    }
    for key in ("automountServiceAccountToken", "hostNetwork"):
        if key in spec:
            pod_spec[key] = spec[key]
    for patch in (spec.get("podSpecPatch"), template.get("podSpecPatch")):
        if patch:
            pod_spec = merge_patch(pod_spec, yaml.safe_load(patch))
    return {"apiVersion": "v1", "kind": "Pod", "spec": pod_spec,
            "metadata": {"name": f"{meta['name']}-{template['name']}", "namespace": meta.get("namespace"),
                         "labels": labels}}


def _executor(name: str) -> dict:
    return {"name": name, "image": EXECUTOR_IMAGE, "command": ["argoexec", name],
            "volumeMounts": [{"name": "podmetadata", "mountPath": "/argo/podmetadata"},
                             {"name": "var-run-argo", "mountPath": "/var/run/argo"}]}


def merge_patch(base: dict, patch: dict) -> dict:
    """A strategic merge patch as Kubernetes applies a podSpecPatch to a PodSpec, for the parts a
    patch of maestro's holds: mappings merge, container lists merge by name (an unknown name is
    added, as Kubernetes would), anything else is replaced."""
    merged = dict(base)
    for key, value in patch.items():
        if key in ("containers", "initContainers") and isinstance(value, list):
            by_name = {c["name"]: c for c in merged.get(key, [])}
            extra = [c for c in value if c.get("name") not in by_name]
            merged[key] = [merge_patch(c, next((p for p in value if p.get("name") == c["name"]), {}))
                           for c in merged.get(key, [])] + extra
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_patch(merged[key], value)
        else:
            merged[key] = value
    return merged


def scan_input(gitops: Path, folder: Path) -> Path:
    """A copy of the tree plus `step-pods/`, the Pods of every WorkflowTemplate."""
    shutil.copytree(gitops, folder / "gitops")
    pods = folder / "gitops" / "step-pods"
    pods.mkdir()
    for path in sorted(gitops.rglob("workflowtemplate-*.yaml")):
        body = yaml.safe_load(path.read_text())
        for pod in step_pods(body):
            (pods / f"{pod['metadata']['namespace']}-{pod['metadata']['name']}.yaml").write_text(yaml.safe_dump(pod))
    return folder / "gitops"


def scan(gitops: Path, checkov: str) -> dict:
    """checkov's verdict on the tree and its step pods: {"failed": Counter of check ids, ...}."""
    with tempfile.TemporaryDirectory() as tmp:
        target = scan_input(gitops, Path(tmp))
        result = subprocess.run([checkov, "-d", str(target), "--framework", "kubernetes", "argo_workflows",
                                 "--skip-download", "-o", "json"], capture_output=True, text=True, timeout=600,
                                env={"BC_SKIP_MAPPING": "TRUE", "PATH": "/usr/bin:/bin"})
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    return summarize(reports)


def summarize(reports: list[dict]) -> dict:
    failed = [f for r in reports for f in r.get("results", {}).get("failed_checks", [])]
    return {
        "passed": sum(r["summary"]["passed"] for r in reports),
        "failed": len(failed),
        "resources": sum(r["summary"]["resource_count"] for r in reports),
        "by_check": dict(sorted(Counter(f["check_id"] for f in failed).items())),
        "names": {f["check_id"]: f["check_name"] for f in failed},
        "findings": sorted({(f["check_id"], f["resource"]) for f in failed}),
    }


if __name__ == "__main__":
    report = scan(Path(sys.argv[1] if len(sys.argv) > 1 else "gitops"), sys.argv[2] if len(sys.argv) > 2 else "checkov")
    print(json.dumps({k: v for k, v in report.items() if k != "findings"}, indent=2))
