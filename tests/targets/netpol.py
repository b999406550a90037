"""What a set of NetworkPolicies lets through, decided the way the Kubernetes API documents it.

In: the NetworkPolicies of one namespace, a source and a destination. Out: allowed or not.
A pod is isolated for a direction when any policy selecting it lists that direction in
`policyTypes`; an isolated pod accepts (or sends) only what some rule of a selecting policy allows.
Peers: `podSelector` alone means pods of the policy's namespace, `namespaceSelector` alone every pod
of the matching namespaces, both together the matching pods of the matching namespaces, `ipBlock`
an address range (minus `except`); a port with `endPort`, the range from one to the other. Named
ports are not used by maestro, so not here.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: dict = field(default_factory=dict)
    ip: str = "10.244.0.10"

    @property
    def namespace_labels(self) -> dict:
        return {"kubernetes.io/metadata.name": self.namespace}


def matches(selector: dict, labels: dict) -> bool:
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        ok = {"In": key in labels and labels[key] in values, "NotIn": labels.get(key) not in values,
              "Exists": key in labels, "DoesNotExist": key not in labels}[operator]
        if not ok:
            return False
    return True


def _selecting(policies: list[dict], pod: Pod, direction: str) -> list[dict]:
    return [p for p in policies if p["metadata"]["namespace"] == pod.namespace
            and matches(p["spec"]["podSelector"], pod.labels) and direction in p["spec"]["policyTypes"]]


def _peer_matches(peer: dict, policy_namespace: str, other: Pod) -> bool:
    if "ipBlock" in peer:
        address = ipaddress.ip_address(other.ip)
        block = peer["ipBlock"]
        return address in ipaddress.ip_network(block["cidr"]) and \
            not any(address in ipaddress.ip_network(e) for e in block.get("except", []))
    if "namespaceSelector" in peer:
        if not matches(peer["namespaceSelector"], other.namespace_labels):
            return False
    elif other.namespace != policy_namespace:
        return False
    return matches(peer.get("podSelector", {}), other.labels)


def _port_matches(ports: list[dict] | None, port: int, protocol: str) -> bool:
    return not ports or any(_in_range(p, port) and p.get("protocol", "TCP") == protocol for p in ports)


def _in_range(rule: dict, port: int) -> bool:
    first = rule.get("port")
    return first is None or first == port or first < port <= rule.get("endPort", first)


def _allowed(policies: list[dict], pod: Pod, other: Pod, port: int, protocol: str, direction: str) -> bool:
    selecting = _selecting(policies, pod, direction)
    if not selecting:
        return True
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    for policy in selecting:
        for rule in policy["spec"].get(key, []):
            peers = rule.get(peers_key)
            if _port_matches(rule.get("ports"), port, protocol) and \
                    (not peers or any(_peer_matches(p, pod.namespace, other) for p in peers)):
                return True
    return False


def reaches(policies: list[dict], source: Pod, destination: Pod, port: int, protocol: str = "TCP") -> bool:
    """Both ends must agree: the source's egress and the destination's ingress."""
    return _allowed(policies, source, destination, port, protocol, "Egress") and \
        _allowed(policies, destination, source, port, protocol, "Ingress")
