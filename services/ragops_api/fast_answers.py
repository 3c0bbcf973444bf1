"""Cache hits of `POST /api/ask` answered before FastAPI's routing and dependency machinery.

A cached answer is a few hundred bytes already serialised; on this hot path the
framework's per-request work (route matching, dependency solving, response
handling) costs more than the lookup itself. This layer validates the body with
the route's own `AskRequest` model, resolves the tenant with the same resolver,
builds the key with the same `QueryService`, and answers only when the cache has
the answer. Everything else (misses, invalid bodies, other routes, and requests that ask for
a fresh answer with `Cache-Control: no-cache`) goes to the app unchanged, with the body
replayed, so behaviour is identical either way.
"""

from __future__ import annotations

import email.message
import json
from dataclasses import dataclass

from pydantic import ValidationError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ragops_api.schemas import AskRequest
from ragops_api.tenancy import TenantResolver
from ragops_core import request_context
from ragops_core.errors import AuthenticationError
from ragops_core.query import QueryService

ASK_PATH = "/api/ask"
_MAX_BODY = 64 * 1024  # a question is far smaller; anything larger takes the normal path


@dataclass(frozen=True)
class _RouteLabel:
    path: str


_ASK_ROUTE = _RouteLabel(ASK_PATH)


class CachedAnswerMiddleware:
    def __init__(self, app: ASGIApp, *, query: QueryService, tenants: TenantResolver) -> None:
        self._app = app
        self._query = query
        self._tenants = tenants

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != ASK_PATH:
            await self._app(scope, receive, send)
            return
        body, complete = await _read_body(receive)
        if complete and (cached := await self._lookup(scope, body)) is not None:
            scope["route"] = _ASK_ROUTE  # request metrics label hits like the route's own responses
            if (context := request_context.current()) is not None and context.span is not None:
                # The router names the server span; hits never reach it (set only when tracing is
                # on).
                context.span.update_name(f"POST {ASK_PATH}")
                context.span.set_attribute("http.route", ASK_PATH)
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(cached)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": cached})
            return
        await self._app(scope, _replay(body, receive, complete), send)

    async def _lookup(self, scope: Scope, body: bytes) -> bytes | None:
        headers = Headers(scope=scope)
        if wants_fresh(headers.get("cache-control")):
            return None  # the route answers afresh (and caches that answer)
        if not is_json(headers.get("content-type")):
            return None  # the route does not parse it as JSON: its 422 (or 415) answers
        try:
            request = AskRequest.model_validate(json.loads(body))
        except (ValueError, ValidationError):
            return None
        try:
            tenant = (await self._tenants.caller_of(scope)).tenant
        except AuthenticationError:
            return None  # the route answers 401, with the same message

        return await self._query.cached_answer(
            tenant, request.query, request.top_k or self._query.options.top_k
        )


def wants_fresh(cache_control: str | None) -> bool:
    """Whether a request's Cache-Control asks for an answer made now (pure): `no-cache` or
    `no-store`, as a quality gate asks so that it measures a color, not the shared cache."""
    if not cache_control:
        return False
    directives = {part.split("=", 1)[0].strip().lower() for part in cache_control.split(",")}
    return bool(directives & {"no-cache", "no-store"})


def is_json(content_type: str | None) -> bool:
    """Whether FastAPI parses a body of this type as JSON (pure): application/json or
    application/*+json, as its request handler decides; a missing type is not (its strict
    default)."""
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The request body, and whether it was read whole (small enough to inspect)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True
        if size > _MAX_BODY:
            return b"".join(chunks), False


def _replay(body: bytes, receive: Receive, complete: bool) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": not complete}
        return await receive()

    return replayed
