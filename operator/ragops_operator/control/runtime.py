"""Per-process operator state: the Kubernetes client, the reconciler, one lock per
RAGDeployment and a coalescing queue of pokes from child events.

A burst of child events (a Deployment's status changes several times while its pods start)
collapses into one reconcile per RAGDeployment, and no two reconciles of the same resource
ever run at once, whichever handler triggered them.
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
from collections import defaultdict
from collections.abc import Coroutine
from typing import Any

import aiohttp
import kopf

from ragops_operator.control import metrics, quality_metrics
from ragops_operator.control.kube import (
    PROMETHEUS_OPERATOR_GROUP,
    RAGD,
    ApiError,
    Cluster,
    ClusterApi,
    Login,
    RetryLater,
    is_retryable,
)
from ragops_operator.control.peering import PeeringGate
from ragops_operator.control.reconciler import Reconciler
from ragops_operator.objects import Obj

_log = logging.getLogger("ragops.operator")
Key = tuple[str, str]  # (namespace, name)
# The API server unreachable or slow: the same reconcile will work later.
RETRYABLE: tuple[type[BaseException], ...] = (RetryLater, aiohttp.ClientError, TimeoutError)
# ApiError: its transient statuses (is_retryable) are retried too, the others logged.
_RETRIED_IN_POKES: tuple[type[BaseException], ...] = (*RETRYABLE, ApiError)


def login(settings: kopf.OperatorSettings) -> Login:
    """In a pod: its ServiceAccount (the token file is re-read on every login); elsewhere:
    KUBECONFIG."""

    def resolve() -> kopf.ConnectionInfo:
        info = kopf.login_with_service_account(settings=settings) or kopf.login_with_kubeconfig(
            settings=settings
        )
        if info is None:
            raise kopf.LoginError("no ServiceAccount token and no KUBECONFIG (or ~/.kube/config)")
        return info

    return resolve


class Runtime:
    def __init__(
        self,
        cluster: ClusterApi,
        *,
        gate: PeeringGate | None = None,
        reconciler: Reconciler | None = None,
        coalesce_seconds: float = 0.1,
        resync_seconds: float = 300.0,
    ) -> None:
        self.cluster = cluster
        self.gate = gate if gate is not None else PeeringGate.standalone()
        self.reconciler = reconciler if reconciler is not None else Reconciler(self.cluster)
        self._locks: defaultdict[Key, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._poked: set[Key] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._coalesce = coalesce_seconds
        self._resync = resync_seconds

    @classmethod
    def start(
        cls,
        settings: kopf.OperatorSettings,
        *,
        identity: str,
        coalesce_seconds: float = 0.1,
        resync_seconds: float = 300.0,
    ) -> Runtime:
        cluster = Cluster(login(settings))
        peering = settings.peering
        gate = (
            PeeringGate.standalone()
            if peering.standalone
            else PeeringGate(
                cluster,
                name=peering.name,
                identity=identity,
                priority=peering.priority,
                namespaced=not peering.clusterwide,
            )
        )
        return cls(
            cluster, gate=gate, coalesce_seconds=coalesce_seconds, resync_seconds=resync_seconds
        )

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.reconciler.close()
        await self.cluster.close()

    async def converge(self, body: Obj) -> bool:
        """Reconcile one RAGDeployment now; False when it is not Ready (or not ours to do)."""
        meta = body["metadata"]
        # Resyncs, requeues and coalesced pokes run outside kopf's handlers, where kopf's pause
        # of a standby replica does not reach (a paused standby was seen repairing drift next
        # to the leader). Every reconcile therefore asks the peering rule itself.
        if not await self.gate.active(meta["namespace"]):
            _log.debug(
                "Not reconciling %s/%s: another replica is working", meta["namespace"], meta["name"]
            )
            metrics.forget(meta["namespace"], meta["name"])
            quality_metrics.forget(meta["namespace"], meta["name"])
            return False
        async with self._locks[(meta["namespace"], meta["name"])]:
            # The event's copy may predate our own last status write (rollout state lives there):
            # always decide on the current object.
            fresh = await self.cluster.get(RAGD, meta["namespace"], meta["name"])
            if fresh is None or fresh["metadata"].get("deletionTimestamp"):
                metrics.forget(meta["namespace"], meta["name"])
                quality_metrics.forget(meta["namespace"], meta["name"])
                return False
            outcome = await self.reconciler.reconcile(fresh)
        if outcome.requeue_after is not None:
            # A rollout deadline (observation over, retire time) passes without any event.
            delay = min(max(outcome.requeue_after, 1.0), self._resync)
            asyncio.get_running_loop().call_later(delay, self.poke, meta["namespace"], meta["name"])
        return outcome.ready

    def poke(self, namespace: str, name: str) -> None:
        """Ask for a reconcile soon; pokes arriving before it starts are merged into it."""
        key = (namespace, name)
        if key in self._poked:
            return
        self._poked.add(key)
        self._spawn(self._after_poke(key))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _after_poke(self, key: Key) -> None:
        await asyncio.sleep(self._coalesce)
        self._poked.discard(key)
        for attempt in range(5):
            try:
                await self.converge({"metadata": {"namespace": key[0], "name": key[1]}})
                return
            except _RETRIED_IN_POKES as error:
                # A read answered 409/429/5xx is transient too: a just-established CRD's objects
                # are answered 429 for a moment, and giving up then left the stack unmonitored.
                if isinstance(error, ApiError) and not is_retryable(error):
                    _log.error("Reconciling %s/%s failed: %s", *key, error.message)
                    return
                _log.info("Retrying %s/%s after a transient error: %s", *key, error)
                await asyncio.sleep(min(0.5 * 2**attempt, 10))
            except Exception:
                # A task's exception is otherwise lost without a word; the resync tries again.
                _log.exception("Reconciling %s/%s failed", *key)
                return
        self.poke(*key)

    async def monitoring_kind_changed(
        self, namespaces: list[str], kind: str, *, served: bool, timeout_seconds: float = 30.0
    ) -> None:
        """A Prometheus Operator CRD was established (`served`) or deleted: once discovery says
        so too (it trails the CRD by a moment), reconcile every stack, so ServiceMonitors and
        PrometheusRules appear (or MonitoringAvailable turns False) now, not at the resync."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_seconds
        while (kind in await self.cluster.served(PROMETHEUS_OPERATOR_GROUP)) != served:
            if loop.time() >= deadline:
                _log.warning("Discovery still does not show %s as served=%s", kind, served)
                break
            await asyncio.sleep(0.2)
        self.reconciler.forget_discovery()
        stacks = await self._all(namespaces)
        _log.info(
            "%s is %s: reconciling %d RAGDeployments",
            kind,
            "served" if served else "gone",
            len(stacks),
        )
        for body in stacks:
            self.poke(body["metadata"]["namespace"], body["metadata"]["name"])

    def start_resync(self, namespaces: list[str]) -> None:
        """Reconcile everything periodically: the safety net behind the watches."""
        self._spawn(self._resync_loop(namespaces))

    async def _resync_loop(self, namespaces: list[str]) -> None:
        while True:
            await asyncio.sleep(self._resync)
            try:
                for body in await self._all(namespaces):
                    self.poke(body["metadata"]["namespace"], body["metadata"]["name"])
            except Exception:  # noqa: BLE001 - the loop must outlive one failed listing
                _log.exception("Could not list RAGDeployments for the periodic resync")

    async def _all(self, namespaces: list[str]) -> list[Obj]:
        every = await self.cluster.list_all(RAGD)
        if not namespaces:
            return every
        return [
            body
            for body in every
            if any(matches_namespace(body["metadata"]["namespace"], p) for p in namespaces)
        ]


def matches_namespace(name: str, pattern: str) -> bool:
    """kopf's namespace pattern: comma-separated globs, `!glob` excludes (a leading one implies
    `*`)."""
    globs = [glob.strip() for glob in pattern.split(",") if glob.strip()]
    if not globs or globs[0].startswith("!"):
        globs.insert(0, "*")
    matched = fnmatch.fnmatch(name, globs[0])
    for glob in globs[1:]:
        if glob.startswith("!"):
            matched = matched and not fnmatch.fnmatch(name, glob[1:])
        else:
            matched = matched or fnmatch.fnmatch(name, glob)
    return matched
