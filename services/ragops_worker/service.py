"""Composition of the ingestion side from the adapters and settings."""

from __future__ import annotations

from ragops_core.metrics import Metrics
from ragops_core.settings import Settings
from ragops_wiring.adapters import Adapters
from ragops_worker.loop import IngestionWorker
from ragops_worker.pipeline import IngestionPipeline, PipelineOptions


def build_pipeline(settings: Settings, adapters: Adapters, metrics: Metrics) -> IngestionPipeline:
    a = adapters
    return IngestionPipeline(
        objects=a.objects,
        embedder=a.embedder,
        store=a.store,
        jobs=a.jobs,
        documents=a.documents,
        cache=a.cache,
        metrics=metrics,
        tracer=adapters.tracing.tracer if adapters.tracing else None,
        options=PipelineOptions(
            chunk_words=settings.chunk_words,
            overlap_words=settings.overlap_words,
            batch_size=settings.embed_batch_size,
            max_pages=settings.max_upload_pages,
            max_document_words=settings.max_document_words,
            max_document_seconds=settings.max_document_seconds,
        ),
    )


def build_worker(settings: Settings, adapters: Adapters, metrics: Metrics) -> IngestionWorker:
    return IngestionWorker(
        queue=adapters.queue,
        pipeline=build_pipeline(settings, adapters, metrics),
        jobs=adapters.jobs,
        store=adapters.store,
        metrics=metrics,
        visibility_seconds=settings.job_visibility_seconds,
        max_attempts=settings.job_max_attempts,
        tracer=adapters.tracing.tracer if adapters.tracing else None,
    )
