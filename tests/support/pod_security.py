"""The `restricted` Pod Security Standard as a pure check of a pod spec.

Follows https://kubernetes.io/docs/concepts/security/pod-security-standards/ (baseline rules
plus the restricted ones), so builder tests catch what admission in a namespace labelled
`pod-security.kubernetes.io/enforce=restricted` would refuse, without a cluster. Returns one
message per violation; an empty list means the pod would be admitted.
"""

from __future__ import annotations

from typing import Any

ALLOWED_VOLUME_TYPES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
ALLOWED_CAPABILITIES = {"NET_BIND_SERVICE"}
ALLOWED_SECCOMP = {"RuntimeDefault", "Localhost"}
ALLOWED_SELINUX_TYPES = {
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
}
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}
# Volume entries carry `name` plus exactly one source key.
_VOLUME_META_KEYS = {"name"}


def pod_spec_of(manifest: dict[str, Any]) -> dict[str, Any] | None:
    """The pod spec inside a Pod, a workload (Deployment, StatefulSet, DaemonSet, Job) or a
    CronJob."""
    kind = manifest.get("kind")
    spec = manifest.get("spec", {})
    if kind == "Pod":
        return spec  # type: ignore[no-any-return]
    if kind == "CronJob":
        return spec["jobTemplate"]["spec"]["template"]["spec"]  # type: ignore[no-any-return]
    if kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}:
        return spec["template"]["spec"]  # type: ignore[no-any-return]
    return None


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        *pod.get("initContainers", []),
        *pod.get("containers", []),
        *pod.get("ephemeralContainers", []),
    ]


def _host_namespaces(pod: dict[str, Any]) -> list[str]:
    return [
        f"{field} must not be true"
        for field in ("hostNetwork", "hostPID", "hostIPC")
        if pod.get(field)
    ]


def _volumes(pod: dict[str, Any]) -> list[str]:
    problems = []
    for volume in pod.get("volumes", []):
        kinds = set(volume) - _VOLUME_META_KEYS
        for kind in sorted(kinds - ALLOWED_VOLUME_TYPES):
            problems.append(f"volume {volume.get('name')!r}: type {kind} is not allowed")
    return problems


def _seccomp(pod_ctx: dict[str, Any], containers: list[dict[str, Any]]) -> list[str]:
    problems = []
    pod_type = pod_ctx.get("seccompProfile", {}).get("type")
    if pod_type is not None and pod_type not in ALLOWED_SECCOMP:
        problems.append(f"pod seccompProfile.type {pod_type} is not allowed")
    for c in containers:
        c_type = c.get("securityContext", {}).get("seccompProfile", {}).get("type")
        if c_type is not None and c_type not in ALLOWED_SECCOMP:
            problems.append(f"container {c['name']}: seccompProfile.type {c_type} is not allowed")
        elif c_type is None and pod_type is None:
            problems.append(
                f"container {c['name']}: seccompProfile must be RuntimeDefault or Localhost"
            )
    return problems


def _non_root(pod_ctx: dict[str, Any], containers: list[dict[str, Any]]) -> list[str]:
    problems = []
    if pod_ctx.get("runAsUser") == 0:
        problems.append("pod runAsUser must not be 0")
    for c in containers:
        ctx = c.get("securityContext", {})
        non_root = ctx.get("runAsNonRoot", pod_ctx.get("runAsNonRoot"))
        if non_root is not True:
            problems.append(f"container {c['name']}: runAsNonRoot must be true")
        if ctx.get("runAsUser") == 0:
            problems.append(f"container {c['name']}: runAsUser must not be 0")
    return problems


def _container_rules(c: dict[str, Any]) -> list[str]:
    ctx = c.get("securityContext", {})
    name = c["name"]
    problems = []
    if ctx.get("privileged"):
        problems.append(f"container {name}: privileged must not be true")
    if ctx.get("allowPrivilegeEscalation") is not False:
        problems.append(f"container {name}: allowPrivilegeEscalation must be false")
    caps = ctx.get("capabilities", {})
    if "ALL" not in caps.get("drop", []):
        problems.append(f"container {name}: capabilities must drop ALL")
    for cap in sorted(set(caps.get("add", [])) - ALLOWED_CAPABILITIES):
        problems.append(f"container {name}: capability {cap} must not be added")
    if ctx.get("procMount", "Default") != "Default":
        problems.append(f"container {name}: procMount must be Default")
    if ctx.get("appArmorProfile", {}).get("type") == "Unconfined":
        problems.append(f"container {name}: AppArmor must not be Unconfined")
    if ctx.get("windowsOptions", {}).get("hostProcess"):
        problems.append(f"container {name}: hostProcess must not be true")
    problems += _selinux(ctx.get("seLinuxOptions", {}), f"container {name}")
    for port in c.get("ports", []):
        if port.get("hostPort"):
            problems.append(f"container {name}: hostPort {port['hostPort']} is not allowed")
    return problems


def _selinux(options: dict[str, Any], where: str) -> list[str]:
    problems = []
    if options.get("type", "") not in ALLOWED_SELINUX_TYPES:
        problems.append(f"{where}: seLinuxOptions.type {options['type']} is not allowed")
    problems += [
        f"{where}: seLinuxOptions.{key} must not be set"
        for key in ("user", "role")
        if options.get(key)
    ]
    return problems


def _pod_rules(pod_ctx: dict[str, Any]) -> list[str]:
    problems = _selinux(pod_ctx.get("seLinuxOptions", {}), "pod")
    if pod_ctx.get("appArmorProfile", {}).get("type") == "Unconfined":
        problems.append("pod AppArmor must not be Unconfined")
    if pod_ctx.get("windowsOptions", {}).get("hostProcess"):
        problems.append("pod hostProcess must not be true")
    for sysctl in pod_ctx.get("sysctls", []):
        if sysctl.get("name") not in SAFE_SYSCTLS:
            problems.append(f"sysctl {sysctl.get('name')} is not allowed")
    return problems


def restricted_violations(pod_spec: dict[str, Any]) -> list[str]:
    """Every rule of the restricted profile that `pod_spec` breaks (empty: admitted)."""
    pod_ctx = pod_spec.get("securityContext", {})
    containers = _containers(pod_spec)
    problems = _host_namespaces(pod_spec) + _volumes(pod_spec) + _pod_rules(pod_ctx)
    problems += _seccomp(pod_ctx, containers) + _non_root(pod_ctx, containers)
    for c in containers:
        problems += _container_rules(c)
    return problems
