"""Cluster access and deadline-bounded waits shared by the cluster tests.

Objects are plain dicts through the dynamic client: the same shape as the manifests the tests
write, and no all-Optional typed models to unwrap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from kubernetes import client
from kubernetes.dynamic import DynamicClient

from ragops_devcluster.kubectl import Kubectl
from ragops_devcluster.waiting import Pending, wait_until

T = TypeVar("T")
Obj = dict[str, Any]


@dataclass(frozen=True)
class ClusterUnderTest:
    backend: str
    kubeconfig: Path
    kubectl: Kubectl


class Kube:
    """Create, read, list and delete any resource as a dict."""

    def __init__(self, api: client.ApiClient) -> None:
        self._dynamic = DynamicClient(api)  # type: ignore[no-untyped-call]  # untyped upstream

    def _resource(self, api_version: str, kind: str) -> Any:
        return self._dynamic.resources.get(api_version=api_version, kind=kind)

    def create(self, manifest: Obj, namespace: str | None = None) -> Obj:
        resource = self._resource(manifest["apiVersion"], manifest["kind"])
        created: Obj = resource.create(body=manifest, namespace=namespace).to_dict()
        return created

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> Obj:
        found: Obj = self._resource(api_version, kind).get(name=name, namespace=namespace).to_dict()
        return found

    def list(
        self, api_version: str, kind: str, namespace: str | None = None, selector: str = ""
    ) -> list[Obj]:
        listing = self._resource(api_version, kind).get(
            namespace=namespace, label_selector=selector
        )
        items: list[Obj] = listing.to_dict()["items"]
        return items

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> None:
        self._resource(api_version, kind).delete(
            name=name, namespace=namespace, body={"propagationPolicy": "Background"}
        )


def conditions(obj: Obj) -> dict[str, str]:
    """{type: status} of an object's status.conditions."""
    return {c["type"]: c["status"] for c in obj.get("status", {}).get("conditions") or []}


class Waits:
    """Deadline-bounded waits on cluster state; a timeout says what was seen last."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube

    @staticmethod
    def until(
        probe: Callable[[], T | Pending], *, timeout: float, what: str, interval: float = 1.0
    ) -> T:
        return wait_until(probe, timeout=timeout, what=what, interval=interval)

    def deployment_available(self, namespace: str, name: str, *, timeout: float = 90) -> Obj:
        def probe() -> Obj | Pending:
            deployment = self.kube.get("apps/v1", "Deployment", name, namespace)
            want, ready = (
                deployment["spec"]["replicas"],
                deployment["status"].get("readyReplicas", 0),
            )
            if conditions(deployment).get("Available") == "True" and ready == want:
                return deployment
            return Pending(f"conditions={conditions(deployment)} ready={ready}/{want}")

        return self.until(probe, timeout=timeout, what=f"Deployment {namespace}/{name} Available")

    def statefulset_ready(self, namespace: str, name: str, *, timeout: float = 120) -> Obj:
        def probe() -> Obj | Pending:
            statefulset = self.kube.get("apps/v1", "StatefulSet", name, namespace)
            want, ready = (
                statefulset["spec"]["replicas"],
                statefulset["status"].get("readyReplicas", 0),
            )
            return statefulset if ready == want else Pending(f"ready={ready}/{want}")

        return self.until(probe, timeout=timeout, what=f"StatefulSet {namespace}/{name} ready")

    def claims_bound(self, namespace: str, count: int, *, timeout: float = 90) -> list[Obj]:
        def probe() -> list[Obj] | Pending:
            claims = self.kube.list("v1", "PersistentVolumeClaim", namespace)
            phases = {c["metadata"]["name"]: c.get("status", {}).get("phase") for c in claims}
            if len(claims) == count and all(phase == "Bound" for phase in phases.values()):
                return claims
            return Pending(f"claims={phases}")

        return self.until(probe, timeout=timeout, what=f"{count} Bound PVCs in {namespace}")

    def gone(self, lister: Callable[[], list[Obj]], *, what: str, timeout: float = 90) -> None:
        def probe() -> bool | Pending:
            remaining = [item["metadata"]["name"] for item in lister()]
            return True if not remaining else Pending(f"still present: {remaining}")

        self.until(probe, timeout=timeout, what=what)
