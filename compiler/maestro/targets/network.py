"""Emit the NetworkPolicies of a team namespace: deny by default, then open what is needed.

In: one namespace and the environment's `network` settings. Out: NetworkPolicy objects:
default deny (ingress and egress), DNS to kube-dns, the environment's egress CIDRs for the pods
that need them (workflow pods: Argo's executor talks to the API server and the artifact store;
Seldon's server pods: the agent reads the store's Secret through the API, rclone downloads models),
internet egress for ingest pods only (when `ingest_internet`), HTTPS/SSH to public addresses for
publish pods (the git write-back), and the traffic Seldon's runtime needs inside a namespace that
hosts models, with the scheduler API open only to the Seldon operator; where a pipeline's train step
is a TrainJob, the traffic between that pipeline's TrainJob pods (torchrun's rendezvous, gloo and
NCCL). docs/delivery.md lists every rule and why.
"""

from __future__ import annotations

from .. import names
from ..ir import NetworkPlan
from .objects import NamespacePlan, metadata, resource

API = "networking.k8s.io/v1"
INGEST = {"maestro.dev/step": "ingest"}
PUBLISH = {"maestro.dev/step": "publish"}
# Workflow pods carry maestro.dev/step; Seldon's pods (runtime and servers) do not.
WORKFLOW = {"matchExpressions": [{"key": "maestro.dev/step", "operator": "Exists"}]}
NOT_WORKFLOW = {"matchExpressions": [{"key": "maestro.dev/step", "operator": "DoesNotExist"}]}
# The Seldon operator labels every Server pod with its Server's name (seldon-server-name).
SELDON_SERVERS = {"matchExpressions": [{"key": "seldon-server-name", "operator": "Exists"}]}
# The pod label of Seldon Core 2's operator (seldon-v2-controller-manager, Helm chart seldon-core-v2-setup).
SELDON_OPERATOR = {"matchLabels": {"control-plane": "v2-controller-manager"}}
PRIVATE_V4 = ["10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"]
PRIVATE_V6 = ["fc00::/7", "fe80::/10"]
# Seldon Core 2 ports (SeldonConfig `default`, ServerConfigs mlserver/triton):
# envoy 9000 (inference), 9002 scheduler xDS (envoy), 9004 scheduler API (gateways, operator),
# 9005 scheduler agent API (server agents), 9008 scheduler dataflow, 9001/9501 agent reverse proxies.
SELDON_INTERNAL_PORTS = (9000, 9001, 9002, 9004, 9005, 9008, 9501)
SELDON_SCHEDULER_API = 9004
SELDON_INFERENCE_PORT = 9000
SELDON_METRICS_PORTS = (9003, 9006)   # envoy stats, agent metrics (for Prometheus)
# JobSet labels every pod of a TrainJob with its JobSet's (the TrainJob's) name.
JOBSET_NAME = "jobset.sigs.k8s.io/jobset-name"
# torchrun's c10d store on the master node (29500, the Trainer's ContainerTrainerPort), then gloo's and
# NCCL's own sockets, which bind ports the kernel picks (no setting fixes them): every unprivileged
# port, between the pods of one pipeline's TrainJobs only.
EPHEMERAL_PORTS = (1024, 65535)


def network_policies(ns: NamespacePlan, network: NetworkPlan) -> list[dict]:
    """The namespace-wide policies; `rendezvous` gives the one of each pipeline with a TrainJob."""
    policies = [_default_deny(ns), _dns(ns)]
    if network.egress:
        policies.append(_egress_cidrs(ns, "maestro-allow-egress-cidrs", WORKFLOW, network.egress))
        if ns.served:
            policies.append(_egress_cidrs(ns, "maestro-allow-egress-cidrs-servers", SELDON_SERVERS, network.egress))
    if network.ingest_internet:
        policies.append(_ingest_internet(ns))
    policies.append(_publish_git(ns))
    if ns.served:
        policies.append(_seldon(ns, network.seldon_namespace))
        if network.inference_from:
            policies.append(_inference_clients(ns, network.inference_from))
    return policies


def rendezvous(ns: NamespacePlan, pipeline: str, step: str = "train") -> dict:
    """The pods of a pipeline's TrainJobs talk to each other: the rendezvous, then the collectives. A
    per-run TrainJob name cannot be written in a committed policy; a pipeline's runs share a team's
    training semaphore, so by default (max_concurrent_trainings 1) one TrainJob runs at a time."""
    selector = {"matchLabels": {"maestro.dev/pipeline": pipeline, "maestro.dev/step": step},
                "matchExpressions": [{"key": JOBSET_NAME, "operator": "Exists"}]}
    low, high = EPHEMERAL_PORTS
    ports = [{"protocol": "TCP", "port": low, "endPort": high}]
    peers = [{"podSelector": selector}]
    name = names.fit(f"maestro-allow-rendezvous-{pipeline}")
    return _policy(ns, name, selector, ["Ingress", "Egress"], ingress=[{"from": peers, "ports": ports}],
                   egress=[{"to": peers, "ports": ports}])


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


def _egress_cidrs(ns: NamespacePlan, name: str, selector: dict, cidrs: tuple[str, ...]) -> dict:
    # Not every pod: Seldon's Envoy, scheduler and gateways talk only to each other and to the servers.
    to = [{"ipBlock": {"cidr": cidr}} for cidr in sorted(set(cidrs))]
    return _policy(ns, name, selector, ["Egress"], egress=[{"to": to}])


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


def _inference_clients(ns: NamespacePlan, namespaces: tuple[str, ...]) -> dict:
    # Callers outside the namespace reach the models only through Seldon's Envoy, on its inference port.
    peers = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}
             for name in sorted(set(namespaces))]
    ingress = [{"from": peers, "ports": _ports([SELDON_INFERENCE_PORT])}]
    return _policy(ns, "maestro-allow-inference-clients", NOT_WORKFLOW, ["Ingress"], ingress=ingress)


def _seldon(ns: NamespacePlan, operator_namespace: str) -> dict:
    peers = [{"podSelector": NOT_WORKFLOW}]
    # The Seldon operator runs in its own namespace and drives each namespace's scheduler; anyone
    # else on the scheduler API could load, unload and reroute models behind Argo CD's back.
    operator = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": operator_namespace}},
                "podSelector": SELDON_OPERATOR}
    ingress = [
        {"from": peers, "ports": _ports(SELDON_INTERNAL_PORTS)},
        {"from": [operator], "ports": _ports([SELDON_SCHEDULER_API])},
        {"from": [{"namespaceSelector": {}}], "ports": _ports(SELDON_METRICS_PORTS)},
    ]
    egress = [{"to": peers, "ports": _ports(SELDON_INTERNAL_PORTS)}]
    return _policy(ns, "maestro-allow-seldon", NOT_WORKFLOW, ["Ingress", "Egress"],
                   ingress=ingress, egress=egress)
