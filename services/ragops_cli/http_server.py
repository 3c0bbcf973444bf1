"""uvicorn as `ragops serve` and `ragops api` run it: read timeouts, and trusted proxies only.

uvicorn times out only idle keep-alive connections: a client sending its headers one byte a
second (slow-loris), or none at all, held a connection and its memory forever, and 200 of
them were all kept open. Its `limit_concurrency` would not help: it counts exactly those
connections, so they would turn real requests away with 503. Hence its HTTP protocol
(httptools, the one uvicorn[standard] picks) with two deadlines: the request line and
headers must arrive within one, the body within the other once the headers are in; past
either, the connection is closed. The ASGI app never sees a request whose headers are
incomplete, so this cannot be a middleware.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ragops_core.settings import Settings

log = logging.getLogger(__name__)


def timed_protocol(*, header_seconds: float, body_seconds: float) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol, closing connections that read slower than the deadlines."""

    class TimedHttpToolsProtocol(HttpToolsProtocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm(header_seconds)  # counted from the connection: sending nothing is slow too

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self._deadline is None:  # a later request on a kept-alive connection
                self._arm(header_seconds)

        def on_headers_complete(self) -> None:
            super().on_headers_complete()
            if self.parser.should_upgrade() and self._should_upgrade():
                self._disarm()  # a WebSocket: another protocol takes the connection over
            else:
                self._arm(body_seconds)

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._disarm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self, seconds: float) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(seconds, self._timed_out)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _timed_out(self) -> None:
            self._deadline = None
            # Debug only: a flood of slow clients must not flood the log too.
            log.debug("Closed a connection whose request was read too slowly (%s)", self.client)
            self.transport.close()  # an app reading its body sees a disconnect

    return TimedHttpToolsProtocol


def run(app: ASGIApp, *, host: str, port: int, log_level: str, settings: Settings) -> None:
    """Serve `app` until SIGINT/SIGTERM, with the read and keep-alive timeouts of `settings`."""
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        log_level=log_level,
        access_log=False,
        http=timed_protocol(
            header_seconds=settings.http_header_timeout_seconds,
            body_seconds=settings.http_body_timeout_seconds,
        ),
        timeout_keep_alive=settings.http_keep_alive_seconds,
        **forwarded_options(settings.trusted_proxy_list),
    )


def forwarded_options(trusted_proxies: list[str]) -> dict[str, Any]:
    """uvicorn's options for X-Forwarded-For/-Proto: believed from `trusted_proxies` only. None
    named, the headers are ignored: uvicorn's default (FORWARDED_ALLOW_IPS, else 127.0.0.1)
    let any local peer pick its client address, and so its rate-limit bucket. Pure."""
    if not trusted_proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": list(trusted_proxies)}
