"""Readiness checks shared by the API and the worker: do the stores they depend on answer?"""

from __future__ import annotations

import asyncio
import logging

from ragops_core.metrics import Metrics
from ragops_core.wiring import Adapters

log = logging.getLogger(__name__)

# A scrape must not hang on a slow store: the gauge keeps its last value instead.
INDEX_COUNT_TIMEOUT_SECONDS = 2.0

# A job id no upload ever gets: looking it up proves the catalog answers, and finds nothing.
_PROBE_JOB_ID = "readiness-probe"


async def check_stores(adapters: Adapters, metrics: Metrics, *, tenant: str) -> dict[str, str]:
    """"ok" or "failed: <why>" for the vector store, the queue (its depth updates the gauge) and the catalog."""
    checks: dict[str, str] = {}
    try:
        await adapters.store.count()
        checks["vector_store"] = "ok"
    except Exception as exc:  # noqa: BLE001 - readiness reports, it does not raise
        checks["vector_store"] = f"failed: {exc}"
    try:
        metrics.queue_depth.set(await adapters.queue.depth())
        checks["queue"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["queue"] = f"failed: {exc}"
    try:
        await adapters.jobs.get(tenant, _PROBE_JOB_ID)
        checks["catalog"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["catalog"] = f"failed: {exc}"
    return checks


async def refresh_index_metrics(adapters: Adapters, metrics: Metrics) -> None:
    """Points in the vector store (`ragops_index_points`), read when /metrics is scraped."""
    try:
        metrics.index_points.set(await asyncio.wait_for(adapters.store.count(), INDEX_COUNT_TIMEOUT_SECONDS))
    except Exception as exc:  # noqa: BLE001 - a scrape reports what it can; readiness reports the store
        log.debug("Could not count the vector store's points", extra={"error": f"{type(exc).__name__}: {exc}"})
