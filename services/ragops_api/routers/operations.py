"""Operations: liveness, readiness and the Prometheus metrics (the worker has its own:
ragops_worker/health.py)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from ragops_api.dependencies import ReadinessDep, StateDep
from ragops_api.schemas import Problem, Readiness
from ragops_api.worker_health import worker_failure
from ragops_core.metrics import CONTENT_TYPE

router = APIRouter(tags=["operations"])


@router.get("/healthz", responses={503: {"model": Problem}})
async def healthz(state: StateDep) -> JSONResponse:
    """Liveness: the process serves requests and, in the all-in-one mode, its ingestion worker
    has not died (503 with the reason: restart the process)."""
    failure = worker_failure(state.worker_task)
    if failure is not None:
        return JSONResponse({"status": "failing", "detail": failure}, status_code=503)
    return JSONResponse({"status": "ok"})


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(state: StateDep) -> JSONResponse:
    """Readiness: the stores answer and, in the all-in-one mode, the ingestion worker runs."""
    checks = await state.readiness.check_stores()
    if state.worker_task is not None:
        checks["worker"] = "ok" if not state.worker_task.done() else "stopped"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get("/metrics")
async def metrics_endpoint(readiness: ReadinessDep) -> Response:
    return Response(await readiness.metrics_page(), media_type=CONTENT_TYPE)
