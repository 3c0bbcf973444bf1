"""Pod-level pieces every component shares: the `restricted` Pod Security Standard and
zone spreading.

Every pod the operator renders must be admitted in a namespace labelled
`pod-security.kubernetes.io/enforce=restricted`; keeping the settings in one place is what
makes that true for components added later.
"""

from __future__ import annotations

import math
from typing import Any

from ragops_operator.api import v1alpha1 as api
from ragops_operator.planning import transitions

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


def resources(spec: api.Resources, *, ephemeral: str | None = None) -> dict[str, Any]:
    """The spec's requests and limits, plus `ephemeral` as the ephemeral-storage request."""
    rendered: dict[str, Any] = spec.model_dump(by_alias=True)
    if ephemeral is not None:
        rendered["requests"]["ephemeral-storage"] = ephemeral
    return rendered


def scratch_request(volumes: list[dict[str, Any]], *, burst: tuple[str, ...] = ()) -> str:
    """The ephemeral-storage a pod requests: the sum of its emptyDirs' sizeLimits, so the
    scheduler only places it on a node with room for the scratch space it will fill. Volumes in
    `burst` are left out: they fill only occasionally and are bounded by their own sizeLimit.
    In MiB, a unit every sizeLimit the operator writes converts to exactly enough."""
    total = sum(
        transitions.quantity(volume["emptyDir"]["sizeLimit"])
        for volume in volumes
        if "emptyDir" in volume and volume["name"] not in burst
    )
    return f"{math.ceil(total / 2**20)}Mi"


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
