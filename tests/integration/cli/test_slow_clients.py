"""Slow-loris against a real `ragops serve`: connections that send their request a byte a second
(headers or body), or nothing at all, are closed by the read timeouts; others are served."""

from __future__ import annotations

import select
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.support.processes import Server

TIMEOUT_SECONDS = 3
# The deadline plus room for a CPU shared with other tests; without the timeouts uvicorn kept
# every such connection open for as long as the client wished (the test waits 20 s).
CLOSED_WITHIN_SECONDS = TIMEOUT_SECONDS + 4
OBSERVED_SECONDS = 20

SLOW_HEADERS = b"GET /healthz HTTP/1.1\r\nHost: ragops\r\nX-Padding: " + b"p" * 200
SLOW_BODY_HEAD = (
    b"POST /api/ask HTTP/1.1\r\nHost: ragops\r\nContent-Type: application/json\r\n"
    b"Content-Length: 1000\r\n\r\n"
)


def _connect(port: int, first: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    if first:
        sock.sendall(first)
    sock.setblocking(False)
    return sock


def _closed_by_server(sock: socket.socket) -> bool:
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(65536) == b""
    except (ConnectionResetError, BlockingIOError):
        return True


def test_slow_connections_are_closed_while_others_are_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAGOPS_HTTP_HEADER_TIMEOUT_SECONDS", str(TIMEOUT_SECONDS))
    monkeypatch.setenv("RAGOPS_HTTP_BODY_TIMEOUT_SECONDS", str(TIMEOUT_SECONDS))
    server = Server(tmp_path / "data", tmp_path / "serve.log")
    try:
        opened = time.monotonic()
        # 50 sending headers a byte a second, 10 a body a byte a second, 5 sending nothing.
        slow: dict[socket.socket, bytes] = {
            **{_connect(server.port, SLOW_HEADERS[:1]): SLOW_HEADERS[1:] for _ in range(50)},
            **{_connect(server.port, SLOW_BODY_HEAD): b"x" * 1000 for _ in range(10)},
            **{_connect(server.port, b""): b"" for _ in range(5)},
        }
        closed_after: dict[socket.socket, float] = {}
        served = False
        while len(closed_after) < len(slow) and time.monotonic() - opened < OBSERVED_SECONDS:
            for sock, rest in slow.items():
                if sock in closed_after:
                    continue
                if _closed_by_server(sock):
                    closed_after[sock] = time.monotonic() - opened
                    continue
                if rest:
                    try:
                        sock.send(rest[:1])
                        slow[sock] = rest[1:]
                    except (BrokenPipeError, ConnectionResetError):
                        closed_after[sock] = time.monotonic() - opened
            if not served:
                # A normal request while all 65 slow ones are open.
                assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200
                served = True
            time.sleep(1)
        assert served
        assert len(closed_after) == len(slow), (
            f"{len(slow) - len(closed_after)} of {len(slow)} slow connections still open after "
            f"{OBSERVED_SECONDS} s"
        )
        assert max(closed_after.values()) <= CLOSED_WITHIN_SECONDS, sorted(closed_after.values())
        assert min(closed_after.values()) >= TIMEOUT_SECONDS - 0.5, "closed before the deadline"
        assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200
        for sock in slow:
            sock.close()
    finally:
        server.stop()
