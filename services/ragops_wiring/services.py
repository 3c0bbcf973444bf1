"""The core services over a set of adapters, with their options from settings."""

from __future__ import annotations

from ragops_core.adapters.rate_limits.redis import FAILURES as REDIS_FAILURES
from ragops_core.adapters.rate_limits.redis import redis_storage
from ragops_core.documents import DocumentService
from ragops_core.metrics import Metrics
from ragops_core.query import QueryOptions, QueryService
from ragops_core.rate_limits import OTHER, QUESTIONS, RateLimiter, parse_rates
from ragops_core.readiness import Readiness
from ragops_core.settings import Settings
from ragops_wiring.adapters import Adapters


def build_query_service(settings: Settings, adapters: Adapters, metrics: Metrics) -> QueryService:
    a = adapters
    return QueryService(
        embedder=a.embedder,
        store=a.store,
        cache=a.cache,
        chat=a.chat,
        answers=a.answers,
        metrics=metrics,
        options=QueryOptions(
            top_k=settings.top_k,
            mode=settings.retrieval_mode,
            answer_ttl_seconds=settings.answer_cache_ttl_seconds,
            embedding_ttl_seconds=settings.embedding_cache_ttl_seconds,
            answer_cache_scope=settings.answer_cache_scope,
        ),
    )


def build_document_service(settings: Settings, adapters: Adapters) -> DocumentService:
    a = adapters
    return DocumentService(
        objects=a.objects,
        queue=a.queue,
        jobs=a.jobs,
        documents=a.documents,
        store=a.store,
        cache=a.cache,
        max_upload_bytes=settings.max_upload_bytes,
        max_upload_pages=settings.max_upload_pages,
    )


def build_rate_limiter(settings: Settings, metrics: Metrics) -> RateLimiter:
    """Per-user limits of the API: in Redis when it is configured (shared by replicas), else in
    process."""
    rates = {
        QUESTIONS: parse_rates(settings.rate_limit_questions),
        OTHER: parse_rates(settings.rate_limit_other),
    }
    if settings.redis_url and any(rates.values()):
        storage, close = redis_storage(
            settings.redis_url, timeout_seconds=settings.redis_timeout_seconds
        )
        return RateLimiter(
            rates, storage=storage, metrics=metrics, on_close=close, failures=REDIS_FAILURES
        )
    return RateLimiter(rates, storage=None, metrics=metrics)


def build_readiness(settings: Settings, adapters: Adapters, metrics: Metrics) -> Readiness:
    """What /readyz and /metrics of the API and the worker ask the stores."""
    return Readiness(
        store=adapters.store,
        queue=adapters.queue,
        jobs=adapters.jobs,
        metrics=metrics,
        tenant=settings.tenant,
    )
