"""Documents: upload (queued for ingestion), list, delete."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, File, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from ragops_api.dependencies import DocumentsDep, SettingsDep, TenantDep
from ragops_api.schemas import PROBLEMS, DocumentOut, Problem, UploadResponse
from ragops_core.errors import DocumentTooLargeError, QueueUnavailableError

_UPLOAD_READ = 1024 * 1024

# Multipart framing around the file: the hard body limit sits this far above the
# file-size limit, so files near the limit get the precise message of `upload`, while a
# far larger body is refused before it is read (`_upload_route`).
_MULTIPART_MARGIN = 1024 * 1024


async def upload(
    file: Annotated[UploadFile, File(description="A PDF, text or Markdown file.")],
    tenant: TenantDep,
    settings: SettingsDep,
    documents: DocumentsDep,
) -> UploadResponse | JSONResponse:
    """Store the file and queue it for ingestion; follow it with GET /api/jobs/{job_id}."""
    data = bytearray()
    while chunk := await file.read(_UPLOAD_READ):
        data.extend(chunk)
        if len(data) > settings.max_upload_bytes:
            raise DocumentTooLargeError(
                f"{file.filename!r} is over the {settings.max_upload_bytes:,}-byte limit "
                "(RAGOPS_MAX_UPLOAD_BYTES)"
            )
    try:
        submitted = await documents.submit(tenant, file.filename or "", bytes(data))
    except QueueUnavailableError as exc:
        # Undone (file deleted, job failed with the reason): the same upload may be sent again.
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "30"})
    return UploadResponse(job_id=submitted.job_id, document_id=submitted.document_id)


async def list_documents(tenant: TenantDep, documents: DocumentsDep) -> list[DocumentOut]:
    records = await documents.list_documents(tenant)
    unreadable = await documents.unreadable_pages(tenant, records)
    return [
        DocumentOut(**record.to_json(), pages_unreadable=count)
        for record, count in zip(records, unreadable, strict=True)
    ]


async def delete_document(document_id: str, tenant: TenantDep, documents: DocumentsDep) -> Response:
    """Remove the document, its chunks and every cached answer that cited it (a failed upload's
    id too)."""
    await documents.delete(tenant, document_id)
    return Response(status_code=204)


def _too_large(max_upload_bytes: int) -> JSONResponse:
    return JSONResponse(
        {
            "detail": f"the upload is over the {max_upload_bytes:,}-byte limit "
            "(RAGOPS_MAX_UPLOAD_BYTES)"
        },
        status_code=413,
    )


def _upload_route(max_upload_bytes: int) -> type[APIRoute]:
    """The upload route, refusing a body over the limit from its Content-Length, unread.

    Not the route's `max_body_size`: Starlette's body limit answers with a plain-text
    "Content Too Large" that names no limit, replacing any response of ours. A body
    without a Content-Length (chunked) is refused too, since only the declared length
    can be checked before the multipart parser spools the body to disk; browsers,
    curl and the HTTP libraries all send one, and the server holds the body to it.
    """
    max_body = max_upload_bytes + _MULTIPART_MARGIN

    class UploadRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def bounded(request: Request) -> Response:
                declared = request.headers.get("content-length", "")
                if not declared.isdigit():
                    return JSONResponse(
                        {"detail": "an upload needs a Content-Length header"}, status_code=411
                    )
                if int(declared) > max_body:
                    return _too_large(max_upload_bytes)
                return await handler(request)

            return bounded

    return UploadRoute


def build_router(*, max_upload_bytes: int) -> APIRouter:
    """The upload's body limit is the configured one, hence a router per app."""
    router = APIRouter(tags=["documents"])
    router.add_api_route(
        "/api/upload",
        upload,
        methods=["POST"],
        status_code=202,
        response_model=UploadResponse,
        responses={**PROBLEMS, 503: {"model": Problem, "description": "The queue is unavailable"}},
        route_class_override=_upload_route(max_upload_bytes),
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
