"""Documents: upload (queued for ingestion), list, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Response, UploadFile

from ragops_api.dependencies import DocumentsDep, SettingsDep, TenantDep
from ragops_api.schemas import PROBLEMS, DocumentOut, UploadResponse
from ragops_core.errors import DocumentTooLargeError

_UPLOAD_READ = 1024 * 1024

# Multipart framing around the file: the hard body limit sits this far above the
# file-size limit, so files near the limit get our precise message below, while a
# far larger body is cut off before it is spooled to disk.
_MULTIPART_MARGIN = 1024 * 1024


async def upload(
    file: Annotated[UploadFile, File(description="A PDF, text or Markdown file.")],
    tenant: TenantDep,
    settings: SettingsDep,
    documents: DocumentsDep,
) -> UploadResponse:
    """Store the file and queue it for ingestion; follow it with GET /api/jobs/{job_id}."""
    data = bytearray()
    while chunk := await file.read(_UPLOAD_READ):
        data.extend(chunk)
        if len(data) > settings.max_upload_bytes:
            raise DocumentTooLargeError(
                f"{file.filename!r} is over the {settings.max_upload_bytes:,}-byte limit "
                "(RAGOPS_MAX_UPLOAD_BYTES)"
            )
    submitted = await documents.submit(tenant, file.filename or "", bytes(data))
    return UploadResponse(job_id=submitted.job_id, document_id=submitted.document_id)


async def list_documents(tenant: TenantDep, documents: DocumentsDep) -> list[DocumentOut]:
    records = await documents.list_documents(tenant)
    unreadable = await documents.unreadable_pages(tenant, records)
    return [
        DocumentOut(**record.to_json(), pages_unreadable=count)
        for record, count in zip(records, unreadable, strict=True)
    ]


async def delete_document(document_id: str, tenant: TenantDep, documents: DocumentsDep) -> Response:
    """Remove the document, its chunks and every cached answer that cited it."""
    await documents.delete(tenant, document_id)
    return Response(status_code=204)


def build_router(*, max_upload_bytes: int) -> APIRouter:
    """The upload's body limit is the configured one, hence a router per app."""
    router = APIRouter(tags=["documents"])
    router.add_api_route(
        "/api/upload",
        upload,
        methods=["POST"],
        status_code=202,
        response_model=UploadResponse,
        responses=PROBLEMS,
        max_body_size=max_upload_bytes + _MULTIPART_MARGIN,
    )
    router.add_api_route(
        "/api/documents", list_documents, methods=["GET"], response_model=list[DocumentOut]
    )
    router.add_api_route(
        "/api/documents/{document_id}",
        delete_document,
        methods=["DELETE"],
        status_code=204,
        responses=PROBLEMS,
    )
    return router
