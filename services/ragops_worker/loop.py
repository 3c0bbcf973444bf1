"""The queue consumer: receive, process, acknowledge; retry what may pass next time.

Delivery is at least once. A message is acknowledged only after its document is
indexed or its job is marked failed, so a crash mid-document loses nothing: the
message reappears after its visibility timeout. A document that cannot be read
fails at once with the reason; any other error is retried with backoff until
`max_attempts`, then the job fails with the last error.

Poison messages (unreadable bodies, documents whose attempts keep failing or keep
crashing the worker) get their job marked failed with the reason, then: on a queue
with a dead-letter queue (SQS with a RedrivePolicy) they are left unacknowledged and
made visible again shortly, so the queue moves them to the DLQ after its
`maxReceiveCount` receives; on a queue without one (the embedded SQLite queue) they are
dropped. Cancelled mid-document (shutdown past its grace period), the worker releases
the message so another worker takes it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

from ragops_core import request_context
from ragops_core.documents import REQUEST_ID_KEY
from ragops_core.domain import MALFORMED, IngestMessage, JobState
from ragops_core.errors import (
    DocumentTooLargeError,
    ExtractionError,
    NotFoundError,
    UnsupportedDocumentError,
)
from ragops_core.metrics import Metrics
from ragops_core.ports import JobStore, Queue, QueueMessage, VectorStore
from ragops_core.request_context import RequestContext
from ragops_core.traced import TRACE_KEYS
from ragops_core.tracing import context_attributes
from ragops_worker.pipeline import IngestionPipeline, Progress

log = logging.getLogger(__name__)

PERMANENT = (ExtractionError, UnsupportedDocumentError, DocumentTooLargeError, NotFoundError)
_MAX_BACKOFF_SECONDS = 60


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
        tracer: Tracer | None = None,
    ) -> None:
        self._queue = queue
        self._pipeline = pipeline
        self._jobs = jobs
        self._store = store
        self._metrics = metrics
        self._visibility = visibility_seconds
        self._max_attempts = max_attempts
        self._retry_base = retry_base_seconds
        self._tracer = tracer
        self.idle = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set; the current document is finished first."""
        dirty = False
        while not stop.is_set():
            receiving = time.time_ns()
            message = await self._queue.receive(
                wait_seconds=1.0, visibility_seconds=self._visibility
            )
            self._metrics.queue_depth.set(await self._queue.depth())
            if message is None:
                if dirty:
                    # Index building is batched for when the queue runs dry.
                    await self._store.optimize()
                    dirty = False
                self.idle.set()
                continue
            self.idle.clear()
            await self.handle(message, received=(receiving, time.time_ns()))
            dirty = True

    async def handle(
        self,
        message: QueueMessage,
        *,
        on_progress: Progress | None = None,
        received: tuple[int, int] | None = None,
    ) -> None:
        """Process one message; its log lines carry its job, document, tenant and the uploading
        request's id, and with tracing on it is one `ingest.document` span continuing the upload's
        trace (`received`: when the receive that brought it started and ended, in ns)."""
        body = message.body
        context = RequestContext(
            request_id=_text(body.get(REQUEST_ID_KEY)),
            tenant=_text(body.get("tenant")),
            job_id=_text(body.get("job_id")),
            document_id=_text(body.get("document_id")),
        )
        with request_context.bound(context), self._document_span(message, received):
            await self._handle(message, on_progress=on_progress)

    @contextlib.contextmanager
    def _document_span(
        self, message: QueueMessage, received: tuple[int, int] | None
    ) -> Iterator[None]:
        if self._tracer is None:
            yield
            return
        carrier = {
            key: value for key in TRACE_KEYS if isinstance(value := message.body.get(key), str)
        }
        attributes: dict[str, str | int] = {
            **context_attributes(),
            "ragops.file": _text(message.body.get("filename")),
            "messaging.message.delivery_count": message.receive_count,
        }
        with self._tracer.start_as_current_span(
            "ingest.document",
            context=propagate.extract(carrier),
            kind=SpanKind.CONSUMER,
            attributes=attributes,
            start_time=received[0] if received else None,
        ):
            if received is not None:
                # Known only once a poll brought a message: recorded afterwards, with its real
                # times.
                queue_attributes = getattr(self._queue, "attributes", {})
                self._tracer.start_span(
                    "queue.receive",
                    kind=SpanKind.CONSUMER,
                    start_time=received[0],
                    attributes={
                        **queue_attributes,
                        "messaging.operation.name": "receive",
                        "messaging.operation.type": "receive",
                    },
                ).end(end_time=received[1])
            yield

    async def _handle(self, message: QueueMessage, *, on_progress: Progress | None) -> None:
        try:
            ingest = IngestMessage.from_json(message.body)
        except (KeyError, TypeError, ValueError) as exc:
            why = message.body.get(MALFORMED) or f"{type(exc).__name__}: {exc}"
            job_id = message.body.get("job_id")
            await self._give_up(
                message,
                job_id=job_id if isinstance(job_id, str) else None,
                error=f"malformed queue message: {why}",
                reason="malformed",
                body=str(message.body)[:500],
            )
            return
        attempts = await self._attempts()
        if message.receive_count > attempts:
            await self._abandon(ingest, message)
            return
        heartbeat = asyncio.create_task(self._keep_invisible(message))
        try:
            await self._pipeline.process(ingest, on_progress=on_progress)
        except PERMANENT as exc:
            await self._fail(ingest, message, str(exc), reason=type(exc).__name__)
        except asyncio.CancelledError:
            await self._release(ingest, message)
            raise
        except Exception as exc:  # noqa: BLE001 - any other failure is retried, then recorded
            await self._retry_or_fail(ingest, message, exc, attempts)
        else:
            _outcome("ready")
            await self._queue.ack(message)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _attempts(self) -> int:
        # A queue that dead-letters sooner than max_attempts would take the message away
        # before its job is marked failed: fail it on the last receive the queue allows.
        dead_letter_after = await self._queue.dead_letter_after()
        return min(self._max_attempts, dead_letter_after or self._max_attempts)

    async def _keep_invisible(self, message: QueueMessage) -> None:
        # A 100-page PDF can outlast the visibility timeout; keep it ours while we work.
        while True:
            await asyncio.sleep(self._visibility / 3)
            await self._queue.extend(message, visibility_seconds=self._visibility)

    async def _fail(
        self, ingest: IngestMessage, message: QueueMessage, error: str, *, reason: str
    ) -> None:
        """A document we understood but cannot index: the reason is on its job, the message is
        done."""
        log.warning(
            "Failed to ingest document",
            extra={"document_id": ingest.document_id, "file": ingest.filename, "error": error},
        )
        _outcome("failed", error)
        await self._jobs.update(ingest.job_id, state=JobState.FAILED, error=error)
        await self._pipeline.discard(ingest)
        self._metrics.ingest_failures.labels(reason).inc()
        self._metrics.ingest_documents.labels("failed").inc()
        await self._queue.ack(message)

    async def _retry_or_fail(
        self, ingest: IngestMessage, message: QueueMessage, exc: Exception, attempts: int
    ) -> None:
        error = f"{type(exc).__name__}: {exc}"
        if message.receive_count >= attempts:
            self._metrics.ingest_documents.labels("failed").inc()
            await self._give_up(
                message,
                job_id=ingest.job_id,
                reason="retries_exhausted",
                error=f"gave up after {message.receive_count} attempts: {error}",
            )
            await self._pipeline.discard(ingest)
            return
        log.exception(
            "Ingestion attempt failed; will retry", extra={"document_id": ingest.document_id}
        )
        _outcome("retry", error)
        self._metrics.ingest_failures.labels("transient").inc()
        await self._jobs.update(ingest.job_id, state=JobState.QUEUED, error=f"retrying: {error}")
        await self._queue.extend(message, visibility_seconds=self._backoff(message))

    async def _abandon(self, ingest: IngestMessage, message: QueueMessage) -> None:
        """Received more often than attempts allow: the earlier attempts never concluded."""
        job = await self._jobs.get(ingest.tenant, ingest.job_id)
        if job is not None and job.state is JobState.FAILED:
            # Failed, with its reason, on an earlier receive: only the dead-lettering is left.
            await self._drop_or_dead_letter(message)
            return
        self._metrics.ingest_documents.labels("failed").inc()
        await self._give_up(
            message,
            job_id=ingest.job_id,
            reason="retries_exhausted",
            error=f"gave up after {message.receive_count - 1} attempts that never finished "
            "(the worker stopped or crashed while processing this document)",
        )
        await self._pipeline.discard(ingest)

    async def _give_up(
        self, message: QueueMessage, *, job_id: str | None, error: str, reason: str, body: str = ""
    ) -> None:
        log.error(
            "Gave up on a queue message",
            extra={
                "job_id": job_id,
                "error": error,
                "body": body,
                "receive_count": message.receive_count,
            },
        )
        _outcome("gave_up", error)
        self._metrics.ingest_failures.labels(reason).inc()
        if job_id:
            await self._jobs.update(job_id, state=JobState.FAILED, error=error)
        await self._drop_or_dead_letter(message)

    async def _drop_or_dead_letter(self, message: QueueMessage) -> None:
        if await self._queue.dead_letter_after() is None:
            await self._queue.ack(message)
            return
        # Left unacknowledged, the queue's redrive policy moves it to the DLQ after its
        # receives; a short delay gets it there without waiting out the visibility timeout.
        await self._queue.extend(message, visibility_seconds=self._backoff(message))

    async def _release(self, ingest: IngestMessage, message: QueueMessage) -> None:
        log.warning(
            "Stopped mid-document; released it to the queue",
            extra={"document_id": ingest.document_id},
        )
        _outcome("released")
        await self._queue.release(message)
        await self._jobs.update(ingest.job_id, state=JobState.QUEUED)

    def _backoff(self, message: QueueMessage) -> int:
        return max(
            1, min(_MAX_BACKOFF_SECONDS, int(self._retry_base * 2 ** (message.receive_count - 1)))
        )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _outcome(result: str, error: str | None = None) -> None:
    """How the document's attempt ended, on its span (no-op without tracing)."""
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attribute("ragops.ingest.result", result)
        if error is not None:
            span.set_status(Status(StatusCode.ERROR, error))
