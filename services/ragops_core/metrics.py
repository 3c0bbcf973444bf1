"""Prometheus metrics of the services, on a registry of their own per process.

A registry per `Metrics` instance (not the global default) lets tests build
many apps in one process and lets `/metrics` show exactly RAGOps' series.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from ragops_core.active_users import ActiveUsers

# At most 1.5x apart from 50 ms to 30 s, where answers live, so p50/p95/p99 interpolated within
# one bucket stay within that factor (they were 2-2.5x apart; every earlier boundary is kept).
LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0015,
    0.0025,
    0.005,
    0.0075,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.15,
    0.2,
    0.25,
    0.35,
    0.5,
    0.75,
    1,
    1.5,
    2,
    3,
    4,
    5,
    7.5,
    10,
    15,
    20,
    30,
    60,
)

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.http_requests = Counter(
            "ragops_http_requests_total",
            "HTTP requests by route and status.",
            ["method", "route", "status"],
            registry=r,
        )
        self.http_latency = Histogram(
            "ragops_http_request_duration_seconds",
            "HTTP request latency.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.cache_requests = Counter(
            "ragops_cache_requests_total",
            "Cache look-ups by kind (answer, embedding) and result (hit, miss).",
            ["kind", "result"],
            registry=r,
        )
        self.cache_bypass = Counter(
            "ragops_cache_bypass_total",
            "Cache calls skipped or failed because the cache was unavailable.",
            ["operation"],
            registry=r,
        )
        self.rate_limited = Counter(
            "ragops_rate_limited_total",
            "Requests refused with 429 by the per-user rate limit, by limit (questions, other).",
            ["limit"],
            registry=r,
        )
        self.rate_limit_bypass = Counter(
            "ragops_rate_limit_bypass_total",
            "Requests let through unchecked because the rate limit's Redis was unavailable.",
            registry=r,
        )
        self.search_latency = Histogram(
            "ragops_search_duration_seconds",
            "Vector store search latency.",
            ["mode"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.embed_latency = Histogram(
            "ragops_embedding_duration_seconds",
            "Query embedding latency.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.llm_tokens = Counter(
            "ragops_llm_tokens_total",
            "Language model tokens, by model and kind (prompt, completion).",
            ["model", "kind"],
            registry=r,
        )
        self.llm_cost = Counter(
            "ragops_llm_cost_usd_total",
            "Estimated language model cost in US dollars.",
            ["model"],
            registry=r,
        )
        self.llm_fallbacks = Counter(
            "ragops_llm_fallbacks_total",
            "Answers handed to the next model, by failed model, next model and reason.",
            ["from_model", "to_model", "reason"],
            registry=r,
        )
        self.llm_interrupted = Counter(
            "ragops_llm_interrupted_total",
            "Answers cut off by a model failing mid-stream.",
            ["model", "reason"],
            registry=r,
        )
        self.answers = Counter(
            "ragops_answers_total", "Answers produced, by model.", ["model"], registry=r
        )
        self.ingest_documents = Counter(
            "ragops_ingest_documents_total",
            "Documents ingested, by result (ready, failed).",
            ["result"],
            registry=r,
        )
        self.ingest_pages = Counter("ragops_ingest_pages_total", "PDF pages extracted.", registry=r)
        self.ingest_chunks = Counter(
            "ragops_ingest_chunks_total", "Chunks embedded and indexed.", registry=r
        )
        self.ingest_failures = Counter(
            "ragops_ingest_failures_total",
            "Failed ingestion attempts, by reason.",
            ["reason"],
            registry=r,
        )
        self.ingest_latency = Histogram(
            "ragops_ingest_duration_seconds",
            "Time to ingest one document.",
            buckets=(0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600),
            registry=r,
        )
        self.queue_depth = Gauge(
            "ragops_queue_depth", "Messages waiting in the ingestion queue.", registry=r
        )
        self.feedback = Counter(
            "ragops_feedback_total", "Answer feedback, by rating.", ["rating"], registry=r
        )
        # For the dashboards (docs/observability.md): index size, what the answer cache saved,
        # active users.
        self.index_points = Gauge(
            "ragops_index_points",
            "Points (chunks of every tenant) in the vector store, read when /metrics is scraped.",
            registry=r,
        )
        self.cache_saved_seconds = Counter(
            "ragops_cache_saved_seconds_total",
            "Seconds the answers served from cache took to produce the first time.",
            registry=r,
        )
        self.cache_saved_tokens = Counter(
            "ragops_cache_saved_tokens_total",
            "Language model tokens (prompt + completion) the answers served from cache cost the "
            "first time.",
            registry=r,
        )
        self.cache_saved_usd = Counter(
            "ragops_cache_saved_usd_total",
            "Estimated US dollars the answers served from cache cost the first time.",
            registry=r,
        )
        self.active_users = ActiveUsers(r)

    def render(self) -> bytes:
        return generate_latest(self.registry)
