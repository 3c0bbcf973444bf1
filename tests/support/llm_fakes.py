"""Local stand-ins for the OpenAI and Bedrock HTTP APIs, on 127.0.0.1.

They speak the real wire protocols so that the official SDKs run their real code
paths (request building, retries, SSE and AWS event-stream parsing, error mapping):

* OpenAI: POST /v1/chat/completions (streamed as server-sent events, the last chunk
  carrying the usage when `stream_options.include_usage`; or one JSON body) and
  POST /v1/embeddings (float lists, or base64 float32 as the SDK asks by default).
* Bedrock runtime: POST /model/{modelId}/converse-stream (the AWS event-stream binary
  framing: prelude, headers, payload, CRC32s) and POST /model/{modelId}/converse.

Failure modes are scripted per request with `fail(...)`: "500", "429", "hang" (no
response until `hang_seconds` pass or the server stops) and "midstream" (some text,
then a stream error). With `answer_delay_seconds`, OpenAI chat answers come that late, and
the server counts the calls it answered (`completed`) and those whose client closed the
connection while it waited (`abandoned`). The stdlib server runs in a daemon thread: no extra
packages.
"""

from __future__ import annotations

import base64
import json
import select
import socket
import struct
import threading
import time
import zlib
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

DEFAULT_PIECES = ("The PIs sign ", "DEA form 225 ", "[1].")
MODES = ("ok", "500", "429", "hang", "midstream")


@dataclass(frozen=True)
class Recorded:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]


def fake_vector(text: str, dimensions: int) -> list[float]:
    """Deterministic per text, so tests can check each vector landed in its text's slot."""
    seed = zlib.crc32(text.encode())
    return [((seed >> (i % 24)) % 1000) / 1000.0 for i in range(dimensions)]


# --- AWS event-stream framing ----------------------------------------------------------


def encode_headers(headers: dict[str, str]) -> bytes:
    out = b""
    for name, value in headers.items():
        raw_name, raw_value = name.encode(), value.encode()
        # name length (1 byte), name, value type 7 = string, value length (2 bytes), value
        out += (
            struct.pack(">B", len(raw_name))
            + raw_name
            + b"\x07"
            + struct.pack(">H", len(raw_value))
            + raw_value
        )
    return out


def encode_frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message: total length, headers length, prelude CRC32,
    headers, payload, message CRC32 (over everything before it)."""
    raw_headers = encode_headers(headers)
    prelude = struct.pack(">II", 12 + len(raw_headers) + len(payload) + 4, len(raw_headers))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + raw_headers + payload
    return message + struct.pack(">I", zlib.crc32(message))


def event_frame(event_type: str, body: dict[str, Any]) -> bytes:
    return encode_frame(
        {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"},
        json.dumps(body).encode(),
    )


def exception_frame(exception_type: str, message: str) -> bytes:
    return encode_frame(
        {
            ":exception-type": exception_type,
            ":content-type": "application/json",
            ":message-type": "exception",
        },
        json.dumps({"message": message}).encode(),
    )


# --- the server ------------------------------------------------------------------------


class FakeLLMServer:
    def __init__(
        self,
        *,
        pieces: tuple[str, ...] = DEFAULT_PIECES,
        hang_seconds: float = 10.0,
        answer_delay_seconds: float = 0.0,
    ) -> None:
        self.pieces = pieces
        self.hang_seconds = hang_seconds
        self.answer_delay_seconds = answer_delay_seconds
        self.completed = 0
        self.abandoned = 0
        self.requests: list[Recorded] = []
        self._modes: deque[str] = deque()
        self._default_mode = "ok"
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False  # a "hang" handler must not hold up stop()
        # A short poll interval: stop() waits at most this long for the serving loop.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-llm",
            daemon=True,
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeLLMServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail(self, *modes: str, always: str | None = None) -> None:
        """The next requests answer with `modes` in turn; then `always` (or "ok")."""
        assert all(m in MODES for m in (*modes, always or "ok")), modes
        with self._lock:
            self._modes.extend(modes)
            if always is not None:
                self._default_mode = always

    def requests_to(self, suffix: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith(suffix)]

    def _next(self, recorded: Recorded) -> str:
        with self._lock:
            self.requests.append(recorded)
            return self._modes.popleft() if self._modes else self._default_mode

    def _hang(self) -> None:
        self._stopping.wait(self.hang_seconds)

    def _count(self, *, completed: bool) -> None:
        with self._lock:
            if completed:
                self.completed += 1
            else:
                self.abandoned += 1

    def counts(self) -> tuple[int, int]:
        """(completed, abandoned) chat calls of a server with `answer_delay_seconds`."""
        with self._lock:
            return self.completed, self.abandoned


def closed_within(connection: socket.socket, seconds: float) -> bool:
    """Whether the client closes `connection` within `seconds` (it sends nothing more: an HTTP/1.0
    request is whole, so readable means end of file)."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select([connection], [], [], min(left, 0.05))
        if readable:
            try:
                return connection.recv(1, socket.MSG_PEEK) == b""
            except OSError:  # reset by the client
                return True
    return False


