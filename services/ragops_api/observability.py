"""Request metrics and request identity as one plain ASGI middleware (no per-request task or body
copying).

Per HTTP request it
- takes the caller's `X-Request-ID` when acceptable (`request_context.REQUEST_ID_PATTERN`)
  or makes one, returns it in the response's `X-Request-ID` header, and binds a
  `RequestContext` that puts it (and the tenant and user, once resolved) on every log line;
- counts the request and observes its latency by route and status;
- counts its user among the active users;
- with tracing on, tags FastAPI's server span with the request id (the tenant follows
  when it is resolved), and logs an unhandled exception with the request's context.

One middleware rather than three: on the cache-hit path each ASGI layer and `send`
wrapper is a measurable share of a request.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from opentelemetry import trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ragops_core import request_context
from ragops_core.metrics import Metrics
from ragops_core.request_context import RequestContext

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = b"x-request-id"


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics, *, traced: bool = False) -> None:
        self._app = app
        self._metrics = metrics
        self._traced = traced

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        context = RequestContext(
            request_id=request_context.request_id_from(_header(scope, REQUEST_ID_HEADER))
        )
        if self._traced:
            span = trace.get_current_span()
            if span.is_recording():
                context.span = span
                span.set_attribute("ragops.request_id", context.request_id)
        request_id = (REQUEST_ID_HEADER, context.request_id.encode())

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), request_id]
            await send(message)

        with request_context.bound(context):
            try:
                await self._app(scope, receive, send_wrapper)
            except Exception:
                log.exception(
                    "Request failed",
                    extra={"method": scope.get("method", ""), "path": scope.get("path", "")},
                )
                raise
            finally:
                route: Any = scope.get("route")
                path = getattr(route, "path", None) or "unmatched"
                method = scope.get("method", "")
                self._metrics.http_latency.labels(method, path).observe(
                    time.perf_counter() - started
                )
                self._metrics.http_requests.labels(method, path, str(status)).inc()
                if context.user:
                    self._metrics.active_users.seen(context.user)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            try:
                return str(value.decode("ascii"))
            except UnicodeDecodeError:
                return None
    return None
