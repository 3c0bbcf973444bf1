"""The restricted-PSS checker itself: it admits a compliant pod and names each violation."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.support.pod_security import pod_spec_of, restricted_violations

GOOD: dict[str, Any] = {
    "securityContext": {
        "runAsNonRoot": True,
        "runAsUser": 1000,
        "seccompProfile": {"type": "RuntimeDefault"},
    },
    "containers": [
        {
            "name": "app",
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
            },
            "ports": [{"containerPort": 8080}],
        }
    ],
    "volumes": [
        {"name": "tmp", "emptyDir": {}},
        {"name": "data", "persistentVolumeClaim": {"claimName": "x"}},
    ],
}


def mutated(path: list[Any], value: Any) -> dict[str, Any]:
    pod = copy.deepcopy(GOOD)
    target = pod
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return pod


def test_compliant_pod_has_no_violations() -> None:
    assert restricted_violations(GOOD) == []


@pytest.mark.parametrize(
    ("pod", "message"),
    [
        (mutated(["hostNetwork"], True), "hostNetwork"),
        (mutated(["hostPID"], True), "hostPID"),
        (mutated(["hostIPC"], True), "hostIPC"),
        (mutated(["volumes", 0], {"name": "h", "hostPath": {"path": "/"}}), "hostPath"),
        (mutated(["volumes", 0], {"name": "n", "nfs": {"server": "x", "path": "/"}}), "nfs"),
        (mutated(["securityContext", "runAsNonRoot"], False), "runAsNonRoot"),
        (mutated(["securityContext", "runAsUser"], 0), "runAsUser"),
        (mutated(["securityContext", "seccompProfile"], {"type": "Unconfined"}), "seccomp"),
        (
            mutated(["securityContext", "seccompProfile"], None)
            | {"securityContext": {"runAsNonRoot": True}},
            "seccomp",
        ),
        (mutated(["containers", 0, "securityContext", "privileged"], True), "privileged"),
        (
            mutated(["containers", 0, "securityContext", "allowPrivilegeEscalation"], True),
            "allowPrivilegeEscalation",
        ),
        (
            mutated(["containers", 0, "securityContext", "capabilities"], {"drop": ["NET_RAW"]}),
            "drop ALL",
        ),
        (
            mutated(["containers", 0, "securityContext", "capabilities", "add"], ["SYS_ADMIN"]),
            "SYS_ADMIN",
        ),
        (mutated(["containers", 0, "securityContext", "runAsNonRoot"], False), "runAsNonRoot"),
        (mutated(["containers", 0, "ports", 0, "hostPort"], 80), "hostPort"),
        (mutated(["containers", 0, "securityContext", "procMount"], "Unmasked"), "procMount"),
        (
            mutated(["securityContext", "sysctls"], [{"name": "kernel.msgmax", "value": "1"}]),
            "kernel.msgmax",
        ),
        (mutated(["securityContext", "seLinuxOptions"], {"user": "root"}), "seLinuxOptions.user"),
    ],
)
def test_each_violation_is_reported(pod: dict[str, Any], message: str) -> None:
    violations = restricted_violations(pod)
    assert any(message in v for v in violations), violations


def test_net_bind_service_is_the_one_capability_that_may_be_added() -> None:
    assert (
        restricted_violations(
            mutated(
                ["containers", 0, "securityContext", "capabilities", "add"], ["NET_BIND_SERVICE"]
            )
        )
        == []
    )


def test_init_containers_are_checked_too() -> None:
    pod = copy.deepcopy(GOOD)
    pod["initContainers"] = [{"name": "init", "securityContext": {}}]
    assert any(v.startswith("container init:") for v in restricted_violations(pod))


def test_pod_spec_of_finds_the_pod_in_workloads() -> None:
    assert pod_spec_of({"kind": "StatefulSet", "spec": {"template": {"spec": GOOD}}}) is GOOD
    assert (
        pod_spec_of(
            {"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": GOOD}}}}}
        )
        is GOOD
    )
    assert pod_spec_of({"kind": "Service", "spec": {}}) is None
