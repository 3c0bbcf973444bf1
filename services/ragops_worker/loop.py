"""The queue consumer: receive, process, acknowledge; retry what may pass next time.

Delivery is at least once. A message is acknowledged only after its document is
indexed or its job is marked failed, so a crash mid-document loses nothing: the
message reappears after its visibility timeout. A document that cannot be read
fails at once with the reason; any other error is retried with backoff until
`max_attempts`, then the job fails with the last error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from ragops_core.domain import IngestMessage, JobState
from ragops_core.errors import ExtractionError, NotFoundError, UnsupportedDocumentError
from ragops_core.metrics import Metrics
from ragops_core.ports import JobStore, Queue, QueueMessage, VectorStore
from ragops_worker.pipeline import IngestionPipeline, Progress

log = logging.getLogger(__name__)

PERMANENT = (ExtractionError, UnsupportedDocumentError, NotFoundError)


class IngestionWorker:
    def __init__(
        self,
        *,
        queue: Queue,
        pipeline: IngestionPipeline,
        jobs: JobStore,
        store: VectorStore,
        metrics: Metrics,
        visibility_seconds: int = 300,
        max_attempts: int = 3,
        retry_base_seconds: float = 2.0,
    ) -> None:
        self._queue = queue
        self._pipeline = pipeline
        self._jobs = jobs
        self._store = store
        self._metrics = metrics
        self._visibility = visibility_seconds
        self._max_attempts = max_attempts
        self._retry_base = retry_base_seconds
        self.idle = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set; the current document is finished first."""
        dirty = False
        while not stop.is_set():
            message = await self._queue.receive(wait_seconds=1.0, visibility_seconds=self._visibility)
            self._metrics.queue_depth.set(await self._queue.depth())
            if message is None:
                if dirty:
                    # Index building is batched for when the queue runs dry.
                    await self._store.optimize()
                    dirty = False
                self.idle.set()
                continue
            self.idle.clear()
            await self.handle(message)
            dirty = True

    async def handle(self, message: QueueMessage, *, on_progress: Progress | None = None) -> None:
        try:
            ingest = IngestMessage.from_json(message.body)
        except (KeyError, TypeError, ValueError) as exc:
            log.error("Dropped malformed queue message", extra={"error": repr(exc), "body": str(message.body)[:500]})
            await self._queue.ack(message)
            return
        heartbeat = asyncio.create_task(self._keep_invisible(message))
        try:
            await self._pipeline.process(ingest, on_progress=on_progress)
        except PERMANENT as exc:
            await self._fail(ingest, message, str(exc), reason=type(exc).__name__)
        except Exception as exc:  # noqa: BLE001 - any other failure is retried, then recorded
            await self._retry_or_fail(ingest, message, exc)
        else:
            await self._queue.ack(message)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _keep_invisible(self, message: QueueMessage) -> None:
        # A 100-page PDF can outlast the visibility timeout; keep it ours while we work.
        while True:
            await asyncio.sleep(self._visibility / 3)
            await self._queue.extend(message, visibility_seconds=self._visibility)

    async def _fail(self, ingest: IngestMessage, message: QueueMessage, error: str, *, reason: str) -> None:
        log.warning("Failed to ingest document", extra={"document_id": ingest.document_id, "file": ingest.filename,
                                                        "error": error})
        await self._jobs.update(ingest.job_id, state=JobState.FAILED, error=error)
        self._metrics.ingest_failures.labels(reason).inc()
        self._metrics.ingest_documents.labels("failed").inc()
        await self._queue.ack(message)

    async def _retry_or_fail(self, ingest: IngestMessage, message: QueueMessage, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"
        if message.receive_count >= self._max_attempts:
            await self._fail(ingest, message, f"gave up after {message.receive_count} attempts: {error}",
                             reason="retries_exhausted")
            return
        log.exception("Ingestion attempt failed; will retry", extra={"document_id": ingest.document_id})
        self._metrics.ingest_failures.labels("transient").inc()
        await self._jobs.update(ingest.job_id, state=JobState.QUEUED, error=f"retrying: {error}")
        delay = int(self._retry_base * 2 ** (message.receive_count - 1))
        await self._queue.extend(message, visibility_seconds=max(delay, 1))
