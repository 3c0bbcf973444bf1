"""The one place that picks an adapter for each port, from settings alone.

Every port has an embedded adapter (Qdrant Edge, the ONNX MiniLM, the extractive
answerer, an in-process cache, a local directory, SQLite) and production ones (Qdrant
server, OpenAI, Bedrock, Redis, S3, SQS), each production one selected by its own
setting. `build_adapters` makes the whole set a process uses; services.py builds the
core services over it.
"""

from __future__ import annotations

from dataclasses import dataclass

from qdrant_client import AsyncQdrantClient

from ragops_core.adapters.cache.memory import MemoryCache
from ragops_core.adapters.cache.redis import RedisCache
from ragops_core.adapters.catalog.redis import RedisCatalog
from ragops_core.adapters.catalog.sqlite import SqliteCatalog
from ragops_core.adapters.chat_model.bedrock import BedrockChatModel
from ragops_core.adapters.chat_model.extractive import ExtractiveChatModel
from ragops_core.adapters.chat_model.openai import OpenAIChatModel
from ragops_core.adapters.embedder.onnx import OnnxMiniLMEmbedder
from ragops_core.adapters.embedder.openai import OpenAIEmbedder
from ragops_core.adapters.object_store.local import LocalObjectStore
from ragops_core.adapters.object_store.s3 import S3ObjectStore
from ragops_core.adapters.queue.sqlite import SqliteQueue
from ragops_core.adapters.queue.sqs import SqsQueue
from ragops_core.adapters.vector_store.edge import EdgeVectorStore
from ragops_core.adapters.vector_store.qdrant_server import QdrantServerStore
from ragops_core.answer_chain import FallbackChatModel
from ragops_core.llm_metrics import LlmMetrics
from ragops_core.metrics import Metrics
from ragops_core.ports import (
    AnswerChain,
    AnswerLog,
    Cache,
    ChatModel,
    Closeable,
    DocumentStore,
    Embedder,
    JobStore,
    ObjectStore,
    Queue,
    VectorStore,
)
from ragops_core.settings import Settings
from ragops_core.traced import (
    TracedCache,
    TracedChatModel,
    TracedEmbedder,
    TracedObjectStore,
    TracedQueue,
    TracedVectorStore,
    TracingUsage,
)
from ragops_wiring.data_dir import DataDirLock, lock_data_dir
from ragops_wiring.tracing import Tracing, start_tracing


@dataclass
class Adapters:
    embedder: Embedder
    store: VectorStore
    cache: Cache
    objects: ObjectStore
    queue: Queue
    jobs: JobStore
    documents: DocumentStore
    answers: AnswerLog
    chat: AnswerChain
    closers: list[Closeable]
    # The process's tracer provider when tracing is on (tracing.py); the ports above are then
    # traced.
    tracing: Tracing | None = None

    async def close(self) -> None:
        for closer in reversed(self.closers):
            await closer.close()


def build_embedder(settings: Settings, metrics: Metrics | None = None) -> Embedder:
    if settings.embedding_provider == "openai":
        return OpenAIEmbedder(
            settings.embedding_model,
            dimensions=settings.embedding_dimensions,
            timeout=settings.llm_timeout_seconds,
            max_retries=settings.llm_max_retries,
            usage=LlmMetrics(metrics) if metrics else None,
        )
    return OnnxMiniLMEmbedder(
        batch_size=settings.embed_batch_size,
        threads=settings.embed_threads,
        max_windows=settings.dense_max_windows,
    )


def build_chat(
    settings: Settings, metrics: Metrics, tracing: Tracing | None = None
) -> FallbackChatModel:
    """OpenAI, then Bedrock, then the extractive answerer: each only if configured, extractive
    always."""
    recorder: LlmMetrics | TracingUsage = (
        LlmMetrics(metrics) if tracing is None else TracingUsage(LlmMetrics(metrics))
    )
    models: list[ChatModel] = []
    if settings.openai_api_key is not None:
        models.append(
            OpenAIChatModel(
                settings.chat_model,
                api_key=settings.openai_api_key.get_secret_value(),
                timeout=settings.llm_timeout_seconds,
                max_retries=settings.llm_max_retries,
                usage=recorder,
            )
        )
    if settings.bedrock_model_id:
        models.append(
            BedrockChatModel(
                settings.bedrock_model_id,
                region=settings.bedrock_region,
                timeout=settings.llm_timeout_seconds,
                max_retries=settings.llm_max_retries,
                usage=recorder,
            )
        )
    models.append(ExtractiveChatModel())
    if tracing is not None:
        models = [TracedChatModel(m, tracing.tracer, provider=_provider(m)) for m in models]
    return FallbackChatModel(
        *models,
        recorder=recorder,
        first_delta_timeout=settings.llm_first_delta_timeout_seconds if len(models) > 1 else None,
    )


def _provider(model: ChatModel) -> str:
    """`gen_ai.provider.name` of a chat model's spans."""
    if isinstance(model, OpenAIChatModel):
        return "openai"
    if isinstance(model, BedrockChatModel):
        return "aws.bedrock"
    return "ragops.extractive"


def build_cache(settings: Settings, metrics: Metrics) -> Cache:
    if settings.redis_url:
        return RedisCache(
            settings.redis_url, metrics=metrics, timeout_seconds=settings.redis_timeout_seconds
        )
    return MemoryCache(max_entries=settings.cache_max_entries)


def build_object_store(settings: Settings) -> ObjectStore:
    if settings.s3_bucket:
        return S3ObjectStore(
            settings.s3_bucket, prefix=settings.s3_prefix, kms_key_id=settings.s3_kms_key_id
        )
    return LocalObjectStore(settings.objects_dir)


