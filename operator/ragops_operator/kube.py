"""The operator's only Kubernetes client: server-side apply, list, delete, status patch.

Built on kubernetes_asyncio so reconciles never block kopf's event loop. Objects are plain dicts
(the manifests the builders produce), addressed through a fixed table of the kinds the operator
manages, so a typo in a builder is a KeyError in the tests, not a silent 404.
"""

from __future__ import annotations

import builtins
import json
from dataclasses import dataclass
from typing import Any

from kubernetes_asyncio import client as k8s
from kubernetes_asyncio.client.exceptions import ApiException

from ragops_operator.api import v1alpha1 as api

FIELD_MANAGER = "ragops-operator"
Obj = dict[str, Any]


@dataclass(frozen=True)
class Kind:
    api_version: str
    kind: str
    plural: str

    def collection(self, namespace: str) -> str:
        prefix = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        return f"{prefix}/namespaces/{namespace}/{self.plural}"


MANAGED_KINDS: tuple[Kind, ...] = (
    Kind("v1", "ConfigMap", "configmaps"),
    Kind("v1", "ServiceAccount", "serviceaccounts"),
    Kind("v1", "Service", "services"),
    Kind("apps/v1", "Deployment", "deployments"),
    Kind("apps/v1", "StatefulSet", "statefulsets"),
    Kind("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers"),
    Kind("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets"),
    Kind("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies"),
    Kind("batch/v1", "CronJob", "cronjobs"),
    Kind("monitoring.coreos.com/v1", "ServiceMonitor", "servicemonitors"),
    Kind("monitoring.coreos.com/v1", "PrometheusRule", "prometheusrules"),
)
PROMETHEUS_OPERATOR_GROUP = "monitoring.coreos.com/v1"
# Not managed (never applied or pruned): only grown in place when Qdrant's volumes get bigger.
CLAIMS = Kind("v1", "PersistentVolumeClaim", "persistentvolumeclaims")
_BY_KEY = {(k.api_version, k.kind): k for k in (*MANAGED_KINDS, CLAIMS)}
RAGD = Kind(f"{api.GROUP}/{api.VERSION}", api.KIND, api.PLURAL)


def kind_of(obj: Obj) -> Kind:
    return _BY_KEY[(obj["apiVersion"], obj["kind"])]


def is_retryable(error: ApiException) -> bool:
    """Conflicts, throttling and server errors pass; everything else is about our request."""
    return error.status in (409, 429) or (error.status or 0) >= 500


class Cluster:
    """Async operations on namespaced objects as dicts."""

    def __init__(self, client: k8s.ApiClient, *, request_timeout: float = 30.0) -> None:
        self._client = client
        self._timeout = request_timeout

    async def _call(
        self,
        method: str,
        path: str,
        *,
        query: list[tuple[str, str]] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> Obj:
        response = await self._client.call_api(
            path,
            method,
            query_params=query or [],
            header_params={"Content-Type": content_type, "Accept": "application/json"},
            body=body,
            auth_settings=["BearerToken"],
            response_types_map={200: "object", 201: "object", 202: "object"},
            _return_http_data_only=True,
            _request_timeout=self._timeout,
        )
        if isinstance(response, (bytes, str)):
            return dict(json.loads(response))
        return dict(response or {})

    async def apply(self, manifest: Obj, *, field_manager: str = FIELD_MANAGER) -> Obj:
        """Server-side apply as the operator's field manager; force takes fields back from
        anyone who edited our objects by hand (that is drift, and we correct it)."""
        meta = manifest["metadata"]
        path = f"{kind_of(manifest).collection(meta['namespace'])}/{meta['name']}"
        return await self._call(
            "PATCH",
            path,
            query=[("fieldManager", field_manager), ("force", "true")],
            body=manifest,
            content_type="application/apply-patch+yaml",
        )

    async def list(self, kind: Kind, namespace: str, selector: dict[str, str]) -> builtins.list[Obj]:
        label_selector = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        return await self._list(kind, kind.collection(namespace), label_selector)

    async def list_all(self, kind: Kind) -> builtins.list[Obj]:
        """Every object of `kind` in every namespace."""
        return await self._list(kind, kind.collection("-").replace("/namespaces/-", ""), "")

    async def _list(self, kind: Kind, path: str, label_selector: str) -> builtins.list[Obj]:
        query = [("labelSelector", label_selector)] if label_selector else []
        listing = await self._call("GET", path, query=query)
        items: builtins.list[Obj] = listing.get("items") or []
        for item in items:  # lists omit these per item; callers compare manifests with them
            item.setdefault("apiVersion", kind.api_version)
            item.setdefault("kind", kind.kind)
        return items

    async def get(self, kind: Kind, namespace: str, name: str) -> Obj | None:
        try:
            return await self._call("GET", f"{kind.collection(namespace)}/{name}")
        except ApiException as error:
            if error.status == 404:
                return None
            raise

    async def merge_patch(self, kind: Kind, namespace: str, name: str, patch: Obj) -> Obj:
        path = f"{kind.collection(namespace)}/{name}"
        return await self._call("PATCH", path, body=patch, content_type="application/merge-patch+json")

    async def delete(self, obj: Obj, *, orphan: bool = False) -> None:
        """Delete `obj` (that very object: a uid precondition); `orphan` keeps its dependents."""
        meta = obj["metadata"]
        path = f"{kind_of(obj).collection(meta['namespace'])}/{meta['name']}"
        policy = "Orphan" if orphan else "Background"
        body = {"propagationPolicy": policy, "preconditions": {"uid": meta["uid"]}}
        try:
            await self._call("DELETE", path, body=body)
        except ApiException as error:
            if error.status not in (404, 409):  # gone already, or replaced since we listed it
                raise

    async def patch_status(self, namespace: str, name: str, status: Obj) -> None:
        path = f"{RAGD.collection(namespace)}/{name}/status"
        await self._call("PATCH", path, body={"status": status}, content_type="application/merge-patch+json")

    async def served(self, group_version: str) -> set[str]:
        """Kinds the API server serves in a group/version; empty when the group is not installed."""
        try:
            found = await self._call("GET", f"/apis/{group_version}")
        except ApiException as error:
            if error.status == 404:
                return set()
            raise
        return {resource["kind"] for resource in found.get("resources") or [] if "/" not in resource["name"]}

    async def event(self, involved: Obj, *, type_: str, reason: str, message: str, now: str) -> None:
        """A core/v1 Event on `involved` (what `kubectl describe` shows under Events)."""
        meta = involved["metadata"]
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": f"{meta['name']}.", "namespace": meta["namespace"]},
            "involvedObject": {
                "apiVersion": involved["apiVersion"],
                "kind": involved["kind"],
                "name": meta["name"],
                "namespace": meta["namespace"],
                "uid": meta["uid"],
            },
            "type": type_,
            "reason": reason,
            "message": message[:1024],
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "source": {"component": FIELD_MANAGER},
            "reportingComponent": FIELD_MANAGER,
        }
        await self._call("POST", f"/api/v1/namespaces/{meta['namespace']}/events", body=body)