def _handler_for(fake: FakeLLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.0: the body ends when the connection closes, so streams need no
        # chunked encoding and every request gets a fresh connection.
        protocol_version = "HTTP/1.0"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else {}
            path = unquote(self.path)
            mode = fake._next(Recorded(path, body, {k.lower(): v for k, v in self.headers.items()}))
            try:
                if mode == "hang":
                    fake._hang()
                    return
                if path == "/v1/chat/completions" and fake.answer_delay_seconds:
                    if closed_within(self.connection, fake.answer_delay_seconds):
                        fake._count(completed=False)
                        return
                    self._openai_chat(body, mode)
                    self.wfile.flush()
                    fake._count(completed=True)
                elif path == "/v1/chat/completions":
                    self._openai_chat(body, mode)
                elif path == "/v1/embeddings":
                    self._openai_embeddings(body, mode)
                elif path.startswith("/model/") and path.endswith("/converse-stream"):
                    self._bedrock_stream(path.split("/")[2], mode)
                elif path.startswith("/model/") and path.endswith("/converse"):
                    self._bedrock_converse(path.split("/")[2], mode)
                else:
                    self._json(
                        404,
                        {"error": {"message": f"no route {path}", "type": "invalid_request_error"}},
                    )
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its timeout): nothing to answer

        # -- OpenAI --
        def _openai_error(self, mode: str) -> bool:
            if mode == "500":
                self._json(
                    500,
                    {
                        "error": {
                            "message": "fake outage",
                            "type": "server_error",
                            "param": None,
                            "code": None,
                        }
                    },
                    {"retry-after-ms": "10"},
                )
                return True
            if mode == "429":
                self._json(
                    429,
                    {
                        "error": {
                            "message": "fake rate limit",
                            "type": "requests",
                            "param": None,
                            "code": "rate_limit_exceeded",
                        }
                    },
                    {"retry-after-ms": "10"},
                )
                return True
            return False

        def _openai_chat(self, body: dict[str, Any], mode: str) -> None:
            if self._openai_error(mode):
                return
            model = str(body.get("model"))
            prompt_tokens = sum(
                len(str(m.get("content", "")).split()) for m in body.get("messages", [])
            )
            pieces = fake.pieces[:1] if mode == "midstream" else fake.pieces
            usage = {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": len(pieces),
                "total_tokens": prompt_tokens + len(pieces),
            }
            base = {
                "id": "chatcmpl-fake",
                "created": int(time.time()),
                "model": f"{model}-2024-07-18",
                "system_fingerprint": "fp_fake",
            }
            if not body.get("stream"):
                self._json(
                    200,
                    {
                        **base,
                        "object": "chat.completion",
                        "usage": usage,
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": "".join(pieces)},
                                "finish_reason": "stop",
                                "logprobs": None,
                            }
                        ],
                    },
                )
                return
            self._start(200, "text/event-stream")
            chunk = {**base, "object": "chat.completion.chunk"}
            self._sse(
                {
                    **chunk,
                    "choices": [
                        {
                            "index": 0,
                            "delta": {"role": "assistant", "content": ""},
                            "finish_reason": None,
                        }
                    ],
                }
            )
            for piece in pieces:
                self._sse(
                    {
                        **chunk,
                        "choices": [
                            {"index": 0, "delta": {"content": piece}, "finish_reason": None}
                        ],
                    }
                )
            if mode == "midstream":
                # How the API reports a failure after the stream started: an error event.
                self._sse({"error": {"message": "fake failure mid-stream", "type": "server_error"}})
                return
            self._sse({**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            if (body.get("stream_options") or {}).get("include_usage"):
                self._sse({**chunk, "choices": [], "usage": usage})
            self.wfile.write(b"data: [DONE]\n\n")

        def _openai_embeddings(self, body: dict[str, Any], mode: str) -> None:
            if self._openai_error(mode):
                return
            inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
            dimensions = int(body.get("dimensions") or 1536)
            data = []
            for i, text in enumerate(inputs):
                vector = fake_vector(str(text), dimensions)
                embedding: Any = vector
                if body.get("encoding_format") == "base64":
                    embedding = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
                data.append({"object": "embedding", "index": i, "embedding": embedding})
            data.reverse()  # the API does not promise order; the adapter must sort by index
            tokens = sum(len(str(t).split()) for t in inputs)
            self._json(
                200,
                {
                    "object": "list",
                    "data": data,
                    "model": body["model"],
                    "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
                },
            )

        # -- Bedrock --
        def _bedrock_error(self, mode: str) -> bool:
            if mode in ("500", "429"):
                code = "InternalServerException" if mode == "500" else "ThrottlingException"
                self._json(
                    int(mode),
                    {"message": f"fake {code}"},
                    {"x-amzn-ErrorType": f"{code}:http://internal.amazon.com/"},
                )
                return True
            return False

        def _bedrock_stream(self, model_id: str, mode: str) -> None:
            if self._bedrock_error(mode):
                return
            pieces = fake.pieces[:1] if mode == "midstream" else fake.pieces
            self._start(200, "application/vnd.amazon.eventstream")
            self._frame(event_frame("messageStart", {"role": "assistant"}))
            for piece in pieces:
                self._frame(
                    event_frame(
                        "contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": piece}}
                    )
                )
            if mode == "midstream":
                self._frame(exception_frame("modelStreamErrorException", "fake failure mid-stream"))
                return
            self._frame(event_frame("contentBlockStop", {"contentBlockIndex": 0}))
            self._frame(event_frame("messageStop", {"stopReason": "end_turn"}))
            self._frame(
                event_frame(
                    "metadata",
                    {
                        "usage": {
                            "inputTokens": 42,
                            "outputTokens": len(pieces),
                            "totalTokens": 42 + len(pieces),
                        },
                        "metrics": {"latencyMs": 5},
                    },
                )
            )

        def _bedrock_converse(self, model_id: str, mode: str) -> None:
            if self._bedrock_error(mode):
                return
            self._json(
                200,
                {
                    "output": {
                        "message": {
                            "role": "assistant",
                            "content": [{"text": "".join(fake.pieces)}],
                        }
                    },
                    "stopReason": "end_turn",
                    "usage": {"inputTokens": 42, "outputTokens": 3, "totalTokens": 45},
                    "metrics": {"latencyMs": 5},
                },
            )

        # -- plumbing --
        def _start(
            self, status: int, content_type: str, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("x-amzn-requestid", "fake-request")
            for name, value in (headers or {}).items():
                self.send_header(name, value)

        def _json(
            self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
        ) -> None:
            raw = json.dumps(body).encode()
            self._start(status, "application/json", headers)
            self.send_header("content-length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _sse(self, data: dict[str, Any]) -> None:
            self._flush_headers_once()
            self.wfile.write(b"data: " + json.dumps(data).encode() + b"\n\n")
            self.wfile.flush()

        def _frame(self, frame: bytes) -> None:
            self._flush_headers_once()
            self.wfile.write(frame)
            self.wfile.flush()

        def _flush_headers_once(self) -> None:
            if not getattr(self, "_headers_sent", False):
                self.end_headers()
                self._headers_sent = True

    return Handler
