"""Names, labels and metadata shared by every child object of a RAGDeployment.

Every child carries the `app.kubernetes.io/*` labels, so the operator can list (and prune)
exactly its own objects with one selector, and an ownerReference, so Kubernetes garbage-collects
the stack when the RAGDeployment goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ragops_operator.api import v1alpha1 as api

MANAGED_BY = "ragops-operator"
PART_OF = "ragops"
COMPONENT_API = "api"
COMPONENT_WORKER = "worker"
COMPONENT_QDRANT = "qdrant"
COMPONENT_STACK = "stack"


@dataclass(frozen=True)
class Owner:
    """What children need to know about their RAGDeployment."""

    name: str
    namespace: str
    uid: str

    @classmethod
    def of(cls, resource: api.RAGDeployment) -> Owner:
        meta = resource.metadata
        return cls(name=meta["name"], namespace=meta["namespace"], uid=meta["uid"])

    def child_name(self, suffix: str) -> str:
        return f"{self.name}-{suffix}"

    def reference(self) -> dict[str, Any]:
        return {
            "apiVersion": f"{api.GROUP}/{api.VERSION}",
            "kind": api.KIND,
            "name": self.name,
            "uid": self.uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }


def instance_selector(owner: Owner) -> dict[str, str]:
    """Labels that select every child of one RAGDeployment (used for listing and pruning)."""
    return {"app.kubernetes.io/instance": owner.name, "app.kubernetes.io/managed-by": MANAGED_BY}


COMPONENT_LABEL = "app.kubernetes.io/component"


def selector_labels(owner: Owner, component: str) -> dict[str, str]:
    """Immutable pod selector of one component: never add to it (Deployments refuse the change)."""
    return {
        "app.kubernetes.io/name": "ragops",
        "app.kubernetes.io/instance": owner.name,
        COMPONENT_LABEL: component,
    }


def labels(owner: Owner, component: str, *, version: str | None = None) -> dict[str, str]:
    result = {
        **selector_labels(owner, component),
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "app.kubernetes.io/part-of": PART_OF,
    }
    if version:
        result["app.kubernetes.io/version"] = version[:63]
    return result


def metadata(
    owner: Owner,
    name: str,
    component: str,
    *,
    extra_labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": owner.namespace,
        "labels": {**labels(owner, component), **(extra_labels or {})},
        "ownerReferences": [owner.reference()],
    }
    if annotations:
        meta["annotations"] = annotations
    return meta


def image_tag(image: str) -> str | None:
    """The tag of `repo:tag` (not of `host:port/repo`), for the version label."""
    last = image.rsplit("/", 1)[-1]
    if "@" in last:
        return None
    return last.split(":", 1)[1] if ":" in last else None
