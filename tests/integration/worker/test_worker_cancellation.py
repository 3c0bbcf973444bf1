"""A worker told to stop mid-document releases it, even when a dependency loses the cancel.

On Python 3.11, `asyncio.wait_for` (used by redis-py for every socket write) drops a
`Task.cancel()` that lands in the loop iteration where its inner call finishes. The job
store below loses one exactly that way; the worker must still stop within a page and put
the document back on the queue, not index the remaining pages and mark it ready.
Embedded adapters throughout (SQLite queue and catalog, Qdrant Edge, offline MiniLM).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from ragops_core.adapters.embedder.onnx import OnnxMiniLMEmbedder
from ragops_core.domain import JobState
from ragops_core.metrics import Metrics
from ragops_core.ports import JobStore
from ragops_core.settings import Settings
from ragops_wiring.adapters import build_adapters
from ragops_wiring.services import build_document_service
from ragops_worker.service import build_worker

LONG_PDF = "format-corpus/govdocs1-error-pdfs/error_set_1/195981.pdf"  # 101 pages
TENANT = "default"
CANCEL_AT_PAGE = 5


class CancelLosingJobs:
    """Delegates to the real job store; at one progress update it loses a cancellation
    the way 3.11's `wait_for` does: the cancel is requested, then caught at the next await."""

    def __init__(self, inner: JobStore) -> None:
        self._inner = inner
        self.lost_cancel = False

    async def update(self, job_id: str, **changes: Any) -> None:
        await self._inner.update(job_id, **changes)
        progress = changes.get("progress") or {}
        if not self.lost_cancel and progress.get("pages_done") == CANCEL_AT_PAGE:
            self.lost_cancel = True
            task = asyncio.current_task()
            assert task is not None
            task.cancel()
            # Lost, exactly like wait_for returning the inner result.
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


async def test_a_cancel_lost_by_a_dependency_still_releases_the_document(
    embedder: OnnxMiniLMEmbedder, pdf_dir: Path, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    metrics = Metrics()
    real = build_adapters(settings, metrics=metrics, embedder=embedder)
    jobs = CancelLosingJobs(real.jobs)
    adapters = dataclasses.replace(real, jobs=jobs)
    try:
        submitted = await build_document_service(settings, adapters).submit(
            TENANT, "long.pdf", (pdf_dir / LONG_PDF).read_bytes()
        )
        worker = build_worker(settings, adapters, metrics)
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(worker.run(asyncio.Event()), timeout=60)

        assert jobs.lost_cancel, "the job store never reached the page where it loses the cancel"
        job = await real.jobs.get(TENANT, submitted.job_id)
        assert job is not None and job.state == JobState.QUEUED, job
        assert job.progress["pages_done"] <= CANCEL_AT_PAGE + 1, "stopped at the next page"
        assert await real.documents.list(TENANT) == []
        again = await real.queue.receive(wait_seconds=0, visibility_seconds=30)
        assert again is not None and again.body["job_id"] == submitted.job_id, (
            "released to the queue"
        )
    finally:
        await real.close()
