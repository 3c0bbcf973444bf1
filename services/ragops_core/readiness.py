"""Readiness checks shared by the API and the worker: do the stores they depend on answer?"""

from __future__ import annotations

import asyncio
import logging

from ragops_core.metrics import Metrics
from ragops_core.ports import JobStore, Queue, VectorStore

log = logging.getLogger(__name__)

# A scrape must not hang on a slow store: the gauge keeps its last value instead.
INDEX_COUNT_TIMEOUT_SECONDS = 2.0

# A job id no upload ever gets: looking it up proves the catalog answers, and finds nothing.
_PROBE_JOB_ID = "readiness-probe"


class Readiness:
    """The probes' and scrapes' view of the stores; `tenant` is the one the catalog probe asks
    as."""

    def __init__(
        self, *, store: VectorStore, queue: Queue, jobs: JobStore, metrics: Metrics, tenant: str
    ) -> None:
        self._store = store
        self._queue = queue
        self._jobs = jobs
        self._metrics = metrics
        self._tenant = tenant

    async def check_stores(self) -> dict[str, str]:
        """Each store's state, "ok" or "failed: <why>": the vector store, the queue (its depth
        updates the gauge) and the catalog."""
        checks: dict[str, str] = {}
        try:
            await self._store.count()
            checks["vector_store"] = "ok"
        except Exception as exc:  # noqa: BLE001 - readiness reports, it does not raise
            checks["vector_store"] = f"failed: {exc}"
        try:
            self._metrics.queue_depth.set(await self._queue.depth())
            checks["queue"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["queue"] = f"failed: {exc}"
        try:
            await self._jobs.get(self._tenant, _PROBE_JOB_ID)
            checks["catalog"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["catalog"] = f"failed: {exc}"
        return checks

    async def metrics_page(self) -> bytes:
        """The Prometheus exposition, with the points in the vector store (`ragops_index_points`)
        read now."""
        await self.refresh_index_metrics()
        return self._metrics.render()

    async def refresh_index_metrics(self) -> None:
        try:
            count = await asyncio.wait_for(self._store.count(), INDEX_COUNT_TIMEOUT_SECONDS)
            self._metrics.index_points.set(count)
        except Exception as exc:  # noqa: BLE001 - a scrape reports what it can; readiness reports the store
            log.debug(
                "Could not count the vector store's points",
                extra={"error": f"{type(exc).__name__}: {exc}"},
            )
