"""The worker's small HTTP face: liveness, readiness and Prometheus metrics, nothing else."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse

from ragops_core.metrics import CONTENT_TYPE
from ragops_core.readiness import Readiness


def create_health_app(readiness: Readiness, *, worker_running: Callable[[], bool]) -> FastAPI:
    app = FastAPI(title="RAGOps worker", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Liveness: the process serves requests."""
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        """Readiness: the queue, catalog and vector store answer and the ingestion loop runs."""
        checks = await readiness.check_stores()
        checks["worker"] = "ok" if worker_running() else "stopped"
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    @app.get("/metrics")
    async def metrics_endpoint() -> Response:
        return Response(await readiness.metrics_page(), media_type=CONTENT_TYPE)

    return app
