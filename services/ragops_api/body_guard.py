"""Request bodies refused before they cost anything: too large (413), unauthenticated (401),
or JSON that is not text (422).

The outermost guard after metrics. In order, for a request that carries a body:
1. a declared Content-Length over the JSON limit is answered 413 unread (the upload keeps its
   own, larger limit, checked by its route, documents.py);
2. with authentication on, the token is checked from the headers before a byte of the body is
   read (FastAPI reads and parses a body before solving the route's dependencies, so a 300 MB
   body without a token was parsed before its 401);
3. the body is read up to the limit, counted as it streams (a chunked body has no length to
   check), and cut off with 413 past it;
4. JSON escaping a lone surrogate (`"\\ud800"`) is 422: Python decodes it into a string that
   no UTF-8 encoder accepts, which failed deep in the routes with a 500;
then the body is replayed to the app.
"""

from __future__ import annotations

import json
import re

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ragops_api.tenancy import TenantResolver
from ragops_core.errors import AuthenticationError

# Paths whose callers must authenticate (the public ones, /healthz and co., take no body).
_AUTHENTICATED_PREFIXES = ("/api/", "/v1/")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def declared_length(headers: Headers) -> int | None:
    """The Content-Length, if given as a number (pure; the server refused a malformed one)."""
    value = headers.get("content-length", "")
    return int(value) if value.isdigit() else None


def carries_body(headers: Headers) -> bool:
    """Whether the request has a body to read: a non-zero length, or chunked (pure)."""
    return declared_length(headers) not in (None, 0) or "transfer-encoding" in headers


def has_lone_surrogate(body: bytes) -> bool:
    """Whether a JSON body decodes to a string holding an unpaired surrogate (pure).

    Only bodies that escape a surrogate are parsed: a valid pair decodes into one character
    and passes, `\\\\ud800` (an escaped backslash) too; invalid JSON is left to the route.
    """
    if _SURROGATE_ESCAPE.search(body) is None:
        return False
    try:
        parsed = json.loads(body)
    except ValueError:
        return False
    try:
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def too_large_message(limit: int) -> str:
    return f"the request body is over the {limit:,}-byte limit (RAGOPS_MAX_JSON_BODY_BYTES)"


async def _answer(
    send: Send, status: int, body: object, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


# The rest of an oversized body is never read: the connection is not reused for another request.
_CLOSE = [(b"connection", b"close")]


class BodyGuardMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        tenants: TenantResolver,
        own_limit_paths: frozenset[str],
    ) -> None:
        self._app = app
        self._limit = max_body_bytes
        self._tenants = tenants
        self._own_limit_paths = own_limit_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not carries_body(headers):
            await self._app(scope, receive, send)
            return
        path: str = scope["path"]
        own_limit = path in self._own_limit_paths
        declared = declared_length(headers)
        if not own_limit and declared is not None and declared > self._limit:
            await _answer(send, 413, {"detail": too_large_message(self._limit)}, _CLOSE)
            return
        if self._tenants.requires_token and path.startswith(_AUTHENTICATED_PREFIXES):
            try:
                await self._tenants.caller_of(scope)  # remembered for the rate limit and route
            except AuthenticationError as exc:
                auth = [(b"www-authenticate", b'Bearer realm="ragops"')]
                await _answer(send, 401, {"detail": str(exc)}, auth + _CLOSE)
                return
        if own_limit:
            await self._app(scope, receive, send)
            return
        body = await _read_within(receive, self._limit)
        if body is None:
            await _answer(send, 413, {"detail": too_large_message(self._limit)}, _CLOSE)
            return
        if has_lone_surrogate(body):
            error = {
                "type": "string_unicode",
                "loc": ["body"],
                "msg": "the JSON escapes a lone surrogate (\\ud800-\\udfff), which is not text",
            }
            await _answer(send, 422, {"detail": [error]})
            return
        await self._app(scope, _replay(body, receive), send)


async def _read_within(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it passes `limit` bytes (the rest stays unread).

    A disconnect mid-body hands the app what arrived; its next read sees the disconnect."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
