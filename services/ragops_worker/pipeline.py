"""One document from stored bytes to searchable chunks: extract, chunk, embed, index."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio

from ragops_core import cache_keys
from ragops_core.chunking import chunk_pages
from ragops_core.domain import DocumentRecord, IngestMessage, JobState, StoredChunk
from ragops_core.metrics import Metrics
from ragops_core.ports import Cache, DocumentStore, Embedder, JobStore, ObjectStore, VectorStore
from ragops_worker.extraction import extract

log = logging.getLogger(__name__)

Progress = Callable[[dict[str, int]], None]


@dataclass(frozen=True)
class PipelineOptions:
    chunk_words: int = 500
    overlap_words: int = 50
    batch_size: int = 16


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
    ) -> None:
        self._objects = objects
        self._embedder = embedder
        self._store = store
        self._jobs = jobs
        self._documents = documents
        self._cache = cache
        self._metrics = metrics
        self._options = options

    async def process(self, message: IngestMessage, *, on_progress: Progress | None = None) -> DocumentRecord:
        """Index the document; raises on failure (the caller decides retry or fail)."""
        started = time.perf_counter()
        progress: dict[str, int] = {"pages_done": 0, "pages_total": 0, "chunks_done": 0, "chunks_total": 0}
        await self._jobs.update(message.job_id, state=JobState.PROCESSING, progress=progress)
        data = await self._objects.get(message.object_key)

        def page_done(number: int, total: int) -> None:
            progress.update(pages_done=number, pages_total=total)
            if on_progress is not None:
                on_progress(dict(progress))

        extracted = await anyio.to_thread.run_sync(
            lambda: extract(message.filename, data, on_page=page_done)
        )
        self._metrics.ingest_pages.inc(extracted.total_pages)
        chunks = chunk_pages(
            extracted.pages, chunk_words=self._options.chunk_words, overlap_words=self._options.overlap_words
        )
        progress.update(pages_done=extracted.total_pages, pages_total=extracted.total_pages, chunks_total=len(chunks))
        await self._report(message.job_id, progress, on_progress)

        stored = [
            StoredChunk(tenant=message.tenant, document_id=message.document_id, filename=message.filename,
                        index=c.index, text=c.text, page_breaks=c.page_breaks)
            for c in chunks
        ]
        for start in range(0, len(stored), self._options.batch_size):
            batch = stored[start : start + self._options.batch_size]
            vectors = await self._embedder.embed_documents([c.text for c in batch])
            await self._store.upsert(batch, vectors)
            progress["chunks_done"] = start + len(batch)
            self._metrics.ingest_chunks.inc(len(batch))
            await self._report(message.job_id, progress, on_progress)
        # Points are overwritten in place (stable ids); only a shorter new version
        # leaves stale chunks behind, and those go now.
        await self._store.delete_document(message.tenant, message.document_id, from_chunk=len(stored))

        record = DocumentRecord(
            document_id=message.document_id, tenant=message.tenant, filename=message.filename,
            pages=extracted.total_pages, chunks=len(stored), bytes=len(data), updated_at=time.time(),
            job_id=message.job_id,
        )
        await self._documents.put(record)
        await self._cache.invalidate_tags([cache_keys.tenant_tag(message.tenant)])
        if extracted.unreadable_pages:
            progress["pages_unreadable"] = extracted.unreadable_pages
        await self._jobs.update(message.job_id, state=JobState.READY, progress=progress)
        self._metrics.ingest_documents.labels("ready").inc()
        self._metrics.ingest_latency.observe(time.perf_counter() - started)
        log.info(
            "Ingested document",
            extra={"document_id": message.document_id, "file": message.filename, "pages": record.pages,
                   "chunks": record.chunks, "seconds": round(time.perf_counter() - started, 2)},
        )
        return record

    async def _report(self, job_id: str, progress: dict[str, int], on_progress: Progress | None) -> None:
        await self._jobs.update(job_id, progress=dict(progress))
        if on_progress is not None:
            on_progress(dict(progress))
