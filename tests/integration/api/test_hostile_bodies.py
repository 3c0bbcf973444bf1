"""Hostile request bodies: refused before they are read (413, or 401 without a token), never
echoed back, never a 500; the cached-answer fast path answers exactly as the route does.

The raw-socket tests serve the real app over TCP (uvicorn in a thread) and send only the first
bytes of a body that claims to be huge: the answer must come while the client still "owes"
the rest, which is only possible if the server did not wait to read it.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from tests.support.api import POLICY, AppFactory, upload, wait_for_job
from tests.support.jwks import CLIENT_ID, ISSUER, JwksServer
from tests.support.net import free_port

JSON_ROUTES = ["/api/ask", "/api/ask/stream", "/api/feedback", "/v1/chat/completions"]
ANSWER_DEADLINE_SECONDS = 10.0
JSON = {"content-type": "application/json"}


class TcpServer:
    """The app of a TestClient (lifespan already run by it) served by uvicorn on loopback."""

    def __init__(self, client: TestClient) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            client.app, host="127.0.0.1", port=self.port, lifespan="off", log_config=None
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


@pytest.fixture
def serve_tcp() -> Iterator[Any]:
    servers: list[TcpServer] = []

    def start(client: TestClient) -> TcpServer:
        servers.append(TcpServer(client))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def answer_to_partial_body(port: int, head: str, first_bytes: bytes) -> tuple[int, str]:
    """Send the request head and only `first_bytes` of its body; the status and body of the
    answer that comes back without the rest (fails if none comes within the deadline)."""
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_DEADLINE_SECONDS) as sock:
        sock.sendall(head.encode() + first_bytes)
        received = b""
        try:
            while b"\r\n\r\n" not in received or not _complete(received):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        except TimeoutError:
            pytest.fail(f"no answer in {ANSWER_DEADLINE_SECONDS}s: the server waits for the body")
    status_line, _, rest = received.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2].decode()


def _complete(received: bytes) -> bool:
    head, _, body = received.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def _head(path: str, extra: str) -> str:
    return f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n{extra}\r\n"


def test_a_declared_300_mb_json_body_is_413_before_it_is_sent(
    make_client: AppFactory, serve_tcp: Any
) -> None:
    client = make_client()
    server = serve_tcp(client)
    for path in JSON_ROUTES:
        status, body = answer_to_partial_body(
            server.port, _head(path, "Content-Length: 300000000\r\n"), b'{"query": "'
        )
        assert status == 413, (path, body)
        assert json.loads(body) == {
            "detail": "the request body is over the 1,000,000-byte limit "
            "(RAGOPS_MAX_JSON_BODY_BYTES)"
        }
    # The upload keeps its own, larger limit: a 2 MB text file is accepted.
    assert upload(client, "big.txt", b"word " * 400_000)["job_id"]


def test_a_chunked_json_body_is_cut_off_at_the_limit(
    make_client: AppFactory, serve_tcp: Any
) -> None:
    server = serve_tcp(make_client(max_json_body_bytes=10_000))
    piece = b'{"query": "' + b"x" * 4000
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    # Three chunks (12 KB) and no last chunk: the body never ends, the answer comes anyway.
    status, body = answer_to_partial_body(
        server.port, _head("/api/ask", "Transfer-Encoding: chunked\r\n"), chunk * 3
    )
    assert status == 413
    assert "10,000-byte limit" in json.loads(body)["detail"]


def test_without_a_token_a_body_is_refused_before_it_is_read(
    make_client: AppFactory, serve_tcp: Any, jwks: JwksServer
) -> None:
    secured = make_client(auth_jwks_url=jwks.url, auth_issuer=ISSUER, auth_audience=CLIENT_ID)
    server = serve_tcp(secured)
    chunk = b'5\r\n{"que\r\n'  # an unfinished chunked body
    for path in [*JSON_ROUTES, "/api/upload"]:
        status, body = answer_to_partial_body(
            server.port, _head(path, "Transfer-Encoding: chunked\r\n"), chunk
        )
        assert status == 401, (path, body)
        assert "bearer token is required" in json.loads(body)["detail"]
    # Over the limit by its length is 413 whether or not a token is given: nothing is parsed.
    status, _ = answer_to_partial_body(
        server.port, _head("/api/ask", "Content-Length: 300000000\r\n"), b"{"
    )
    assert status == 413
    # With a token, the guarded body reaches the route.
    bearer = {"authorization": f"Bearer {jwks.token('tenant-a')}"}
    answered = secured.post("/api/ask", json={"query": "Who books flights?"}, headers=bearer)
    assert answered.status_code == 200, answered.text


def test_a_lone_surrogate_is_422_on_every_json_route(client: TestClient) -> None:
    body = (
        b'{"query": "\\ud800", "answer_id": "\\ud800x", "rating": "up",'
        b' "messages": [{"role": "user", "content": "why \\udfff"}]}'
    )
    for path in JSON_ROUTES:
        response = client.post(path, content=body, headers={"content-type": "application/json"})
        assert response.status_code == 422, (path, response.text)
        assert response.json()["detail"][0]["type"] == "string_unicode", (path, response.text)
    # A surrogate pair is one character (an emoji), and an escaped backslash is no escape.
    for text in (b"flights \\ud83d\\ude00?", b"flights \\\\ud800?"):
        response = client.post("/api/ask", content=b'{"query": "' + text + b'"}', headers=JSON)
        assert response.status_code == 200, (text, response.text)


MARKER = "ECHO-ME-" * 2000


def test_no_422_echoes_its_input(client: TestClient) -> None:
    invalid: dict[str, Any] = {
        "/api/ask": {"query": MARKER},
        "/api/ask/stream": {"query": "x", "top_k": MARKER},
        "/api/feedback": {"answer_id": MARKER, "rating": MARKER, "comment": MARKER},
        "/v1/chat/completions": {"messages": [{"role": MARKER, "content": MARKER}]},
    }
    for path, body in invalid.items():
        response = client.post(path, json=body)
        assert response.status_code == 422, (path, response.text)
        assert "ECHO-ME" not in response.text, path
        assert len(response.text) < 2000, path
    # A multipart part named `file` without a filename is a field, not a file: 422 without it.
    response = client.post("/api/upload", files={"file": (None, MARKER.encode())})
    assert response.status_code == 422
    assert "ECHO-ME" not in response.text


@pytest.mark.parametrize("content_type", ["text/plain", None])
def test_a_cached_answer_is_not_given_to_a_body_the_route_refuses(
    client: TestClient, content_type: str | None
) -> None:
    wait_for_job(client, upload(client, "policy.md", POLICY.encode())["job_id"])
    question = json.dumps({"query": "Who books flights?"}).encode()
    headers = {"content-type": content_type} if content_type else {}
    refused = client.post("/api/ask", content=question, headers=headers)
    assert refused.status_code == 422, refused.text
    miss = client.post("/api/ask", content=question, headers={"content-type": "application/json"})
    assert miss.status_code == 200
    hit = client.post("/api/ask", content=question, headers={"content-type": "application/json"})
    assert hit.status_code == 200
    after_hit = client.post("/api/ask", content=question, headers=headers)
    assert (after_hit.status_code, after_hit.json()) == (refused.status_code, refused.json())
