"""The gather step of a reconcile: every read one pass needs, done before deciding anything.

Reads, in order: whether the Prometheus Operator's kinds are served (cached a few seconds:
discovery is the same for every stack), everything in the namespace carrying the stack's
labels, Prometheus' signals for the colors the saved rollout state watches, the pods of a
backup (or verification) Job that status.lastBackup (lastBackupVerification) does not report
yet, and the key names of each Secret the pods reference (control/secrets.py). What to read
beyond the listing is decided by pure rules (planning/observed.py, planning/last_backup.py,
planning/secrets.py), the same ones `decide` then applies to what was read.
"""

from __future__ import annotations

import asyncio
import time

from ragops_operator.api import v1alpha1 as api
from ragops_operator.builders.backup import COMPONENT_VERIFY
from ragops_operator.builders.labels import Owner, instance_selector
from ragops_operator.builders.monitoring import Jobs
from ragops_operator.control.kube import (
    JOBS,
    MANAGED_KINDS,
    PODS,
    PROMETHEUS_OPERATOR_GROUP,
    ClusterApi,
    Kind,
)
from ragops_operator.control.prometheus import SignalSource
from ragops_operator.control.secrets import read_keys
from ragops_operator.objects import Obj, key_of
from ragops_operator.planning import last_backup, secrets
from ragops_operator.planning.observed import (
    Observed,
    colors_to_read,
    owned_by,
    quality_jobs_to_read,
)
from ragops_operator.planning.rollout import Color, Signals


class Gatherer:
    def __init__(
        self, cluster: ClusterApi, signals: SignalSource, *, discovery_ttl_seconds: float = 10.0
    ) -> None:
        self._cluster = cluster
        self._signals = signals
        self._discovery_ttl = discovery_ttl_seconds
        self._discovered: tuple[float, bool] | None = None
        self._epoch = 0  # counts forget_discovery calls

    async def gather(self, resource: api.RAGDeployment, body: Obj) -> Observed:
        """`body` is the RAGDeployment `resource` was parsed from (its status is the saved one)."""
        owner, spec = Owner.of(resource), resource.spec
        previous: Obj = dict(body.get("status") or {})
        # The Prometheus query does not depend on the listing: one waits for the slower of the two.
        signals = asyncio.ensure_future(
            self._read_signals(spec, owner, colors_to_read(spec, previous))
        )
        try:
            prometheus_operator = await self.prometheus_operator()
            kinds = [
                k
                for k in MANAGED_KINDS
                if prometheus_operator or k.api_version != PROMETHEUS_OPERATOR_GROUP
            ]
            listed = await self._list(kinds, owner)
            jobs = tuple(obj for obj in listed if obj["kind"] == JOBS.kind)
            backup_pods = await self._backup_pods(spec, owner, previous, jobs)
            verify_pods = await self._verify_pods(spec, owner, previous, jobs)
            quality_pods = [
                pod
                for job in quality_jobs_to_read(spec, previous, jobs)
                for pod in await self._pods_of(job, owner)
            ]
            secret_keys = await read_keys(
                self._cluster, owner.namespace, secrets.wanted(spec, owner)
            )
        except BaseException:
            signals.cancel()
            raise
        return Observed(
            body=body,
            children={key_of(obj): obj for obj in listed if owned_by(obj, owner.uid)},
            jobs=jobs,
            signals=await signals,
            prometheus_operator=prometheus_operator,
            backup_pods=backup_pods,
            verify_pods=verify_pods,
            quality_pods=tuple(quality_pods),
            secrets=secret_keys,
        )

    async def close(self) -> None:
        await self._signals.close()

    async def prometheus_operator(self) -> bool:
        """Whether ServiceMonitor and PrometheusRule are served; rechecked at most every TTL."""
        cached = self._discovered
        if cached is not None and time.monotonic() - cached[0] < self._discovery_ttl:
            return cached[1]
        epoch = self._epoch
        served = await self._cluster.served(PROMETHEUS_OPERATOR_GROUP)
        available = {"ServiceMonitor", "PrometheusRule"} <= served
        if epoch == self._epoch:  # an answer asked before a CRD changed must not be cached
            self._discovered = (time.monotonic(), available)
        return available

    def forget_discovery(self) -> None:
        """The Prometheus Operator's CRDs changed: the next pass asks discovery again."""
        self._discovered = None
        self._epoch += 1

    async def _list(self, kinds: list[Kind], owner: Owner) -> list[Obj]:
        """Everything in the namespace that carries the stack's labels (owned by it or not)."""
        selector = instance_selector(owner)
        listings = await asyncio.gather(
            *(self._cluster.list(k, owner.namespace, selector) for k in kinds)
        )
        return [obj for items in listings for obj in items]

    async def _read_signals(
        self, spec: api.RAGDeploymentSpec, owner: Owner, colors: tuple[Color, ...]
    ) -> dict[Color, Signals]:
        url = spec.monitoring.prometheus_url
        if url is None or not colors:
            return {}
        return await self._signals.read(
            url, Jobs.of(owner), colors, spec.api.rollout.analysis_window_seconds
        )

    async def _backup_pods(
        self, spec: api.RAGDeploymentSpec, owner: Owner, previous: Obj, jobs: tuple[Obj, ...]
    ) -> tuple[Obj, ...]:
        if not spec.backup.enabled:
            return ()
        job = last_backup.unreported(list(jobs), previous.get("lastBackup"))
        return await self._pods_of(job, owner)

    async def _verify_pods(
        self, spec: api.RAGDeploymentSpec, owner: Owner, previous: Obj, jobs: tuple[Obj, ...]
    ) -> tuple[Obj, ...]:
        if not (spec.backup.enabled and spec.backup.verify.enabled):
            return ()
        job = last_backup.unreported(
            list(jobs),
            previous.get("lastBackupVerification"),
            component=COMPONENT_VERIFY,
        )
        return await self._pods_of(job, owner)

    async def _pods_of(self, job: Obj | None, owner: Owner) -> tuple[Obj, ...]:
        if job is None:
            return ()
        selector = {last_backup.JOB_NAME_LABEL: job["metadata"]["name"]}
        return tuple(await self._cluster.list(PODS, owner.namespace, selector))