def build_queue(settings: Settings) -> SqliteQueue | SqsQueue:
    if settings.sqs_queue_url:
        return SqsQueue(settings.sqs_queue_url, s3_prefix=settings.s3_prefix)
    return SqliteQueue(settings.queue_path)


def build_catalog(settings: Settings) -> SqliteCatalog | RedisCatalog:
    if settings.catalog_url:
        return RedisCatalog(settings.catalog_url)
    return SqliteCatalog(settings.catalog_path)


def qdrant_client(settings: Settings) -> AsyncQdrantClient:
    return AsyncQdrantClient(
        url=settings.qdrant_url,
        api_key=settings.qdrant_api_key,
        prefer_grpc=settings.qdrant_prefer_grpc,
        grpc_port=settings.qdrant_grpc_port,
    )


def qdrant_server_store(
    settings: Settings, client: AsyncQdrantClient, *, version: str, dimensions: int
) -> QdrantServerStore:
    """The store of one index version, as the pods use it (BM25 length, fusion, shards,
    replicas)."""
    return QdrantServerStore(
        client,
        name=settings.qdrant_collection,
        version=version,
        dimensions=dimensions,
        bm25_avg_words=float(settings.chunk_words),
        fusion=settings.fusion,
        shards=settings.qdrant_shards,
        replication_factor=settings.qdrant_replication_factor,
    )


def build_vector_store(settings: Settings, embedder: Embedder) -> VectorStore:
    if settings.qdrant_url:
        return qdrant_server_store(
            settings,
            qdrant_client(settings),
            version=settings.index_version,
            dimensions=embedder.dimensions,
        )
    return EdgeVectorStore(
        settings.vector_dir,
        dimensions=embedder.dimensions,
        bm25_avg_words=float(settings.chunk_words),
        fusion=settings.fusion,
    )


def build_adapters(
    settings: Settings,
    *,
    metrics: Metrics,
    embedder: Embedder | None = None,
    service_name: str = "ragops",
) -> Adapters:
    """`service_name`: the process's name in traces unless OTEL_SERVICE_NAME names it.

    With the embedded vector store, the data dir is locked first: a process refused with
    StoreBusyError has opened nothing in it."""
    owner = None if settings.qdrant_url else lock_data_dir(settings.data_dir)
    try:
        return _build_adapters(settings, metrics, embedder, service_name, owner)
    except BaseException:
        if owner is not None:
            owner.release()
        raise


def _build_adapters(
    settings: Settings,
    metrics: Metrics,
    embedder: Embedder | None,
    service_name: str,
    owner: DataDirLock | None,
) -> Adapters:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    embedder = embedder or build_embedder(settings, metrics)
    store = build_vector_store(settings, embedder)
    catalog = build_catalog(settings)
    queue = build_queue(settings)
    if owner is not None and isinstance(queue, SqliteQueue):
        # The data dir's lock makes this process its only owner.
        queue.recover_in_flight()
    cache = build_cache(settings, metrics)
    objects = build_object_store(settings)
    tracing = start_tracing(settings, service_name=service_name)
    adapters = Adapters(
        embedder=embedder,
        store=store,
        cache=cache,
        objects=objects,
        queue=queue,
        jobs=catalog.jobs,
        documents=catalog.documents,
        answers=catalog.answers,
        chat=build_chat(settings, metrics, tracing),
        # Tracing first: closed last, it exports the spans of everything closed before it;
        # the data dir's lock goes only after every file in it is closed.
        closers=[
            *([owner] if owner else []),
            *([tracing] if tracing else []),
            catalog,
            queue,
            store,
            *(c for c in (cache, objects) if isinstance(c, Closeable)),
        ],
        tracing=tracing,
    )
    if tracing is not None:
        _trace_ports(settings, adapters, tracing)
    return adapters


def _trace_ports(settings: Settings, adapters: Adapters, tracing: Tracing) -> None:
    """Wrap each port in its traced twin (traced.py), with the attributes of the backend chosen."""
    a, tracer = adapters, tracing.tracer
    a.embedder = TracedEmbedder(a.embedder, tracer)
    a.store = TracedVectorStore(a.store, tracer)
    a.cache = TracedCache(
        a.cache,
        tracer,
        attributes=(
            {"db.system.name": "redis", "ragops.cache.backend": "redis"}
            if settings.redis_url
            else {"ragops.cache.backend": "memory"}
        ),
    )
    if settings.s3_bucket:
        a.objects = TracedObjectStore(
            a.objects,
            tracer,
            attributes={
                "rpc.system": "aws-api",
                "rpc.service": "S3",
                "aws.s3.bucket": settings.s3_bucket,
            },
            methods={"put": "PutObject", "get": "GetObject", "delete": "DeleteObject"},
        )
    else:
        a.objects = TracedObjectStore(
            a.objects, tracer, attributes={"ragops.object_store.backend": "local"}
        )
    if settings.sqs_queue_url:
        a.queue = TracedQueue(
            a.queue,
            tracer,
            attributes={
                "messaging.system": "aws_sqs",
                "messaging.destination.name": settings.sqs_queue_url.rstrip("/").rsplit("/", 1)[-1],
                "rpc.system": "aws-api",
                "rpc.service": "SQS",
            },
            methods={
                "send": "SendMessage",
                "receive": "ReceiveMessage",
                "ack": "DeleteMessage",
                "extend": "ChangeMessageVisibility",
                "release": "SendMessage+DeleteMessage",
            },
        )
    else:
        a.queue = TracedQueue(
            a.queue,
            tracer,
            attributes={"messaging.system": "sqlite", "messaging.destination.name": "ingest"},
        )
