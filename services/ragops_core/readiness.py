"""Readiness checks shared by the API and the worker: do the stores they depend on answer?"""

from __future__ import annotations

from ragops_core.metrics import Metrics
from ragops_core.wiring import Adapters

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
