"""How ready each component is, read from the objects Kubernetes returns (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from ragops_operator.builders.workloads import CONFIG_HASH_ANNOTATION
from ragops_operator.objects import Obj


@dataclass(frozen=True)
class Health:
    name: str
    desired: int
    ready: int
    updated: bool

    @property
    def serving(self) -> bool:
        """Every current pod is ready and runs the current template."""
        return self.updated and self.desired >= 1 and self.ready >= self.desired

    def describe(self) -> str:
        return f"{self.name} {self.ready}/{self.desired} ready" + (
            "" if self.updated else ", rolling out"
        )


def _observed(obj: Obj) -> bool:
    status = obj.get("status") or {}
    return int(status.get("observedGeneration") or 0) >= int(obj["metadata"].get("generation") or 0)


def of_deployment(name: str, obj: Obj | None, *, minimum: int = 1) -> Health:
    """`minimum` is the spec's floor: an HPA that has not scaled up to it yet is not done."""
    if obj is None:
        return Health(name, desired=minimum, ready=0, updated=False)
    status = obj.get("status") or {}
    desired = max(minimum, int((obj.get("spec") or {}).get("replicas", 1)))
    updated = _observed(obj) and int(status.get("updatedReplicas") or 0) >= desired
    ready = min(int(status.get("availableReplicas") or 0), int(status.get("readyReplicas") or 0))
    return Health(name, desired=desired, ready=ready, updated=updated)


def of_stateful_set(name: str, obj: Obj | None, *, minimum: int = 1) -> Health:
    if obj is None:
        return Health(name, desired=minimum, ready=0, updated=False)
    status = obj.get("status") or {}
    desired = max(minimum, int((obj.get("spec") or {}).get("replicas", 1)))
    same_revision = status.get("currentRevision") == status.get("updateRevision")
    updated = _observed(obj) and (
        same_revision or int(status.get("updatedReplicas") or 0) >= desired
    )
    return Health(
        name, desired=desired, ready=int(status.get("readyReplicas") or 0), updated=updated
    )


def rolled_out(deployment: Obj | None, config_hash: str) -> bool:
    """Every pod of the Deployment runs `config_hash`, and no older pod is still stopping."""
    if deployment is None:
        return False
    template = deployment["spec"]["template"]["metadata"].get("annotations") or {}
    counts = deployment.get("status") or {}
    return (
        template.get(CONFIG_HASH_ANNOTATION) == config_hash
        and of_deployment("worker", deployment).updated
        and int(counts.get("replicas") or 0) == int(counts.get("updatedReplicas") or 0)
        and not counts.get("terminatingReplicas")
    )
