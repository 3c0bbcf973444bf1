"""Spans at the port boundaries: each port's adapter wrapped in a class that adds one span per call.

Wrapped only when tracing is on (ragops_wiring/adapters.py), so the request path is
untouched when it is off. A call makes a span only inside a trace (an HTTP request, a
document being ingested): background calls such as readiness probes start no trace of
their own.
Each span carries the tenant (and the document and job in the worker) of the current
request context, plus the OpenTelemetry semantic-convention attributes of its system
(`db.system.name`, `messaging.system`, `rpc.service`/`rpc.method` for AWS, `gen_ai.*`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

from ragops_core.domain import SearchHit, StoredChunk
from ragops_core.ports import (
    Cache,
    ChatModel,
    Embedder,
    ObjectStore,
    Queue,
    QueueMessage,
    SearchRequest,
    VectorStore,
)
from ragops_core.pricing import cost_usd
from ragops_core.tracing import child_span, context_attributes, in_trace


class _Delegating:
    """Anything the port does not name (close, an adapter's extras) goes to the adapter itself."""

    def __getattr__(self, name: str) -> Any:
        inner = self.__dict__.get("_inner")
        if inner is None:
            raise AttributeError(name)
        return getattr(inner, name)


def cache_kind(key: str) -> str:
    """`answer` or `embedding` from a cache key (`ragops:v2:answer:...`), else `other`."""
    parts = key.split(":", 3)
    return parts[2] if len(parts) > 3 and parts[0] == "ragops" else "other"


class TracedCache(_Delegating):
    def __init__(self, inner: Cache, tracer: Tracer, *, attributes: Mapping[str, Any]) -> None:
        self._inner = inner
        self._tracer = tracer
        self._attributes = dict(attributes)

    async def get(self, key: str) -> bytes | None:
        with child_span(
            self._tracer,
            "cache.get",
            {**self._attributes, "ragops.cache.kind": cache_kind(key)},
            kind=SpanKind.CLIENT,
        ) as span:
            value = await self._inner.get(key)
            if span is not None:
                span.set_attribute("ragops.cache.hit", value is not None)
            return value

    async def set(
        self, key: str, value: bytes, *, ttl_seconds: int, tags: Sequence[str] = ()
    ) -> None:
        with child_span(
            self._tracer,
            "cache.set",
            {
                **self._attributes,
                "ragops.cache.kind": cache_kind(key),
                "ragops.cache.ttl_seconds": ttl_seconds,
            },
            kind=SpanKind.CLIENT,
        ):
            await self._inner.set(key, value, ttl_seconds=ttl_seconds, tags=tags)

    async def invalidate_tags(self, tags: Sequence[str]) -> int:
        with child_span(
            self._tracer,
            "cache.invalidate",
            {**self._attributes, "ragops.cache.tags": len(tags)},
            kind=SpanKind.CLIENT,
        ) as span:
            dropped = await self._inner.invalidate_tags(tags)
            if span is not None:
                span.set_attribute("ragops.cache.dropped", dropped)
            return dropped


class TracedEmbedder(_Delegating):
    def __init__(self, inner: Embedder, tracer: Tracer) -> None:
        self._inner = inner
        self._tracer = tracer

    @property
    def model_id(self) -> str:
        return self._inner.model_id

    @property
    def dimensions(self) -> int:
        return self._inner.dimensions

    @property
    def max_tokens(self) -> int:
        return self._inner.max_tokens

    def _attributes(self) -> dict[str, Any]:
        return {"gen_ai.operation.name": "embeddings", "gen_ai.request.model": self._inner.model_id}

    async def embed_query(self, text: str) -> list[float]:
        with child_span(self._tracer, "embedding.query", self._attributes()):
            return await self._inner.embed_query(text)

    async def embed_documents(self, texts: Sequence[str]) -> list[list[list[float]]]:
        with child_span(
            self._tracer, "embedding.documents", {**self._attributes(), "ragops.texts": len(texts)}
        ) as span:
            vectors = await self._inner.embed_documents(texts)
            if span is not None:
                span.set_attribute("ragops.vectors", sum(len(v) for v in vectors))
            return vectors


class TracedVectorStore(_Delegating):
    _ATTRIBUTES = {"db.system.name": "qdrant"}

    def __init__(self, inner: VectorStore, tracer: Tracer) -> None:
        self._inner = inner
        self._tracer = tracer

    async def search(self, request: SearchRequest) -> list[SearchHit]:
        with child_span(
            self._tracer,
            "vector_store.search",
            {
                **self._ATTRIBUTES,
                "ragops.tenant": request.tenant,
                "ragops.search.mode": request.mode,
                "ragops.search.limit": request.limit,
            },
            kind=SpanKind.CLIENT,
        ) as span:
            hits = await self._inner.search(request)
            if span is not None:
                span.set_attribute("ragops.search.hits", len(hits))
            return hits

    async def upsert(
        self, chunks: Sequence[StoredChunk], vectors: Sequence[list[list[float]]]
    ) -> None:
        with child_span(
            self._tracer,
            "vector_store.upsert",
            {**self._ATTRIBUTES, "ragops.points": len(chunks)},
            kind=SpanKind.CLIENT,
        ):
            await self._inner.upsert(chunks, vectors)

    async def delete_document(self, tenant: str, document_id: str, *, from_chunk: int = 0) -> None:
        with child_span(
            self._tracer,
            "vector_store.delete",
            {
                **self._ATTRIBUTES,
                "ragops.tenant": tenant,
                "ragops.document_id": document_id,
                "ragops.from_chunk": from_chunk,
            },
            kind=SpanKind.CLIENT,
        ):
            await self._inner.delete_document(tenant, document_id, from_chunk=from_chunk)

    async def count(self, tenant: str | None = None) -> int:
        return await self._inner.count(tenant)

    async def optimize(self) -> None:
        await self._inner.optimize()

    async def close(self) -> None:
        await self._inner.close()


class TracedObjectStore(_Delegating):
    """`attributes` describe the backend; `methods` name its API call per operation (S3's
    PutObject…)."""

    def __init__(
        self,
        inner: ObjectStore,
        tracer: Tracer,
        *,
        attributes: Mapping[str, Any],
        methods: Mapping[str, str] | None = None,
    ) -> None:
        self._inner = inner
        self._tracer = tracer
        self._attributes = dict(attributes)
        self._methods = dict(methods or {})

    def _span(self, operation: str, key: str, extra: Mapping[str, Any] | None = None) -> Any:
        attributes = {**self._attributes, "ragops.object.key": key, **(extra or {})}
        if operation in self._methods:
            attributes["rpc.method"] = self._methods[operation]
        return child_span(
            self._tracer, f"object_store.{operation}", attributes, kind=SpanKind.CLIENT
        )

    async def put(self, key: str, data: bytes) -> None:
        with self._span("put", key, {"ragops.object.bytes": len(data)}):
            await self._inner.put(key, data)

    async def get(self, key: str) -> bytes:
        with self._span("get", key) as span:
            data = await self._inner.get(key)
            if span is not None:
                span.set_attribute("ragops.object.bytes", len(data))
            return data

    async def delete(self, key: str) -> None:
        with self._span("delete", key):
            await self._inner.delete(key)


# The W3C trace context travels in the message body under these keys (the worker reads them).
TRACE_KEYS = ("traceparent", "tracestate")


class TracedQueue(_Delegating):
    """Sends carry the sending span's context in the body, so a document's ingestion continues
    the upload's trace. Receives are traced by the worker itself (it knows only afterwards
    whether a poll brought a message)."""

    def __init__(
        self,
        inner: Queue,
        tracer: Tracer,
        *,
        attributes: Mapping[str, Any],
        methods: Mapping[str, str] | None = None,
    ) -> None:
        self._inner = inner
        self._tracer = tracer
        self.attributes = dict(attributes)
        self._methods = dict(methods or {})

    def _span(
        self,
        operation: str,
        extra: Mapping[str, Any] | None = None,
        *,
        kind: SpanKind = SpanKind.CLIENT,
    ) -> Any:
        attributes = {**self.attributes, "messaging.operation.name": operation, **(extra or {})}
        if operation in self._methods:
            attributes["rpc.method"] = self._methods[operation]
        return child_span(self._tracer, f"queue.{operation}", attributes, kind=kind)

    async def send(self, body: dict[str, object]) -> None:
        with self._span(
            "send", {"messaging.operation.type": "send"}, kind=SpanKind.PRODUCER
        ) as span:
            if span is not None:
                carrier: dict[str, str] = {}
                propagate.inject(carrier)
                body = {**body, **{key: carrier[key] for key in TRACE_KEYS if key in carrier}}
            await self._inner.send(body)

    async def receive(self, *, wait_seconds: float, visibility_seconds: int) -> QueueMessage | None:
        return await self._inner.receive(
            wait_seconds=wait_seconds, visibility_seconds=visibility_seconds
        )

    async def extend(self, message: QueueMessage, *, visibility_seconds: int) -> None:
        with self._span("extend", {"ragops.visibility_seconds": visibility_seconds}):
            await self._inner.extend(message, visibility_seconds=visibility_seconds)

    async def ack(self, message: QueueMessage) -> None:
        with self._span("ack", {"messaging.operation.type": "settle"}):
            await self._inner.ack(message)

    async def release(self, message: QueueMessage) -> None:
        with self._span("release", {"messaging.operation.type": "settle"}):
            await self._inner.release(message)

    async def dead_letter_after(self) -> int | None:
        return await self._inner.dead_letter_after()

    async def depth(self) -> int:
        return await self._inner.depth()


class TracedChatModel(_Delegating):
    """One span per model attempt (`chat {model}`), so fallbacks show as failed siblings.

    The span is made current only around each step of the model's stream, never across a
    `yield`: the consumer may resume a generator from another task, and a context attached
    in one task cannot be detached in another. Token counts arrive through the usage
    recorder while the span is current (`TracingUsage`)."""

    def __init__(self, inner: ChatModel, tracer: Tracer, *, provider: str) -> None:
        self._inner = inner
        self._tracer = tracer
        self._provider = provider

    @property
    def name(self) -> str:
        return self._inner.name

    async def stream_answer(self, query: str, hits: Sequence[SearchHit]) -> AsyncIterator[str]:
        stream = self._inner.stream_answer(query, hits).__aiter__()
        if not in_trace():
            async for piece in stream:
                yield piece
            return
        model = self._inner.name.split(":", 1)[
            -1
        ]  # "openai:gpt-4o-mini" -> the provider's own model name
        span = self._tracer.start_span(
            f"chat {model}",
            kind=SpanKind.CLIENT,
            attributes={
                **context_attributes(),
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": self._provider,
                "gen_ai.request.model": model,
                "ragops.model": self._inner.name,
                "ragops.sources": len(hits),
            },
        )
        current = trace.set_span_in_context(span)
        pieces = 0
        try:
            while True:
                token = otel_context.attach(current)
                try:
                    piece = await anext(stream)
                except StopAsyncIteration:
                    break
                finally:
                    otel_context.detach(token)
                pieces += 1
                yield piece
        except Exception as exc:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
            raise
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(
                    Exception
                ):  # the chain closes (and logs) the model's stream too
                    await aclose()
            span.set_attribute("ragops.deltas", pieces)
            span.end()


class TracingUsage:
    """The usage recorder of the language models, plus the tokens and dollars on the current
    span."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def record(self, model: str, prompt_tokens: int, completion_tokens: int) -> None:
        self._inner.record(model, prompt_tokens, completion_tokens)
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attribute("gen_ai.response.model", model)
            span.set_attribute("gen_ai.usage.input_tokens", prompt_tokens)
            span.set_attribute("gen_ai.usage.output_tokens", completion_tokens)
            cost = cost_usd(model, prompt_tokens, completion_tokens)
            if cost is not None:
                span.set_attribute("ragops.llm.cost_usd", cost)

    def fallback(self, from_model: str, to_model: str, reason: str) -> None:
        self._inner.fallback(from_model, to_model, reason)

    def interrupted(self, model: str, reason: str) -> None:
        self._inner.interrupted(model, reason)
