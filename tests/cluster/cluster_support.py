"""Types and deadline-bounded waits shared by the cluster tests (imported by conftest and tests)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client
from ragops_devcluster.kubectl import Kubectl
from ragops_devcluster.waiting import Pending, wait_until


@dataclass(frozen=True)
class ClusterUnderTest:
    backend: str
    kubeconfig: Path
    kubectl: Kubectl


class Waits:
    """Deadline-bounded waits on cluster state; a timeout says what was seen last."""

    def __init__(self, api: client.ApiClient) -> None:
        self.apps = client.AppsV1Api(api)
        self.core = client.CoreV1Api(api)
        self.autoscaling = client.AutoscalingV2Api(api)

    @staticmethod
    def until(probe: Callable[[], Any], *, timeout: float, what: str, interval: float = 1.0) -> Any:
        return wait_until(probe, timeout=timeout, what=what, interval=interval)

    def deployment_available(
        self, namespace: str, name: str, *, timeout: float = 90
    ) -> client.V1Deployment:
        def probe() -> client.V1Deployment | Pending:
            deployment = self.apps.read_namespaced_deployment(name, namespace)
            conditions = {c.type: c.status for c in deployment.status.conditions or []}
            want = deployment.spec.replicas
            if (
                conditions.get("Available") == "True"
                and (deployment.status.ready_replicas or 0) == want
            ):
                return deployment
            return Pending(
                f"conditions={conditions} ready={deployment.status.ready_replicas}/{want}"
            )

        result: client.V1Deployment = self.until(
            probe, timeout=timeout, what=f"Deployment {namespace}/{name} Available"
        )
        return result

    def statefulset_ready(
        self, namespace: str, name: str, *, timeout: float = 120
    ) -> client.V1StatefulSet:
        def probe() -> client.V1StatefulSet | Pending:
            statefulset = self.apps.read_namespaced_stateful_set(name, namespace)
            want, ready = statefulset.spec.replicas, statefulset.status.ready_replicas or 0
            if ready == want:
                return statefulset
            return Pending(f"ready={ready}/{want}")

        result: client.V1StatefulSet = self.until(
            probe, timeout=timeout, what=f"StatefulSet {namespace}/{name} ready"
        )
        return result

    def pvcs_bound(
        self, namespace: str, selector: str, count: int, *, timeout: float = 90
    ) -> list[Any]:
        def probe() -> list[Any] | Pending:
            claims = self.core.list_namespaced_persistent_volume_claim(
                namespace, label_selector=selector
            ).items
            phases = {c.metadata.name: c.status.phase for c in claims}
            if len(claims) == count and all(phase == "Bound" for phase in phases.values()):
                return list(claims)
            return Pending(f"claims={phases}")

        result: list[Any] = self.until(
            probe, timeout=timeout, what=f"{count} Bound PVCs ({selector}) in {namespace}"
        )
        return result

    def gone(self, lister: Callable[[], list[Any]], *, what: str, timeout: float = 90) -> None:
        def probe() -> bool | Pending:
            remaining = [item.metadata.name for item in lister()]
            return True if not remaining else Pending(f"still present: {remaining}")

        self.until(probe, timeout=timeout, what=what)
