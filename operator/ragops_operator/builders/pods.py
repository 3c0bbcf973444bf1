"""Pod-level pieces every component shares: the `restricted` Pod Security Standard and
zone spreading.

Every pod the operator renders must be admitted in a namespace labelled
`pod-security.kubernetes.io/enforce=restricted`; keeping the settings in one place is what
makes that true for components added later.
"""

from __future__ import annotations

from typing import Any

from ragops_operator.api import v1alpha1 as api

ZONE_KEY = "topology.kubernetes.io/zone"
HOST_KEY = "kubernetes.io/hostname"
NON_ROOT_UID = 10001


def pod_security_context(*, uid: int = NON_ROOT_UID, fs_group: int | None = None) -> dict[str, Any]:
    context: dict[str, Any] = {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    context["fsGroup"] = fs_group if fs_group is not None else uid
    return context


def container_security_context() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def resources(spec: api.Resources) -> dict[str, Any]:
    return spec.model_dump(by_alias=True)


def zone_spread(selector: dict[str, str], *, hard: bool = False) -> list[dict[str, Any]]:
    """Spread replicas over zones (and hosts), so one lost zone keeps the others serving.

    Soft by default: a cluster with one zone still schedules everything.
    """
    when = "DoNotSchedule" if hard else "ScheduleAnyway"
    return [
        {
            "maxSkew": 1,
            "topologyKey": ZONE_KEY,
            "whenUnsatisfiable": when,
            "labelSelector": {"matchLabels": dict(selector)},
        },
        {
            "maxSkew": 1,
            "topologyKey": HOST_KEY,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": dict(selector)},
        },
    ]


def http_probe(
    path: str, port: str, *, period: int = 10, failures: int = 3, initial_delay: int = 0
) -> dict[str, Any]:
    probe: dict[str, Any] = {
        "httpGet": {"path": path, "port": port},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }
    if initial_delay:
        probe["initialDelaySeconds"] = initial_delay
    return probe
