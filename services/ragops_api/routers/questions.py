"""Questions: an answer with its sources, whole or streamed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import JSONResponse
from sse_starlette.sse import EventSourceResponse

from ragops_api.dependencies import QueryDep, TenantDep
from ragops_api.disconnects import closed_request, unless_disconnected
from ragops_api.fast_answers import wants_fresh
from ragops_api.schemas import PROBLEMS, AskRequest, AskResponse

router = APIRouter(tags=["questions"])

CacheControl = Annotated[
    str | None,
    Header(
        description="`no-cache` (or `no-store`): answer afresh, not from the answer cache; the "
        "new answer is cached. `ragops eval --url` sends it, so that it measures the stack."
    ),
]


@router.post("/api/ask", response_model=AskResponse, responses=PROBLEMS)
async def ask(
    request: Request,
    body: AskRequest,
    tenant: TenantDep,
    query: QueryDep,
    cache_control: CacheControl = None,
) -> Response:
    """Answer from the tenant's documents, with sources (file, page, excerpt)."""
    # Cache hits are answered before routing (fast_answers.py), which already looked
    # this question up (unless Cache-Control asked for a fresh answer): looking again would
    # double the cache traffic of every miss.
    # A client that hangs up stops the model call, as a dropped stream does.
    answer = await unless_disconnected(
        request, lambda: query.answer(tenant, body.query, body.top_k or query.options.top_k)
    )
    return closed_request() if answer is None else JSONResponse(answer.to_json())


@router.post("/api/ask/stream", responses=PROBLEMS)
async def ask_stream(
    body: AskRequest, tenant: TenantDep, query: QueryDep, cache_control: CacheControl = None
) -> EventSourceResponse:
    """Server-sent events: `sources`, then `delta` pieces of the answer, then `done` (the full answer)."""  # noqa: E501 - the OpenAPI description
    top_k = body.top_k or query.options.top_k
    fresh = wants_fresh(cache_control)

    async def events() -> AsyncIterator[dict[str, str]]:
        async for event, data in query.stream(tenant, body.query, top_k, fresh=fresh):
            yield {"event": event, "data": json.dumps(data)}

    return EventSourceResponse(events())
