"""The process's tracer provider: the OpenTelemetry SDK and its OTLP/HTTP exporter.

When a process traces is decided in the core (`ragops_core.tracing.tracing_wanted`, with
the variables it reads); the SDK itself is chosen here, like every other vendor library,
so that the core needs only the OpenTelemetry API.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import anyio
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Tracer

from ragops_core.settings import Settings
from ragops_core.tracing import tracing_wanted

log = logging.getLogger(__name__)

INSTRUMENTATION_NAME = "ragops"
_PROTOCOL_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")


@dataclass
class Tracing:
    """The process's tracer provider; `close()` exports what is still buffered."""

    provider: TracerProvider
    tracer: Tracer

    async def close(self) -> None:
        # Blocks on the last export (bounded by the exporter's timeout): off the event loop.
        await anyio.to_thread.run_sync(self.provider.shutdown)


def start_tracing(settings: Settings, *, service_name: str) -> Tracing | None:
    """A tracer provider exporting OTLP/HTTP protobuf in batches, or None when tracing is off."""
    if not tracing_wanted(settings):
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    protocol = next(
        (os.environ[name] for name in _PROTOCOL_VARIABLES if os.environ.get(name)), "http/protobuf"
    )
    if protocol.strip() != "http/protobuf":
        log.warning(
            "Traces are exported as OTLP http/protobuf only; ignored the requested protocol",
            extra={"protocol": protocol},
        )
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: service_name}))
    # The sampler comes from OTEL_TRACES_SAMPLER (parent-based always-on by default).
    provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    exporter = OTLPSpanExporter()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    log.info(
        "Tracing on: spans go to OTLP/HTTP",
        extra={
            "endpoint": getattr(exporter, "_endpoint", ""),
            "service": resource.attributes.get(SERVICE_NAME),
        },
    )
    return Tracing(provider=provider, tracer=provider.get_tracer(INSTRUMENTATION_NAME))
