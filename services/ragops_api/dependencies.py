"""The application's state, stored once, and the typed dependencies handlers declare.

`create_app` stores one `ApiState` on the app; each alias below reads one part of it
(full-stack-fastapi-template style: `async def handler(query: QueryDep, tenant: TenantDep)`).

Dependencies are `async def` on purpose: FastAPI runs plain `def` dependencies in a
thread pool, and a thread hop per dependency would cost the question routes most of
their throughput. Each reads the state directly rather than through a shared `state`
dependency, so that a route resolves as few dependencies as it declares.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from ragops_api.tenancy import TenantResolver
from ragops_core.documents import DocumentService
from ragops_core.metrics import Metrics
from ragops_core.query import QueryService
from ragops_core.readiness import Readiness
from ragops_core.settings import Settings
from ragops_wiring.adapters import Adapters


@dataclass
class ApiState:
    """Everything the handlers use, built once by `create_app` over the process's adapters."""

    settings: Settings
    metrics: Metrics
    adapters: Adapters  # closed on shutdown; the handlers go through the services below
    query: QueryService
    documents: DocumentService
    readiness: Readiness
    tenants: TenantResolver
    # The in-process ingestion worker of `ragops serve` once started (the lifespan sets it); None
    # otherwise.
    worker_task: asyncio.Task[None] | None = None


_STATE_KEY = "ragops"


def store_state(app: Any, state: ApiState) -> None:
    setattr(app.state, _STATE_KEY, state)


def api_state(app: Any) -> ApiState:
    """The state `create_app` stored (Starlette's `app.state` is untyped: checked here, once)."""
    state = getattr(app.state, _STATE_KEY, None)
    if not isinstance(state, ApiState):
        raise RuntimeError("the application was not made by ragops_api.app.create_app")
    return state


async def _state(request: Request) -> ApiState:
    return api_state(request.app)


async def _settings(request: Request) -> Settings:
    return api_state(request.app).settings


async def _query(request: Request) -> QueryService:
    return api_state(request.app).query


async def _documents(request: Request) -> DocumentService:
    return api_state(request.app).documents


async def _readiness(request: Request) -> Readiness:
    return api_state(request.app).readiness


async def tenant_of_request(request: Request) -> str:
    """The caller's tenant: from the token's claim when the API checks tokens, else the default."""
    return (await api_state(request.app).tenants.caller_of(request.scope)).tenant


StateDep = Annotated[ApiState, Depends(_state)]
SettingsDep = Annotated[Settings, Depends(_settings)]
QueryDep = Annotated[QueryService, Depends(_query)]
DocumentsDep = Annotated[DocumentService, Depends(_documents)]
ReadinessDep = Annotated[Readiness, Depends(_readiness)]
TenantDep = Annotated[str, Depends(tenant_of_request)]
