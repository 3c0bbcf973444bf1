"""Fields added by hand to a stack's children are removed, on a real API server (issue #15
item 1): server-side apply alone leaves them, owned by their own field manager."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from ragops_devcluster.kubectl import Kubectl
from ragops_devcluster.waiting import Pending
from tests.support.cluster import Kube, Obj, Waits
from tests.support.operator import RAGD, ragdeployment, wait_ready

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("ragops_operator")]

NAME = "rag"


@pytest.fixture
def stack(kube: Kube, waits: Waits, namespace: str) -> str:
    # The namespace fixture has already created the Secrets the stack references.
    kube.create(ragdeployment(NAME, namespace), namespace)
    wait_ready(waits, namespace, NAME, timeout=90)
    return namespace


def _patch(kubectl: Kubectl, namespace: str, what: str, patch: dict[str, Any]) -> None:
    kubectl.run(
        ["patch", *what.split(), "-n", namespace, "--type", "strategic", "-p", json.dumps(patch)]
    )


def _drift_events(kube: Kube, namespace: str) -> list[str]:
    return sorted(
        event["message"]
        for event in kube.list("v1", "Event", namespace)
        if event["reason"] == "DriftReverted" and event["involvedObject"]["name"] == NAME
    )


def _drift_events_when(
    waits: Waits, kube: Kube, namespace: str, wanted: Callable[[list[str]], bool], what: str
) -> list[str]:
    """The DriftReverted Events once `wanted` holds: an Event is posted after the revert it
    reports, so the object can be put back a moment before its Event is listed."""

    seen: list[str] = []

    def probe() -> bool | Pending:
        seen[:] = _drift_events(kube, namespace)
        return True if wanted(seen) else Pending(f"DriftReverted events so far: {seen}")

    waits.until(probe, timeout=15, what=what, interval=0.2)
    return seen


def _removed(waits: Waits, namespace: str, what: str, check: Any, *, timeout: float = 20) -> float:
    """Seconds until `check()` (None when the field is gone, else what it saw) is satisfied."""
    started = time.monotonic()

    def probe() -> bool | Pending:
        seen = check()
        return True if seen is None else Pending(str(seen))

    waits.until(probe, timeout=timeout, what=what, interval=0.2)
    return time.monotonic() - started


def _drift_condition(kube: Kube, namespace: str) -> dict[str, Any]:
    obj = kube.get(*RAGD, NAME, namespace)
    found = [c for c in obj["status"]["conditions"] if c["type"] == "DriftReverted"]
    return dict(found[0]) if found else {}


def test_a_sidecar_and_host_network_patched_into_the_worker_are_removed(
    kube: Kube, kubectl: Kubectl, waits: Waits, stack: str
) -> None:
    _patch(
        kubectl,
        stack,
        f"deployment {NAME}-worker",
        {
            "spec": {
                "template": {
                    "spec": {
                        "hostNetwork": True,
                        "containers": [{"name": "sidecar", "image": "busybox:1.36"}],
                    }
                }
            }
        },
    )

    def check() -> str | None:
        pod = kube.get("apps/v1", "Deployment", f"{NAME}-worker", stack)["spec"]["template"]["spec"]
        names = [c["name"] for c in pod["containers"]]
        ports = [p for c in pod["containers"] for p in c.get("ports") or []]
        if pod.get("hostNetwork") or "sidecar" in names or any("hostPort" in p for p in ports):
            return f"hostNetwork={pod.get('hostNetwork')} containers={names} ports={ports}"
        return None

    seconds = _removed(waits, stack, "the sidecar and hostNetwork removed", check)
    print(f"worker drift removed {seconds:.1f} s after the patch")
    events = _drift_events_when(
        waits, kube, stack, lambda found: any("sidecar" in m for m in found), "the worker's Event"
    )
    assert any(
        "spec.template.spec.containers[name=sidecar]" in m
        and "spec.template.spec.hostNetwork" in m
        and f"from Deployment {NAME}-worker: set by kubectl-patch" in m
        for m in events
    ), events
    condition = _drift_condition(kube, stack)
    assert condition.get("status") == "True", condition
    assert f"Deployment {NAME}-worker" in condition["message"]
    wait_ready(waits, stack, NAME, timeout=60)
    # Gone for good: the operator's own patch is not undone by the next passes.
    time.sleep(3)
    assert check() is None


def test_an_allow_all_ingress_patched_into_the_default_deny_is_removed(
    kube: Kube, kubectl: Kubectl, waits: Waits, stack: str
) -> None:
    policy = f"{NAME}-default-deny"
    kubectl.run(
        [
            "patch",
            "networkpolicy",
            policy,
            "-n",
            stack,
            "--type",
            "merge",
            "-p",
            json.dumps({"spec": {"ingress": [{}]}}),
        ]
    )

    def check() -> str | None:
        spec = kube.get("networking.k8s.io/v1", "NetworkPolicy", policy, stack)["spec"]
        return None if "ingress" not in spec else f"ingress={spec['ingress']}"

    _removed(waits, stack, "the allow-all ingress removed", check)
    events = _drift_events_when(
        waits, kube, stack, lambda found: any("spec.ingress" in m for m in found), "its Event"
    )
    assert (
        f"Removed spec.ingress from NetworkPolicy {policy}: set by kubectl-patch, not in the spec"
        in events
    ), events
    assert _drift_condition(kube, stack).get("status") == "True"


def test_service_account_and_service_additions_are_removed(
    kube: Kube, kubectl: Kubectl, waits: Waits, stack: str
) -> None:
    account = f"{NAME}-worker"
    _patch(
        kubectl,
        stack,
        f"serviceaccount {account}",
        {"imagePullSecrets": [{"name": "someone-elses"}], "secrets": [{"name": "token"}]},
    )
    _patch(kubectl, stack, f"service {NAME}-api", {"spec": {"externalIPs": ["203.0.113.7"]}})

    def check() -> str | None:
        sa = kube.get("v1", "ServiceAccount", account, stack)
        service = kube.get("v1", "Service", f"{NAME}-api", stack)["spec"]
        left = {
            key: value
            for key, value in {
                "imagePullSecrets": sa.get("imagePullSecrets"),
                "secrets": sa.get("secrets"),
                "externalIPs": service.get("externalIPs"),
                "automount": sa.get("automountServiceAccountToken") is not False or None,
            }.items()
            if value
        }
        return None if not left else str(left)

    _removed(waits, stack, "the ServiceAccount's and Service's additions removed", check)
    events = _drift_events_when(
        waits,
        kube,
        stack,
        lambda found: (
            any("from Service " in m for m in found)
            and any("from ServiceAccount " in m for m in found)
        ),
        "the Service's and ServiceAccount's Events",
    )
    # externalTrafficPolicy: defaulted by the API server with externalIPs, so owned by the patch.
    assert any(
        m.startswith("Removed spec.externalIPs")
        and f"from Service {NAME}-api: set by kubectl-patch" in m
        for m in events
    ), events
    assert any(f"from ServiceAccount {account}: set by kubectl-patch" in m for m in events), events


def test_a_settled_stack_reports_no_drift(kube: Kube, waits: Waits, stack: str) -> None:
    """The operator's own fields and the controllers' (kube-controller-manager's revision
    annotations, status, the HPA's replicas) are never taken for drift."""
    time.sleep(3)
    assert _drift_events(kube, stack) == []
    assert _drift_condition(kube, stack) == {}
    obj: Obj = kube.get(*RAGD, NAME, stack)
    assert obj["status"]["conditions"][0]["status"] == "True"
