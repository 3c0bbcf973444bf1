"""One document from stored bytes to searchable chunks: extract, chunk, embed, index."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import anyio
from opentelemetry.trace import Status, StatusCode, Tracer

from ragops_core import cache_keys, cancellation
from ragops_core.chunking import Chunker
from ragops_core.documents import discard_failed_upload, object_key
from ragops_core.domain import Chunk, DocumentRecord, IngestMessage, JobState, Page, StoredChunk
from ragops_core.metrics import Metrics
from ragops_core.ports import Cache, DocumentStore, Embedder, JobStore, ObjectStore, VectorStore
from ragops_core.tracing import child_span, context_attributes, in_trace
from ragops_worker.budgets import DocumentBudget
from ragops_worker.extraction import no_text_error, open_pages

log = logging.getLogger(__name__)

Progress = Callable[[dict[str, int]], None]


@dataclass(frozen=True)
class PipelineOptions:
    chunk_words: int = 500
    overlap_words: int = 50
    batch_size: int = 16
    max_pages: int | None = None
    max_document_words: int = 10_000_000
    max_document_seconds: float = 3600.0


@dataclass(frozen=True)
class Part:
    """A page (or a part of a text file's one page) read and chunked in the reading thread.

    `page` is None for a page that could not be read."""

    page: Page | None
    chunks: list[Chunk]


class IngestionPipeline:
    def __init__(
        self,
        *,
        objects: ObjectStore,
        embedder: Embedder,
        store: VectorStore,
        jobs: JobStore,
        documents: DocumentStore,
        cache: Cache,
        metrics: Metrics,
        options: PipelineOptions,
        tracer: Tracer | None = None,
    ) -> None:
        self._objects = objects
        self._embedder = embedder
        self._store = store
        self._jobs = jobs
        self._documents = documents
        self._cache = cache
        self._metrics = metrics
        self._options = options
        self._tracer = tracer

    async def process(
        self, message: IngestMessage, *, on_progress: Progress | None = None
    ) -> DocumentRecord:
        """Index the document; raises on failure (the caller decides retry or fail).

        Extraction and chunking run in a thread and hand chunks over page by page, so the
        first chunks are being embedded while later pages are still parsed, and the event loop
        (which serves the API too in `ragops serve`) never waits on parsing.
        """
        started = time.perf_counter()
        budget = DocumentBudget(
            message.filename, self._options.max_document_words, self._options.max_document_seconds
        )
        progress: dict[str, int] = {
            "pages_done": 0,
            "pages_total": 0,
            "chunks_done": 0,
            "chunks_total": 0,
        }
        await self._jobs.update(message.job_id, state=JobState.PROCESSING, progress=progress)
        data = await self._objects.get(message.object_key)
        extracting = time.time_ns()
        stream = await anyio.to_thread.run_sync(
            functools.partial(open_pages, message.filename, data, max_pages=self._options.max_pages)
        )
        progress["pages_total"] = stream.total_pages
        if stream.total_chars:
            # A text file is one page: its progress is counted in characters read.
            progress["chars_done"] = 0
            progress["chars_total"] = stream.total_chars
        chunker = Chunker(
            chunk_words=self._options.chunk_words, overlap_words=self._options.overlap_words
        )
        parts = self._parts(stream.pages, chunker, budget)
        pending: list[Chunk] = []
        unreadable = 0
        readable = 0
        # aclosing: an early exit (failure, cancellation) stops the reading thread now, not at GC.
        async with contextlib.aclosing(
            self._extracted(_from_thread(parts), since=extracting)
        ) as extracted:
            async for part in extracted:
                cancellation.checkpoint()
                if stream.total_chars and part.page is not None:
                    progress["chars_done"] += len(part.page.text)
                else:
                    progress["pages_done"] += 1
                if part.page is None:
                    unreadable += 1
                elif part.page.text.strip():
                    readable += 1
                    pending.extend(part.chunks)
                progress["chunks_total"] = progress["chunks_done"] + len(pending)
                # Reported before the page's chunks are embedded too: one part of a text file
                # is hundreds of chunks, a minute of embedding on a busy CPU.
                await self._report(message.job_id, progress, on_progress)
                while len(pending) >= self._options.batch_size:
                    budget.check_time()
                    await self._index(message, pending[: self._options.batch_size], progress)
                    del pending[: self._options.batch_size]
                    await self._report(message.job_id, progress, on_progress)
        if stream.total_chars:
            progress["pages_done"] = stream.total_pages
        if not readable:
            raise no_text_error(stream.total_pages, unreadable)
        pending.extend(self._chunk(chunker, None))
        progress["chunks_total"] = progress["chunks_done"] + len(pending)
        for start in range(0, len(pending), self._options.batch_size):
            cancellation.checkpoint()
            budget.check_time()
            await self._index(message, pending[start : start + self._options.batch_size], progress)
            await self._report(message.job_id, progress, on_progress)
        cancellation.checkpoint()
        self._metrics.ingest_pages.inc(stream.total_pages)
        # Points are overwritten in place (stable ids); only a shorter new version
        # leaves stale chunks behind, and those go now.
        await self._store.delete_document(
            message.tenant, message.document_id, from_chunk=progress["chunks_done"]
        )

        record = DocumentRecord(
            document_id=message.document_id,
            tenant=message.tenant,
            filename=message.filename,
            pages=stream.total_pages,
            chunks=progress["chunks_done"],
            bytes=len(data),
            updated_at=time.time(),
            job_id=message.job_id,
        )
        await self._documents.put(record)
        await self._cache.invalidate_tags([cache_keys.tenant_tag(message.tenant)])
        if unreadable:
            progress["pages_unreadable"] = unreadable
        await self._jobs.update(message.job_id, state=JobState.READY, progress=progress)
        self._metrics.ingest_documents.labels("ready").inc()
        self._metrics.ingest_latency.observe(time.perf_counter() - started)
        log.info(
            "Ingested document",
            extra={
                "document_id": message.document_id,
                "file": message.filename,
                "pages": record.pages,
                "chunks": record.chunks,
                "seconds": round(time.perf_counter() - started, 2),
            },
        )
        return record

    async def discard(self, message: IngestMessage) -> None:
        """The document failed for good (a permanent error, retries exhausted, or given up after
        attempts that crashed the worker): the chunks its attempts indexed leave the index, and
        its uploaded file the bucket (files put there by other means, under other keys, are the
        user's and stay).

        Chunks stay when an indexed version of the document has a catalog record: those are that
        version's, still listed and deletable (its first chunks may carry the failed upload's
        text, which overwrote them in place).

        Nothing is removed when a later upload of the same name is waiting: it shares the
        document id and the stored file, and its job must find both (a corrected `report.pdf`
        uploaded while the broken one was failing is not collateral damage).
        """
        if await self._superseded(message):
            log.info(
                "A later upload of the document is waiting: its file and chunks stay",
                extra={"job_id": message.job_id, "document_id": message.document_id},
            )
            return
        await self._discard_points(message)
        if message.object_key == object_key(message.tenant, message.document_id):
            await discard_failed_upload(
                self._objects, self._documents, message.tenant, message.document_id
            )

    async def _superseded(self, message: IngestMessage) -> bool:
        """Whether another, later job of the same document exists (unknown counts as yes: a
        failed cleanup leaves a DELETE to do, a wrong one loses the user's data)."""
        try:
            latest = await self._jobs.latest_for_document(message.tenant, message.document_id)
        except Exception:  # noqa: BLE001 - see the docstring
            log.warning("Could not look up the document's later jobs", exc_info=True)
            return True
        return latest is not None and latest.job_id != message.job_id

    async def _discard_points(self, message: IngestMessage) -> None:
        try:
            if await self._documents.get(message.tenant, message.document_id) is not None:
                return
            await self._store.delete_document(message.tenant, message.document_id)
            await self._cache.invalidate_tags(
                [cache_keys.document_tag(message.tenant, message.document_id)]
            )
        except Exception:  # noqa: BLE001 - the job is failed already; DELETE of its id retries
            log.error(
                "Could not remove the chunks of a failed document; DELETE its id to retry",
                exc_info=True,
                extra={"document_id": message.document_id},
            )

    def _parts(
        self, pages: Iterator[Page | None], chunker: Chunker, budget: DocumentBudget
    ) -> Iterator[Part]:
        """Pages read and chunked, in the reading thread; the budgets are checked per page."""
        for page in pages:
            budget.check_time()
            if page is None or not page.text.strip():
                yield Part(page, [])
                continue
            chunks = self._chunk(chunker, page)
            budget.check_words(chunker.words_added)
            yield Part(page, chunks)

    async def _extracted(
        self, parts: AsyncIterator[Part], *, since: int
    ) -> AsyncGenerator[Part, None]:
        """`pages`, as one `ingest.extract` span from opening the file (`since`, ns) to its last
        page.

        Not the current span: embedding and indexing of earlier pages run while it lasts."""
        if self._tracer is None or not in_trace():
            async for part in parts:
                yield part
            return
        span = self._tracer.start_span(
            "ingest.extract", start_time=since, attributes=context_attributes()
        )
        read = unreadable = 0
        try:
            async for part in parts:
                read += 1
                unreadable += part.page is None
                yield part
        except Exception as exc:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
            raise
        finally:
            span.set_attributes({"ragops.pages": read, "ragops.pages_unreadable": unreadable})
            span.end()

    def _chunk(self, chunker: Chunker, page: Page | None) -> list[Chunk]:
        """The chunks `page` completes (None: the last ones), as an `ingest.chunk` span."""
        with child_span(
            self._tracer, "ingest.chunk", {"ragops.page": page.number} if page else {}
        ) as span:
            chunks = chunker.add(page) if page is not None else chunker.finish()
            if span is not None:
                span.set_attribute("ragops.chunks", len(chunks))
            return chunks

    async def _index(
        self, message: IngestMessage, chunks: list[Chunk], progress: dict[str, int]
    ) -> None:
        stored = [
            StoredChunk(
                tenant=message.tenant,
                document_id=message.document_id,
                filename=message.filename,
                index=c.index,
                text=c.text,
                page_breaks=c.page_breaks,
            )
            for c in chunks
        ]
        vectors = await self._embedder.embed_documents([c.text for c in stored])
        await self._store.upsert(stored, vectors)
        progress["chunks_done"] += len(stored)
        self._metrics.ingest_chunks.inc(len(stored))

    async def _report(
        self, job_id: str, progress: dict[str, int], on_progress: Progress | None
    ) -> None:
        await self._jobs.update(job_id, progress=dict(progress))
        if on_progress is not None:
            on_progress(dict(progress))


async def _from_thread(items: Iterator[Part]) -> AsyncGenerator[Part, None]:
    """Iterate a blocking iterator in a worker thread, yielding items as they come.

    The thread runs ahead of the consumer (which embeds), so a failure there (a budget
    exceeded) is raised at the consumer's next item, not after the items queued before it."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    failed: list[BaseException] = []
    # Set when the consumer stops early (failure, or cancelled at shutdown): the thread
    # then stops after its current page instead of reading the rest of the document.
    abandoned = threading.Event()

    def fail(exc: BaseException) -> None:
        failed.append(exc)
        queue.put_nowait(("error", exc))

    def produce() -> None:
        try:
            for item in items:
                if abandoned.is_set():
                    break
                loop.call_soon_threadsafe(queue.put_nowait, ("item", item))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises
            loop.call_soon_threadsafe(fail, exc)
        else:
            loop.call_soon_threadsafe(queue.put_nowait, ("end", None))

    # The caller's context (its trace span) goes with the thread, for the chunking spans.
    producer = loop.run_in_executor(None, contextvars.copy_context().run, produce)
    try:
        while True:
            kind, item = await queue.get()
            if failed:
                raise failed[0]
            if kind == "end":
                return
            yield item
    finally:
        abandoned.set()
        await producer
