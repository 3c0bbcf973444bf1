"""The per-user rate limit in front of the API, cache hits included: 429 with Retry-After.

A plain ASGI middleware outside the cached-answer fast path (fast_answers.py), so a
cached answer counts like any other question and the check costs one call to the
limiter, no framework machinery. Two limits per user, because requests differ in
cost: questions (`POST /api/ask`, `/api/ask/stream`, `/v1/chat/completions`: model
and search time) and everything else under `/api` (uploads, job polling, document
lists, feedback: cheap, and the chat page polls each upload's job every 0.6 s).
Probes, metrics, the chat page and `/api/ui-config` (which the page reads before
signing in) are never limited.

The user is the token's subject within its tenant; without authentication, the
client address within the configured tenant (see tenancy.py). A request whose token
is refused is not counted: the route answers 401 as it always does.

The client address is the socket's peer unless that peer is one of RAGOPS_TRUSTED_PROXIES:
only then does uvicorn take it from X-Forwarded-For (ragops_cli/http_server.py). uvicorn's own
default believes 127.0.0.1, so any local process (a sidecar, another pod on the host network)
could claim a new address per request and never be limited.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from starlette.routing import BaseRoute, Match, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from ragops_api.tenancy import TenantResolver
from ragops_core.errors import AuthenticationError
from ragops_core.rate_limits import OTHER, QUESTIONS, RateLimiter

QUESTION_PATHS = frozenset({"/api/ask", "/api/ask/stream", "/v1/chat/completions"})
UNLIMITED_PATHS = frozenset({"/api/ui-config"})
OPENAI_PREFIX = "/v1/"


def limit_kind(path: str) -> str | None:
    """Which limit a request path counts against, if any (pure)."""
    if path in QUESTION_PATHS:
        return QUESTIONS
    if path.startswith("/api/") and path not in UNLIMITED_PATHS:
        return OTHER
    return None


def refusal_body(path: str, message: str) -> bytes:
    """The API's error shape (`detail`); OpenAI clients on /v1 also get theirs (`error`)."""
    body: dict[str, object] = {"detail": message}
    if path.startswith(OPENAI_PREFIX):
        body["error"] = {
            "message": message,
            "type": "rate_limit_exceeded",
            "code": "rate_limit_exceeded",
        }
    return json.dumps(body).encode()


class RateLimitMiddleware:
    def __init__(
        self, app: ASGIApp, *, limiter: RateLimiter, tenants: TenantResolver, router: Router
    ) -> None:
        self._app = app
        self._limiter = limiter
        self._tenants = tenants
        self._router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = limit_kind(scope["path"]) if scope["type"] == "http" else None
        if kind is None or not self._limiter.limits(kind):
            await self._app(scope, receive, send)
            return
        try:
            caller = await self._tenants.caller_of(scope)
        except AuthenticationError:
            await self._app(scope, receive, send)  # the route answers 401 (the error is remembered)
            return
        retry_after = await self._limiter.check(kind, caller.tenant, caller.user)
        if retry_after is None:
            await self._app(scope, receive, send)
            return
        self._label_route(scope)
        noun = "questions" if kind == QUESTIONS else "requests"
        message = (
            f"too many {noun}: the limit is {self._limiter.describe(kind)} per user; "
            f"retry in {retry_after} s"
        )
        body = refusal_body(scope["path"], message)
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(retry_after).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _label_route(self, scope: Scope) -> None:
        """Request metrics count refusals under the route they were meant for, as if it had
        answered."""
        for route in _leaf_routes(self._router.routes):
            if route.matches(scope)[0] is Match.FULL:
                scope["route"] = route
                return


def _leaf_routes(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    # FastAPI keeps an included router as one entry that dispatches to its own routes.
    for route in routes:
        inner = getattr(route, "original_router", None)
        yield from _leaf_routes(inner.routes) if inner is not None else (route,)
