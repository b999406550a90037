"""Talking to the conformance API server: object URLs from discovery, server-side apply, reads, patches.

In: a `kubernetes.client.ApiClient` and plain dict bodies. Out: plain dicts, or `Rejected` with the
server's status code and message. One client process and one connection pool serve every request.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

FIELD_MANAGER = "maestro"

# Argo CD (gitops-engine) applies the kinds of one sync wave in this order; the rest after, by name.
ARGOCD_KIND_ORDER = (
    "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy", "PodDisruptionBudget",
    "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass", "PersistentVolume",
    "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleList",
    "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList",
    "Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
    "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
)


def sync_order(body: dict) -> tuple:
    """Argo CD's apply order: namespaces first, then sync wave, then kind, then name."""
    kind = body.get("kind", "")
    annotations = (body.get("metadata") or {}).get("annotations") or {}
    wave = int(annotations.get("argocd.argoproj.io/sync-wave", "0"))
    kind_rank = ARGOCD_KIND_ORDER.index(kind) if kind in ARGOCD_KIND_ORDER else len(ARGOCD_KIND_ORDER)
    return (kind != "Namespace", wave, kind_rank, kind, body["metadata"].get("name", ""))


@dataclass(frozen=True)
class Rejected(Exception):
    status: int
    reason: str
    message: str

    def __str__(self) -> str:
        return f"HTTP {self.status} {self.reason}: {self.message}"


class Kube:
    def __init__(self, api_client) -> None:
        self.api = api_client
        self._resources: dict[str, dict[str, tuple[str, bool]]] = {}

    # -- raw requests ---------------------------------------------------------------------------
    def request(self, method: str, path: str, body: Any = None, content_type: str = "application/json",
                query: list[tuple[str, str]] | None = None) -> dict:
        method_, url, headers, _, _ = self.api.param_serialize(
            method, path, query_params=query or [],
            header_params={"Content-Type": content_type, "Accept": "application/json"}, auth_settings=[])
        answer = self.api.call_api(method_, url, header_params=headers, body=body)   # the client JSON-encodes it
        payload = answer.read()
        if not 200 <= answer.status < 300:
            try:
                status = json.loads(payload or b"{}")
            except ValueError:
                status = {"message": payload.decode(errors="replace")}
            raise Rejected(answer.status, status.get("reason", ""), status.get("message", ""))
        return json.loads(payload or b"{}")

    # -- discovery ------------------------------------------------------------------------------
    def resource_of(self, api_version: str, kind: str) -> tuple[str, bool]:
        """(plural, namespaced) of a kind, from the server's discovery; refreshed on a miss."""
        known = self._resources.get(api_version)
        if known is None or kind not in known:
            base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
            listing = self.request("GET", base)
            known = {r["kind"]: (r["name"], r["namespaced"]) for r in listing["resources"] if "/" not in r["name"]}
            self._resources[api_version] = known
        if kind not in known:
            raise Rejected(404, "NotFound", f"the server serves no {kind} in {api_version}")
        return known[kind]

    def path_of(self, body: dict) -> str:
        api_version, kind = body["apiVersion"], body["kind"]
        plural, namespaced = self.resource_of(api_version, kind)
        base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        metadata = body["metadata"]
        scope = f"/namespaces/{metadata.get('namespace', 'default')}" if namespaced else ""
        return f"{base}{scope}/{plural}/{metadata['name']}"

    # -- verbs ----------------------------------------------------------------------------------
    def apply(self, body: dict, dry_run: bool = False) -> dict:
        """Server-side apply as field manager `maestro`; unknown or duplicate fields are errors."""
        query = [("fieldManager", FIELD_MANAGER), ("force", "true"), ("fieldValidation", "Strict")]
        if dry_run:
            query.append(("dryRun", "All"))
        return self.request("PATCH", self.path_of(body), body, "application/apply-patch+yaml", query)

    def create(self, body: dict, dry_run: bool = False) -> dict:
        """POST to the collection (works for `generateName` objects, which apply cannot address)."""
        metadata = dict(body.get("metadata") or {})
        addressable = {**body, "metadata": {**metadata, "name": "placeholder"}}
        collection = self.path_of(addressable).rsplit("/", 1)[0]
        query = [("fieldValidation", "Strict")] + ([("dryRun", "All")] if dry_run else [])
        return self.request("POST", collection, body, "application/json", query)

    def get(self, body: dict) -> dict:
        return self.request("GET", self.path_of(body))

    def merge_patch(self, body: dict, patch: dict) -> dict:
        return self.request("PATCH", self.path_of(body), patch, "application/merge-patch+json",
                            [("fieldValidation", "Strict")])

    def wait_established(self, crds: list[dict], timeout: float = 60.0) -> dict[str, bool]:
        """Each CRD's name -> whether its Established condition is True (waiting up to `timeout`).

        Discovery is polled until it serves every kind (cheap), then each CRD is read once: a CRD
        of megabytes read back every few hundred milliseconds would cost more than the whole test.
        """
        deadline = time.monotonic() + timeout
        wanted = {(f"{c['spec']['group']}/{v['name']}", c["spec"]["names"]["kind"])
                  for c in crds for v in c["spec"]["versions"] if v.get("served")}
        while wanted and time.monotonic() < deadline:
            for api_version, kind in sorted(wanted):
                self._resources.pop(api_version, None)
                try:
                    self.resource_of(api_version, kind)
                    wanted.discard((api_version, kind))
                except Rejected:
                    pass
            time.sleep(0.2 if wanted else 0)
        established: dict[str, bool] = {}
        for crd in crds:
            name = crd["metadata"]["name"]
            while True:
                answer = self.request("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
                conditions = (answer.get("status") or {}).get("conditions") or []
                established[name] = any(c["type"] == "Established" and c["status"] == "True" for c in conditions)
                if established[name] or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
        return established
