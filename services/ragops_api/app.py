"""`create_app`: the FastAPI application over a set of adapters.

With a worker (the embedded `ragops serve`), ingestion runs in the same process
and event loop; without one (`ragops api` in production), uploads are only queued.
The routes are in routers/ (one module per resource, plus openai_compat.py); what they
depend on is one `ApiState` (dependencies.py), built here over the core services.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.telemetry import TelemetryConfig
from fastapi_offline import FastAPIOffline

from ragops_api import openai_compat, openapi_responses
from ragops_api.body_guard import BodyGuardMiddleware
from ragops_api.dependencies import ApiState, api_state, store_state
from ragops_api.fast_answers import CachedAnswerMiddleware
from ragops_api.observability import MetricsMiddleware
from ragops_api.rate_limiting import RateLimitMiddleware
from ragops_api.routers import documents, feedback, jobs, operations, questions, ui
from ragops_api.static_ui import chat_ui_dir, mount_chat_ui, mount_not_built_page
from ragops_api.tenancy import DocsAuthMiddleware, JwtSettings, TenantResolver
from ragops_api.validation import validation_error
from ragops_api.worker_health import report_death
from ragops_core.errors import (
    AuthenticationError,
    DocumentTooLargeError,
    NotFoundError,
    RagOpsError,
    UnsupportedDocumentError,
)
from ragops_core.metrics import Metrics
from ragops_core.settings import Settings
from ragops_wiring.adapters import Adapters
from ragops_wiring.services import (
    build_document_service,
    build_query_service,
    build_rate_limiter,
    build_readiness,
)
from ragops_worker.loop import IngestionWorker

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 30.0
# Swagger UI's and ReDoc's files, served from the fastapi-offline package: /docs needs no CDN.
DOCS_ASSETS_URL = "/docs/assets"

_STATUS = {
    NotFoundError: 404,
    UnsupportedDocumentError: 415,
    DocumentTooLargeError: 413,
    AuthenticationError: 401,
}


def build_tenant_resolver(settings: Settings) -> TenantResolver:
    jwt_settings = (
        JwtSettings(
            jwks_url=settings.auth_jwks_url,
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
            tenant_claim=settings.auth_tenant_claim,
        )
        if settings.auth_jwks_url
        else None
    )
    return TenantResolver(default_tenant=settings.tenant, jwt_settings=jwt_settings)


# Probes and scrapes every few seconds: no trace of their own.
_UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def telemetry_config(adapters: Adapters) -> TelemetryConfig:
    """FastAPI's built-in OpenTelemetry makes the HTTP server spans, with our tracer provider when
    tracing is on (tracing.py), and is off entirely otherwise. Its OTel metrics and logs stay off:
    RAGOps' metrics are Prometheus', its logs JSON lines."""
    if adapters.tracing is None:
        return {"tracing": False, "metrics": False, "logs": False}
    return {
        "tracer_provider": adapters.tracing.provider,
        "tracing": True,
        "metrics": False,
        "logs": False,
        "operation_spans": False,
        "exclude": lambda scope: scope.get("path") in _UNTRACED_PATHS,
    }


def include_routes(app: FastAPI, settings: Settings) -> None:
    """Every route, in the order the router tries them; the chat page (when built) last."""
    ui_dir = chat_ui_dir(settings.ui_dir)
    if ui_dir is None:
        mount_not_built_page(app)

    # The question routes come first: the router tries routes in order, and these are the hot ones.
    app.include_router(questions.router)
    app.include_router(documents.build_router(max_upload_bytes=settings.max_upload_bytes))
    app.include_router(jobs.router)
    app.include_router(feedback.router)
    app.include_router(ui.router)
    app.include_router(operations.router)
    app.include_router(openai_compat.router)
    if ui_dir is not None:
        mount_chat_ui(app, ui_dir)  # after the API routes: its GET catch-all must come last


def create_app(
    settings: Settings,
    adapters: Adapters,
    *,
    metrics: Metrics | None = None,
    worker: IngestionWorker | None = None,
    close_adapters: bool = True,
) -> FastAPI:
    metrics = metrics or Metrics()
    rate_limiter = build_rate_limiter(settings, metrics)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop), name="ingestion-worker") if worker else None
        api_state(app).worker_task = task
        if task is not None:
            task.add_done_callback(report_death)
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                # The current document gets a grace period; if cut short, its message
                # is not acknowledged and is processed again on the next start.
                try:
                    await asyncio.wait_for(task, timeout=SHUTDOWN_GRACE_SECONDS)
                except TimeoutError:
                    log.warning("Stopped ingestion mid-document; it will be retried on next start")
                except Exception:  # it died earlier (report_death logged why): close the stores
                    pass
            await rate_limiter.close()
            if close_adapters:
                await adapters.close()

    app = FastAPIOffline(
        static_url=DOCS_ASSETS_URL,
        title="RAGOps API",
        version="0.1.0",
        description=(
            "Upload documents, follow their ingestion, and ask questions answered with "
            "cited sources."
        ),
        lifespan=lifespan,
        telemetry=telemetry_config(adapters),
    )
    state = ApiState(
        settings=settings,
        metrics=metrics,
        adapters=adapters,
        query=build_query_service(settings, adapters, metrics),
        documents=build_document_service(settings, adapters),
        readiness=build_readiness(settings, adapters, metrics),
        tenants=build_tenant_resolver(settings),
    )
    store_state(app, state)
    if settings.ui_oidc_domain and not settings.auth_jwks_url:
        log.warning(
            "RAGOPS_UI_OIDC_DOMAIN is set but RAGOPS_AUTH_JWKS_URL is not: "
            "the API checks no tokens, so the chat page shows no sign-in"
        )

    @app.exception_handler(RagOpsError)
    async def _user_error(request: Request, exc: RagOpsError) -> JSONResponse:
        status = next((code for kind, code in _STATUS.items() if isinstance(exc, kind)), 400)
        headers = {"WWW-Authenticate": 'Bearer realm="ragops"'} if status == 401 else None
        return JSONResponse({"detail": str(exc)}, status_code=status, headers=headers)

    app.add_exception_handler(RequestValidationError, validation_error)
    include_routes(app, settings)
    openapi_responses.install(app)  # the statuses middleware answers with, stream types
    # Added last = outermost: metrics see every request, including fast-path hits.
    app.add_middleware(CachedAnswerMiddleware, query=state.query, tenants=state.tenants)
    # Outside the fast path, so cached answers are limited too; inside metrics, which count the
    # 429s.
    app.add_middleware(
        RateLimitMiddleware, limiter=rate_limiter, tenants=state.tenants, router=app.router
    )
    # Outside the rate limit and the fast path, which resolve the caller and read the body: an
    # oversized body is refused before either, and the token is checked before any body is read.
    app.add_middleware(
        BodyGuardMiddleware,
        max_body_bytes=settings.max_json_body_bytes,
        tenants=state.tenants,
        own_limit_paths=frozenset({"/api/upload"}),  # its own limit: documents.py
    )
    if not settings.public_docs and state.tenants.requires_token:
        app.add_middleware(DocsAuthMiddleware, tenants=state.tenants)
    app.add_middleware(MetricsMiddleware, metrics=metrics, traced=adapters.tracing is not None)
    return app
