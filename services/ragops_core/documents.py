"""Documents and their ingestion jobs: submission, deletion, listing and job lookup, shared by
the API and the CLI."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass
from pathlib import PurePath

from ragops_core import cache_keys, request_context
from ragops_core.domain import DocumentRecord, IngestMessage, Job, JobState, document_id_for
from ragops_core.errors import (
    DocumentTooLargeError,
    NotFoundError,
    QueueUnavailableError,
    UnsupportedDocumentError,
)
from ragops_core.filetypes import check_page_count, check_supported, declared_page_count, is_text
from ragops_core.ports import Cache, DocumentStore, JobStore, ObjectStore, Queue, VectorStore

log = logging.getLogger(__name__)

# The uploading request's id travels with the message: the worker's log lines for the document carry
# it.
REQUEST_ID_KEY = "request_id"


@dataclass(frozen=True)
class Submitted:
    job_id: str
    document_id: str


def object_key(tenant: str, document_id: str) -> str:
    """Where a document's bytes live: `{tenant}/{document_id}` (the S3 layout minus its prefix)."""
    return f"{tenant}/{document_id}"


async def discard_failed_upload(
    objects: ObjectStore, documents: DocumentStore, tenant: str, document_id: str
) -> None:
    """Delete the stored file of an upload that will not be indexed, unless an indexed version
    of the document still has its record (re-indexing reads that file).

    Best effort: the failure being handled matters more than this cleanup.
    """
    try:
        if await documents.get(tenant, document_id) is None:
            await objects.delete(object_key(tenant, document_id))
    except Exception:  # noqa: BLE001 - see above
        log.warning(
            "Could not delete the stored file of a failed upload",
            exc_info=True,
            extra={"document_id": document_id},
        )


class DocumentService:
    def __init__(
        self,
        *,
        objects: ObjectStore,
        queue: Queue,
        jobs: JobStore,
        documents: DocumentStore,
        store: VectorStore,
        cache: Cache,
        max_upload_bytes: int,
        max_upload_pages: int | None = None,
    ) -> None:
        self._objects = objects
        self._queue = queue
        self._jobs = jobs
        self._documents = documents
        self._store = store
        self._cache = cache
        self._max_bytes = max_upload_bytes
        self._max_pages = max_upload_pages

    async def submit(self, tenant: str, filename: str, data: bytes, *, user: str = "") -> Submitted:
        """Store the bytes, record a queued job and enqueue it; the worker does the rest."""
        name = PurePath(filename.replace("\\", "/")).name.strip()
        if not name:
            raise UnsupportedDocumentError("the upload has no file name")
        if len(data) > self._max_bytes:
            raise DocumentTooLargeError(
                f"{name!r} is {len(data):,} bytes; the limit is {self._max_bytes:,} bytes "
                "(RAGOPS_MAX_UPLOAD_BYTES)"
            )
        if not data:
            raise UnsupportedDocumentError(f"{name!r} is empty")
        check_supported(name, data[:4096])
        if self._max_pages is not None and not is_text(name):
            # In a thread: opening a large PDF parses its cross-reference table.
            pages = await asyncio.to_thread(declared_page_count, data)
            if pages is not None:
                check_page_count(name, pages, self._max_pages)
        document_id = document_id_for(tenant, name)
        job_id = str(uuid.uuid4())
        key = object_key(tenant, document_id)
        await self._objects.put(key, data)
        message = IngestMessage(
            job_id=job_id,
            document_id=document_id,
            object_key=key,
            tenant=tenant,
            filename=name,
            user=user,
        )
        try:
            await self._record_and_enqueue(message)
        except BaseException:
            # Stored but never queued: nothing will ever read these bytes.
            await discard_failed_upload(self._objects, self._documents, tenant, document_id)
            raise
        log.info(
            "Queued document for ingestion",
            extra={"job_id": job_id, "document_id": document_id, "file": name, "bytes": len(data)},
        )
        return Submitted(job_id=job_id, document_id=document_id)

    async def _record_and_enqueue(self, message: IngestMessage) -> None:
        now = time.time()
        await self._jobs.create(
            Job(
                job_id=message.job_id,
                document_id=message.document_id,
                tenant=message.tenant,
                filename=message.filename,
                state=JobState.QUEUED,
                created_at=now,
                updated_at=now,
            )
        )
        body = message.to_json()
        if (context := request_context.current()) is not None and context.request_id:
            body[REQUEST_ID_KEY] = context.request_id
        try:
            await self._queue.send(body)
        except BaseException as exc:
            with contextlib.suppress(Exception):
                await self._jobs.update(
                    message.job_id,
                    state=JobState.FAILED,
                    error=f"could not be queued: {type(exc).__name__}",
                )
            if isinstance(exc, Exception):
                # The queue's own error (botocore's, sqlite's) would be a 500 naming nothing a
                # user can act on: the upload is undone and can simply be sent again.
                log.error(
                    "Could not queue an upload; its file and job were undone",
                    exc_info=True,
                    extra={"job_id": message.job_id, "document_id": message.document_id},
                )
                raise QueueUnavailableError(
                    "the ingestion queue is unavailable; the upload was not kept, try again later"
                ) from exc
            raise

    async def delete(self, tenant: str, document_id: str) -> None:
        """Remove the document's chunks, bytes and record, and every cached answer that cited it.

        A failed upload has no record but can be deleted too (its job is the proof it existed);
        an id never uploaded, or already deleted, is a NotFoundError.
        """
        if await self._documents.get(tenant, document_id) is None:
            latest = await self._jobs.latest_for_document(tenant, document_id)
            if latest is None or latest.state is not JobState.FAILED:
                raise NotFoundError(f"no document {document_id!r}")
        await self._store.delete_document(tenant, document_id)
        await self._objects.delete(object_key(tenant, document_id))
        await self._documents.delete(tenant, document_id)
        await self._cache.invalidate_tags([cache_keys.document_tag(tenant, document_id)])
        log.info("Deleted document", extra={"document_id": document_id})

    async def list_documents(self, tenant: str) -> list[DocumentRecord]:
        """The tenant's indexed documents."""
        return await self._documents.list(tenant)

    async def unreadable_pages(self, tenant: str, records: list[DocumentRecord]) -> list[int]:
        """Per record, the pages of its last ingestion that no extractor could read.

        Read from the ingestion job (whose progress counts them) rather than the catalog
        record, so that catalogs and their backups keep one row format.
        """
        jobs = await asyncio.gather(*(self._jobs.get(tenant, r.job_id) for r in records))
        return [int(job.progress.get("pages_unreadable", 0)) if job else 0 for job in jobs]

    async def job(self, tenant: str, job_id: str) -> Job:
        """An ingestion job of the tenant's; NotFoundError for another tenant's or an unknown id."""
        found = await self._jobs.get(tenant, job_id)
        if found is None:
            raise NotFoundError(f"no job {job_id!r}")
        return found
