"""A local OTLP/HTTP trace receiver: what a collector sees, decoded with opentelemetry-proto.

The services export with the real OTLP exporter (protobuf over HTTP POST to /v1/traces);
this server accepts those requests on 127.0.0.1 and keeps every span, flattened with its
resource's service name, for the tests to assert on.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan

WAIT_SECONDS = 30.0


@dataclass(frozen=True)
class ReceivedSpan:
    name: str
    service: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: str  # "SERVER", "CLIENT", "INTERNAL", "PRODUCER", "CONSUMER"
    attributes: dict[str, Any]
    status: str  # "UNSET", "OK", "ERROR"
    start_ns: int
    end_ns: int
    events: tuple[str, ...] = field(default=())


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    return getattr(value, kind) if kind else None


def _decode(payload: bytes) -> list[ReceivedSpan]:
    request = ExportTraceServiceRequest()
    request.ParseFromString(payload)
    spans: list[ReceivedSpan] = []
    for resource_spans in request.resource_spans:
        resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    ReceivedSpan(
                        name=span.name,
                        service=str(resource.get("service.name", "")),
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(),
                        kind=ProtoSpan.SpanKind.Name(span.kind).removeprefix("SPAN_KIND_"),
                        attributes={a.key: _value(a.value) for a in span.attributes},
                        status=("UNSET", "OK", "ERROR")[span.status.code],
                        start_ns=span.start_time_unix_nano,
                        end_ns=span.end_time_unix_nano,
                        events=tuple(e.name for e in span.events),
                    )
                )
    return spans


class OtlpReceiver:
    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self.requests = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                payload = self.rfile.read(int(self.headers.get("content-length", "0")))
                if self.headers.get("content-encoding") == "gzip":
                    payload = gzip.decompress(payload)
                if (
                    self.path != "/v1/traces"
                    or self.headers.get("content-type") != "application/x-protobuf"
                ):
                    self.send_response(404)
                    self.end_headers()
                    return
                decoded = _decode(payload)
                with receiver._lock:
                    receiver.requests += 1
                    receiver.spans.extend(decoded)
                body = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def named(self, name: str, **attributes: Any) -> list[ReceivedSpan]:
        with self._lock:
            return [
                s
                for s in self.spans
                if s.name == name and all(s.attributes.get(k) == v for k, v in attributes.items())
            ]

    def children(self, parent: ReceivedSpan) -> list[ReceivedSpan]:
        with self._lock:
            return [
                s
                for s in self.spans
                if s.parent_span_id == parent.span_id and s.trace_id == parent.trace_id
            ]

    def wait_for(
        self, found: Callable[[], list[ReceivedSpan]], what: str, timeout: float = WAIT_SECONDS
    ) -> list[ReceivedSpan]:
        """`found()` once it is not empty; fails listing the span names received so far."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if spans := found():
                return spans
            time.sleep(0.05)
        with self._lock:
            names = sorted({f"{s.service}:{s.name}" for s in self.spans})
        raise AssertionError(f"no {what} after {timeout}s; received: {names}")
