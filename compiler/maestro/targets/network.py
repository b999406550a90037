"""Emit the NetworkPolicies of a team namespace: deny by default, then open what is needed.

In: one namespace and the environment's `network` settings. Out: NetworkPolicy objects:
default deny (ingress and egress), DNS to kube-dns, the environment's egress CIDRs, internet egress
for ingest pods only (when `ingest_internet`), HTTPS/SSH to public
addresses for publish pods (the git write-back), and the traffic Seldon's runtime needs inside a
namespace that hosts models. docs/delivery.md lists every rule and why.
"""

from __future__ import annotations

from ..spec.environment import Network
from .k8s import NamespacePlan, metadata, resource

API = "networking.k8s.io/v1"
INGEST = {"maestro.dev/step": "ingest"}
PUBLISH = {"maestro.dev/step": "publish"}
# Workflow pods carry maestro.dev/step; Seldon's pods (runtime and servers) do not.
NOT_WORKFLOW = {"matchExpressions": [{"key": "maestro.dev/step", "operator": "DoesNotExist"}]}
PRIVATE_V4 = ["10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"]
PRIVATE_V6 = ["fc00::/7", "fe80::/10"]
# Seldon Core 2 ports (SeldonConfig `default`, ServerConfigs mlserver/triton):
# envoy 9000 (inference), 9002 scheduler xDS (envoy), 9004 scheduler API (gateways, operator),
# 9005 scheduler agent API (server agents), 9008 scheduler dataflow, 9001/9501 agent reverse proxies.
SELDON_INTERNAL_PORTS = (9000, 9001, 9002, 9004, 9005, 9008, 9501)
SELDON_SCHEDULER_API = 9004
SELDON_INFERENCE_PORT = 9000
SELDON_METRICS_PORTS = (9003, 9006)   # envoy stats, agent metrics (for Prometheus)


def network_policies(ns: NamespacePlan, network: Network) -> list[dict]:
    policies = [_default_deny(ns), _dns(ns)]
    if network.egress:
        policies.append(_egress_cidrs(ns, network.egress))
    if network.ingest_internet:
        policies.append(_ingest_internet(ns))
    policies.append(_publish_git(ns))
    if ns.served:
        policies.append(_seldon(ns))
        if network.inference_from:
            policies.append(_inference_clients(ns, network.inference_from))
    return policies


def _policy(ns: NamespacePlan, name: str, selector: dict, types: list[str], **rules) -> dict:
    spec = {"podSelector": selector, "policyTypes": types, **rules}
    return resource(API, "NetworkPolicy", metadata("NetworkPolicy", name, ns.labels, ns.name), spec=spec)


def _ports(numbers, protocol: str = "TCP") -> list[dict]:
    return [{"protocol": protocol, "port": n} for n in numbers]


def _default_deny(ns: NamespacePlan) -> dict:
    return _policy(ns, "maestro-default-deny", {}, ["Ingress", "Egress"])


def _dns(ns: NamespacePlan) -> dict:
    to = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
           "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}]
    ports = _ports([53], "UDP") + _ports([53], "TCP")
    return _policy(ns, "maestro-allow-dns", {}, ["Egress"], egress=[{"to": to, "ports": ports}])


def _egress_cidrs(ns: NamespacePlan, cidrs: list[str]) -> dict:
    # Every pod: workflow steps reach the artifact store, Seldon's rclone downloads models from it.
    to = [{"ipBlock": {"cidr": cidr}} for cidr in sorted(set(cidrs))]
    return _policy(ns, "maestro-allow-egress-cidrs", {}, ["Egress"], egress=[{"to": to}])


def _ingest_internet(ns: NamespacePlan) -> dict:
    # "Internet" means public addresses: cluster, node and cloud metadata ranges stay closed.
    to = [{"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE_V4}},
          {"ipBlock": {"cidr": "::/0", "except": PRIVATE_V6}}]
    egress = [{"to": to, "ports": _ports([80, 443])}]
    return _policy(ns, "maestro-allow-ingest-internet", {"matchLabels": dict(INGEST)}, ["Egress"], egress=egress)


def _publish_git(ns: NamespacePlan) -> dict:
    # The publish step pushes its proposal to the gitops repository (HTTPS or SSH), often a public forge.
    to = [{"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE_V4}},
          {"ipBlock": {"cidr": "::/0", "except": PRIVATE_V6}}]
    egress = [{"to": to, "ports": _ports([22, 443])}]
    return _policy(ns, "maestro-allow-publish-git", {"matchLabels": dict(PUBLISH)}, ["Egress"], egress=egress)


def _inference_clients(ns: NamespacePlan, namespaces: list[str]) -> dict:
    # Callers outside the namespace reach the models only through Seldon's Envoy, on its inference port.
    peers = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}
             for name in sorted(set(namespaces))]
    ingress = [{"from": peers, "ports": _ports([SELDON_INFERENCE_PORT])}]
    return _policy(ns, "maestro-allow-inference-clients", NOT_WORKFLOW, ["Ingress"], ingress=ingress)


def _seldon(ns: NamespacePlan) -> dict:
    peers = [{"podSelector": NOT_WORKFLOW}]
    ingress = [
        {"from": peers, "ports": _ports(SELDON_INTERNAL_PORTS)},
        # The Seldon operator runs in its own namespace and drives each namespace's scheduler.
        {"from": [{"namespaceSelector": {}}], "ports": _ports([SELDON_SCHEDULER_API])},
        {"from": [{"namespaceSelector": {}}], "ports": _ports(SELDON_METRICS_PORTS)},
    ]
    egress = [{"to": peers, "ports": _ports(SELDON_INTERNAL_PORTS)}]
    return _policy(ns, "maestro-allow-seldon", NOT_WORKFLOW, ["Ingress", "Egress"],
                   ingress=ingress, egress=egress)
