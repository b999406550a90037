"""Pod Security Standards "restricted" (Kubernetes 1.37), as the admission controller checks a Pod.

In: a Pod manifest. Out: one line per rule a container or the pod breaks, naming both; an empty
list when the namespace's `pod-security.kubernetes.io/enforce: restricted` would admit the pod.
Written from https://kubernetes.io/docs/concepts/security/pod-security-standards/ (baseline and
restricted controls); Windows-only and node-level controls are left out, maestro emits neither.
"""

from __future__ import annotations

VOLUME_TYPES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                "projected", "secret"}
SAFE_SYSCTLS = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
                "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
                "net.ipv4.tcp_keepalive_probes"}
PROFILES = {"RuntimeDefault", "Localhost"}


def violations(pod: dict) -> list[str]:
    spec = pod.get("spec", {})
    pod_sc = spec.get("securityContext") or {}
    found = [f"pod: {key} is true" for key in ("hostNetwork", "hostPID", "hostIPC") if spec.get(key)]
    found += [f"volume {v.get('name')}: type {sorted(set(v) - {'name'})} is not allowed"
              for v in spec.get("volumes", []) if not set(v) - {"name"} <= VOLUME_TYPES]
    found += [f"pod: sysctl {s.get('name')} is not safe" for s in pod_sc.get("sysctls", [])
              if s.get("name") not in SAFE_SYSCTLS]
    if pod_sc.get("runAsUser") == 0:
        found.append("pod: runAsUser is 0")
    containers = [("initContainers", c) for c in spec.get("initContainers", [])]
    containers += [("containers", c) for c in spec.get("containers", [])]
    containers += [("ephemeralContainers", c) for c in spec.get("ephemeralContainers", [])]
    for field, container in containers:
        found += [f"{field}[{container.get('name')}]: {problem}" for problem in _container(container, pod_sc)]
    return found


def _container(container: dict, pod_sc: dict) -> list[str]:
    sc = container.get("securityContext") or {}
    problems = []
    if sc.get("privileged"):
        problems.append("privileged is true")
    if sc.get("allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation is not false")
    capabilities = sc.get("capabilities") or {}
    if "ALL" not in (capabilities.get("drop") or []):
        problems.append("capabilities.drop does not include ALL")
    if set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}:
        problems.append(f"capabilities.add {sorted(capabilities['add'])} beyond NET_BIND_SERVICE")
    non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
    if non_root is not True:
        problems.append("runAsNonRoot is not true (neither the container nor the pod sets it)")
    if sc.get("runAsUser") == 0:
        problems.append("runAsUser is 0")
    seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
    if seccomp not in PROFILES:
        problems.append(f"seccompProfile.type is {seccomp!r}, not RuntimeDefault or Localhost")
    apparmor = (sc.get("appArmorProfile") or pod_sc.get("appArmorProfile") or {}).get("type")
    if apparmor is not None and apparmor not in PROFILES:
        problems.append(f"appArmorProfile.type is {apparmor!r}")
    selinux = sc.get("seLinuxOptions") or pod_sc.get("seLinuxOptions") or {}
    if selinux.get("user") or selinux.get("role") or \
            selinux.get("type", "") not in ("", "container_t", "container_init_t", "container_kvm_t",
                                            "container_engine_t"):
        problems.append(f"seLinuxOptions {selinux} is not allowed")
    if sc.get("procMount", "Default") != "Default":
        problems.append(f"procMount is {sc['procMount']!r}")
    problems += [f"hostPort {p['hostPort']}" for p in container.get("ports", []) if p.get("hostPort")]
    return problems
