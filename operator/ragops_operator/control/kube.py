"""The operator's only Kubernetes client: server-side apply, list, delete, status patch; and
the protocol (ClusterApi) the rest of control/ uses it through.

A thin aiohttp client (aiohttp already carries kopf) over the credentials kopf itself resolves,
rather than kubernetes_asyncio: importing that library's ~1,000 generated model modules costs
about 55 MB of RSS per operator, a third of the budget, for a handful of REST calls. Objects are
plain dicts (the manifests the builders produce), addressed through a fixed table of the kinds the
operator manages, so a typo in a builder is a KeyError in the tests, not a silent 404.
"""

from __future__ import annotations

import base64
import builtins
import json
import os
import ssl
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
import kopf

from ragops_operator.api import v1alpha1 as api
from ragops_operator.objects import Obj

FIELD_MANAGER = "ragops-operator"
# The JSON patches removing foreign fields (an Update, not an Apply: kept apart from our applies).
REVERT_MANAGER = "ragops-operator-revert"


class ApiError(Exception):
    """A non-2xx answer of the API server."""

    def __init__(self, status: int, reason: str, body: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason
        self.body = body

    @property
    def message(self) -> str:
        try:
            return str(json.loads(self.body).get("message") or self.reason)
        except (ValueError, AttributeError):
            return self.reason


@dataclass(frozen=True)
class Kind:
    api_version: str
    kind: str
    plural: str
    watched: bool = True  # a change repairs drift at once; unwatched kinds wait for the resync

    @property
    def group(self) -> str:
        return self.api_version.rsplit("/", 1)[0] if "/" in self.api_version else ""

    @property
    def version(self) -> str:
        return self.api_version.rsplit("/", 1)[-1]

    def collection(self, namespace: str) -> str:
        """The kind's URL path in `namespace`; an empty namespace means cluster-scoped or all."""
        prefix = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        return (
            f"{prefix}/namespaces/{namespace}/{self.plural}"
            if namespace
            else f"{prefix}/{self.plural}"
        )


# The restore Job is a child; the CronJob's backup Jobs are watched too, for status.lastBackup.
JOBS = Kind("batch/v1", "Job", "jobs")
MANAGED_KINDS: tuple[Kind, ...] = (
    Kind("v1", "ConfigMap", "configmaps"),
    Kind("v1", "ServiceAccount", "serviceaccounts"),
    Kind("v1", "Service", "services"),
    Kind("apps/v1", "Deployment", "deployments"),
    Kind("apps/v1", "StatefulSet", "statefulsets"),
    Kind("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers"),
    Kind("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets"),
    Kind("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies"),
    Kind("batch/v1", "CronJob", "cronjobs", watched=False),
    JOBS,
    Kind("monitoring.coreos.com/v1", "ServiceMonitor", "servicemonitors", watched=False),
    Kind("monitoring.coreos.com/v1", "PrometheusRule", "prometheusrules", watched=False),
)
PROMETHEUS_OPERATOR_GROUP = "monitoring.coreos.com/v1"
# Not managed (never applied or pruned): only grown in place when Qdrant's volumes get bigger.
CLAIMS = Kind("v1", "PersistentVolumeClaim", "persistentvolumeclaims")
# Not managed: only read, for the termination message a backup pod leaves (status.lastBackup).
PODS = Kind("v1", "Pod", "pods")
_BY_KEY = {(k.api_version, k.kind): k for k in (*MANAGED_KINDS, CLAIMS)}
RAGD = Kind(f"{api.GROUP}/{api.VERSION}", api.KIND, api.PLURAL)


def kind_of(obj: Obj) -> Kind:
    return _BY_KEY[(obj["apiVersion"], obj["kind"])]


def is_retryable(error: ApiError) -> bool:
    """Conflicts, throttling and server errors pass; everything else is about our request."""
    return error.status in (409, 429) or error.status >= 500


class RetryLater(Exception):
    """A transient API error (conflict, throttling, 5xx): the same reconcile will succeed later."""


class ClusterApi(Protocol):
    """What the reconciler, the runtime and the peering gate need of the cluster.

    `Cluster` below is the real one; tests/support/fake_cluster.py keeps objects in memory, so
    the I/O around the planners is unit-tested without an API server. Semantics are Cluster's:
    `delete` ignores 404 and 409 (gone, or replaced since listed), `get` answers None for 404.
    """

    async def apply(self, manifest: Obj, *, field_manager: str = FIELD_MANAGER) -> Obj: ...

    async def list(
        self, kind: Kind, namespace: str, selector: dict[str, str]
    ) -> builtins.list[Obj]: ...

    async def list_all(self, kind: Kind) -> builtins.list[Obj]: ...

    async def get(self, kind: Kind, namespace: str, name: str) -> Obj | None: ...

    async def create(self, kind: Kind, obj: Obj) -> Obj: ...

    async def merge_patch(self, kind: Kind, namespace: str, name: str, patch: Obj) -> Obj: ...

    async def json_patch(
        self, kind: Kind, namespace: str, name: str, operations: builtins.list[Obj]
    ) -> Obj: ...

    async def delete(self, obj: Obj, *, orphan: bool = False) -> None: ...

    async def patch_status(self, namespace: str, name: str, status: Obj) -> None: ...

    async def served(self, group_version: str) -> set[str]: ...

    async def event(
        self, involved: Obj, *, type_: str, reason: str, message: str, now: str
    ) -> None: ...

    async def close(self) -> None: ...


Login = Callable[[], kopf.ConnectionInfo]


def _pem_file(data: str | bytes, directory: str, name: str) -> str:
    path = os.path.join(directory, name)
    with open(path, "wb") as handle:
        handle.write(base64.b64decode(data))
    return path


def ssl_context(info: kopf.ConnectionInfo) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if info.ca_path:
        context.load_verify_locations(cafile=os.fspath(info.ca_path))
    if info.ca_data:
        context.load_verify_locations(cadata=base64.b64decode(info.ca_data).decode())
    if info.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if info.certificate_path or info.certificate_data:
        # load_cert_chain reads files only; inline kubeconfig data goes through a private temp dir.
        with tempfile.TemporaryDirectory(prefix="ragops-tls-") as directory:
            cert = (
                os.fspath(info.certificate_path)
                if info.certificate_path
                else _pem_file(info.certificate_data or "", directory, "c")
            )
            key = (
                os.fspath(info.private_key_path)
                if info.private_key_path
                else _pem_file(info.private_key_data or "", directory, "k")
            )
            context.load_cert_chain(cert, key)
    return context


def _auth_headers(info: kopf.ConnectionInfo) -> dict[str, str]:
    if info.token:
        return {"Authorization": f"{info.scheme or 'Bearer'} {info.token}"}
    if info.username and info.password:
        encoded = base64.b64encode(f"{info.username}:{info.password}".encode()).decode()
        return {"Authorization": f"Basic {encoded}"}
    return {}


class Cluster:
    """Async operations on namespaced objects as dicts."""

    def __init__(self, login: Login, *, request_timeout: float = 30.0) -> None:
        self._login = login
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._session: aiohttp.ClientSession | None = None
        self._server = ""

    def _connect(self) -> aiohttp.ClientSession:
        info = self._login()
        self._server = info.server.rstrip("/")
        connector = aiohttp.TCPConnector(ssl=ssl_context(info), limit=64)
        return aiohttp.ClientSession(
            connector=connector, headers=_auth_headers(info), timeout=self._timeout
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _call(
        self,
        method: str,
        path: str,
        *,
        query: builtins.list[tuple[str, str]] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> Obj:
        for attempt in range(2):
            if self._session is None:
                self._session = self._connect()
            data = None if body is None else json.dumps(body)
            headers = {"Content-Type": content_type, "Accept": "application/json"}
            async with self._session.request(
                method, self._server + path, params=query or [], data=data, headers=headers
            ) as response:
                text = await response.text()
                if response.status == 401 and attempt == 0:
                    # Projected ServiceAccount tokens rotate: log in again (re-reads the token)
                    # once.
                    await self.close()
                    continue
                if response.status >= 400:
                    raise ApiError(response.status, response.reason or "", text)
                return dict(json.loads(text)) if text else {}
        raise AssertionError("unreachable: the second attempt returns or raises")

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

    async def list(
        self, kind: Kind, namespace: str, selector: dict[str, str]
    ) -> builtins.list[Obj]:
        label_selector = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        return await self._list(kind, kind.collection(namespace), label_selector)

    async def list_all(self, kind: Kind) -> builtins.list[Obj]:
        """Every object of `kind` in every namespace."""
        return await self._list(kind, kind.collection(""), "")

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
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    async def create(self, kind: Kind, obj: Obj) -> Obj:
        """A plain POST (the kopf peering object at start); ApiError 409 if it exists."""
        namespace = obj["metadata"].get("namespace", "")
        return await self._call("POST", kind.collection(namespace), body=obj)

    async def merge_patch(self, kind: Kind, namespace: str, name: str, patch: Obj) -> Obj:
        path = f"{kind.collection(namespace)}/{name}"
        return await self._call(
            "PATCH", path, body=patch, content_type="application/merge-patch+json"
        )

    async def json_patch(
        self, kind: Kind, namespace: str, name: str, operations: builtins.list[Obj]
    ) -> Obj:
        """RFC 6902 operations: the one patch that removes a given list item or field (foreign
        fields, control/foreign_fields.py); recorded as an Update by the operator's manager."""
        path = f"{kind.collection(namespace)}/{name}"
        return await self._call(
            "PATCH",
            path,
            query=[("fieldManager", REVERT_MANAGER)],
            body=operations,
            content_type="application/json-patch+json",
        )

    async def delete(self, obj: Obj, *, orphan: bool = False) -> None:
        """Delete `obj` (that very object: a uid precondition); `orphan` keeps its dependents."""
        meta = obj["metadata"]
        path = f"{kind_of(obj).collection(meta['namespace'])}/{meta['name']}"
        policy = "Orphan" if orphan else "Background"
        body = {"propagationPolicy": policy, "preconditions": {"uid": meta["uid"]}}
        try:
            await self._call("DELETE", path, body=body)
        except ApiError as error:
            if error.status not in (404, 409):  # gone already, or replaced since we listed it
                raise

    async def patch_status(self, namespace: str, name: str, status: Obj) -> None:
        path = f"{RAGD.collection(namespace)}/{name}/status"
        await self._call(
            "PATCH", path, body={"status": status}, content_type="application/merge-patch+json"
        )

    async def served(self, group_version: str) -> set[str]:
        """Kinds the API server serves in a group/version; empty when the group is not installed."""
        try:
            found = await self._call("GET", f"/apis/{group_version}")
        except ApiError as error:
            if error.status == 404:
                return set()
            raise
        return {
            resource["kind"]
            for resource in found.get("resources") or []
            if "/" not in resource["name"]
        }

    async def event(
        self, involved: Obj, *, type_: str, reason: str, message: str, now: str
    ) -> None:
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
