"""OpenTelemetry tracing: off unless an OTLP endpoint is configured, then spans over OTLP/HTTP.

Switched by `RAGOPS_TRACING`: `auto` (the default) traces when the SDK's own variable
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT` is set, `on` traces
to the SDK's default endpoint (http://localhost:4318, a node-local collector) when neither
is, `off` never traces. `OTEL_SDK_DISABLED=true` and `OTEL_TRACES_EXPORTER=none` turn it
off as the SDK defines them. Everything else is the SDK's, read from its standard
variables: `OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES` (default service names:
`ragops`, `ragops-api`, `ragops-worker`), `OTEL_TRACES_SAMPLER(_ARG)`, the exporter's
headers, timeout, compression and certificates, the batch processor's delays.

The tracer provider is the process's own, not the global one: the API hands it to
FastAPI's built-in telemetry (the HTTP server span) and the port wrappers (`traced.py`)
take their tracer from it. Off, no provider exists and nothing wraps the ports: the
request path does no tracing work at all.

This module needs only the OpenTelemetry API (spans, context); the SDK, which makes the
provider and exports, is started by the composition root (ragops_wiring/tracing.py).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Tracer

from ragops_core import request_context
from ragops_core.settings import Settings

log = logging.getLogger(__name__)

_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


def tracing_wanted(settings: Settings, environ: dict[str, str] | None = None) -> bool:
    """Whether this process traces, from RAGOPS_TRACING and the SDK's own switches."""
    env = os.environ if environ is None else environ
    if settings.tracing == "off" or env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if env.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "none":
        return False
    return settings.tracing == "on" or any(
        env.get(name, "").strip() for name in _ENDPOINT_VARIABLES
    )


def context_attributes() -> dict[str, str]:
    """Who a span works for: the current request's or document's tenant, document and job."""
    context = request_context.current()
    if context is None:
        return {}
    found = {
        "ragops.tenant": context.tenant,
        "ragops.document_id": context.document_id,
        "ragops.job_id": context.job_id,
    }
    return {key: value for key, value in found.items() if value}


def in_trace() -> bool:
    """Whether a span is current: port spans are children only, so that background calls
    (readiness probes, the worker's idle queue polls) do not start traces of their own."""
    return trace.get_current_span().get_span_context().is_valid


@contextmanager
def child_span(
    tracer: Tracer | None,
    name: str,
    attributes: dict[str, Any] | None = None,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
) -> Iterator[Span | None]:
    """A current child span of the current span (errors recorded), or nothing outside a trace."""
    if tracer is None or not in_trace():
        with nullcontext():
            yield None
        return
    with tracer.start_as_current_span(
        name, kind=kind, attributes={**context_attributes(), **(attributes or {})}
    ) as span:
        yield span
