"""HTTP routes. Handlers only translate HTTP to the core services and back."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from ragops_wiring.adapters import Adapters
from sse_starlette.sse import EventSourceResponse

from ragops_api.schemas import (
    AskRequest,
    AskResponse,
    DocumentOut,
    FeedbackRequest,
    JobOut,
    Problem,
    UiAuth,
    UiConfig,
    UploadResponse,
)
from ragops_core.documents import DocumentService
from ragops_core.errors import DocumentTooLargeError, NotFoundError
from ragops_core.metrics import CONTENT_TYPE, Metrics
from ragops_core.query import QueryService
from ragops_core.readiness import Readiness
from ragops_core.settings import Settings

_UPLOAD_READ = 1024 * 1024

# Dependencies are `async def` on purpose: FastAPI runs plain `def` dependencies in a
# thread pool, and four thread hops per request would cost the cache-hit path 3/4 of
# its throughput.


async def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def _query(request: Request) -> QueryService:
    return request.app.state.query  # type: ignore[no-any-return]


async def _documents(request: Request) -> DocumentService:
    return request.app.state.documents  # type: ignore[no-any-return]


async def _adapters(request: Request) -> Adapters:
    return request.app.state.adapters  # type: ignore[no-any-return]


async def _readiness(request: Request) -> Readiness:
    return request.app.state.readiness  # type: ignore[no-any-return]


async def _metrics(request: Request) -> Metrics:
    return request.app.state.metrics  # type: ignore[no-any-return]


async def tenant_of_request(request: Request) -> str:
    return (await request.app.state.tenants.caller_of(request.scope)).tenant  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(_settings)]
QueryDep = Annotated[QueryService, Depends(_query)]
DocumentsDep = Annotated[DocumentService, Depends(_documents)]
AdaptersDep = Annotated[Adapters, Depends(_adapters)]
MetricsDep = Annotated[Metrics, Depends(_metrics)]
ReadinessDep = Annotated[Readiness, Depends(_readiness)]
TenantDep = Annotated[str, Depends(tenant_of_request)]

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem}, 413: {"model": Problem}, 415: {"model": Problem}, 422: {"description": "Invalid input"}
}


# Multipart framing around the file: the hard body limit sits this far above the
# file-size limit, so files near the limit get our precise message below, while a
# far larger body is cut off before it is spooled to disk.
_MULTIPART_MARGIN = 1024 * 1024


def ui_auth(settings: Settings) -> UiAuth | None:
    """The page signs in only where the API checks tokens and a hosted UI is configured."""
    if not (settings.auth_jwks_url and settings.ui_oidc_domain and settings.ui_oidc_client_id):
        return None
    return UiAuth(domain=settings.ui_oidc_domain, client_id=settings.ui_oidc_client_id,
                  scopes=settings.ui_oidc_scopes, redirect_path=settings.ui_oidc_redirect_path,
                  token=settings.ui_oidc_token)


def build_router(*, max_upload_bytes: int) -> APIRouter:
    router = APIRouter()

    # The question routes come first: the router tries routes in order, and these are the hot ones.
    @router.post("/api/ask", response_model=AskResponse, responses=_ERRORS, tags=["questions"])
    async def ask(body: AskRequest, tenant: TenantDep, query: QueryDep) -> Response:
        """Answer from the tenant's documents, with sources (file, page, excerpt)."""
        # Cache hits are answered before routing (fast_answers.py), which already looked
        # this question up: looking again would double the cache traffic of every miss.
        answer = await query.answer(tenant, body.query, body.top_k or query.options.top_k)
        return JSONResponse(answer.to_json())

    @router.post("/api/ask/stream", responses=_ERRORS, tags=["questions"])
    async def ask_stream(body: AskRequest, tenant: TenantDep, query: QueryDep) -> EventSourceResponse:
        """Server-sent events: `sources`, then `delta` pieces of the answer, then `done` (the full answer)."""
        top_k = body.top_k or query.options.top_k

        async def events() -> AsyncIterator[dict[str, str]]:
            async for event, data in query.stream(tenant, body.query, top_k):
                yield {"event": event, "data": json.dumps(data)}

        return EventSourceResponse(events())

    @router.post(
        "/api/upload", status_code=202, response_model=UploadResponse, responses=_ERRORS, tags=["documents"],
        max_body_size=max_upload_bytes + _MULTIPART_MARGIN,
    )
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
                    f"{file.filename!r} is over the {settings.max_upload_bytes:,}-byte limit (RAGOPS_MAX_UPLOAD_BYTES)"
                )
        submitted = await documents.submit(tenant, file.filename or "", bytes(data))
        return UploadResponse(job_id=submitted.job_id, document_id=submitted.document_id)

    @router.get("/api/jobs/{job_id}", response_model=JobOut, responses=_ERRORS, tags=["documents"])
    async def job(job_id: str, tenant: TenantDep, adapters: AdaptersDep) -> JobOut:
        found = await adapters.jobs.get(tenant, job_id)
        if found is None:
            raise NotFoundError(f"no job {job_id!r}")
        return JobOut(**found.to_json())

    @router.get("/api/documents", response_model=list[DocumentOut], tags=["documents"])
    async def list_documents(tenant: TenantDep, adapters: AdaptersDep) -> list[DocumentOut]:
        return [DocumentOut(**d.to_json()) for d in await adapters.documents.list(tenant)]

    @router.delete("/api/documents/{document_id}", status_code=204, responses=_ERRORS, tags=["documents"])
    async def delete_document(document_id: str, tenant: TenantDep, documents: DocumentsDep) -> Response:
        """Remove the document, its chunks and every cached answer that cited it."""
        await documents.delete(tenant, document_id)
        return Response(status_code=204)

    @router.post("/api/feedback", status_code=204, responses=_ERRORS, tags=["questions"])
    async def feedback(body: FeedbackRequest, tenant: TenantDep, adapters: AdaptersDep, metrics: MetricsDep) -> Response:
        if not await adapters.answers.exists(tenant, body.answer_id):
            raise NotFoundError(f"no answer {body.answer_id!r}")
        await adapters.answers.add_feedback(tenant, body.answer_id, body.rating, body.comment)
        metrics.feedback.labels(body.rating).inc()
        return Response(status_code=204)

    @router.get("/api/ui-config", response_model=UiConfig, tags=["ui"])
    async def ui_config(settings: SettingsDep) -> UiConfig:
        """What the chat page needs before its first call: whether, and where, to sign in. Needs no token."""
        return UiConfig(auth=ui_auth(settings))

    @router.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process serves requests."""
        return {"status": "ok"}

    @router.get("/readyz", tags=["operations"], responses={503: {"model": Problem}})
    async def readyz(request: Request, readiness: ReadinessDep) -> JSONResponse:
        """Readiness: the stores answer and, in the all-in-one mode, the ingestion worker runs."""
        checks = await readiness.check_stores()
        task = request.app.state.worker_task
        if task is not None:
            checks["worker"] = "ok" if not task.done() else "stopped"
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks},
                            status_code=200 if ready else 503)

    @router.get("/metrics", tags=["operations"])
    async def metrics_endpoint(readiness: ReadinessDep) -> Response:
        return Response(await readiness.metrics_page(), media_type=CONTENT_TYPE)

    return router
