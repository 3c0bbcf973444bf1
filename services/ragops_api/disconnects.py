"""Whole (non-streamed) answers stop their work when the client goes away.

A streamed answer is cancelled by its response when the client disconnects; a whole one
is computed before anything is sent, so without this its model call would run to the end
for nobody (50 dropped clients = 50 full model calls, billed and holding capacity).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
from fastapi import Request, Response

T = TypeVar("T")

# nginx's "client closed request": what the request metrics record for an abandoned answer
# (the client never sees it).
CLIENT_CLOSED_REQUEST = 499


async def _until_disconnected(request: Request) -> None:
    # The body has been read by the time a route runs, so the next ASGI message is the
    # disconnect (servers send it when the client closes, or once the response is sent).
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def unless_disconnected(request: Request, work: Callable[[], Awaitable[T]]) -> T | None:
    """`work()`, cancelled as soon as the client disconnects (then None)."""
    result: list[T] = []
    async with anyio.create_task_group() as group:

        async def watch() -> None:
            await _until_disconnected(request)
            group.cancel_scope.cancel()

        group.start_soon(watch)
        result.append(await work())
        group.cancel_scope.cancel()
    return result[0] if result else None


def closed_request() -> Response:
    """The response to a client that left: nobody reads it, the request metrics count it."""
    return Response(status_code=CLIENT_CLOSED_REQUEST)
