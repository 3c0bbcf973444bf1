"""Hostile documents against the worker (issue #14): a small PDF that expands without end
fails on its per-document budget with the reason and leaves no chunk searchable; a PDF whose
page tree is too deep for pypdf fails at once as damaged, without retries or tracebacks.

The worker runs in-process on the embedded adapters (SQLite queue, embedded vector store)
with the real ONNX embedder.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest

from ragops_core.adapters.embedder.onnx import OnnxMiniLMEmbedder
from ragops_core.domain import IngestMessage, Job, JobState
from ragops_core.settings import Settings
from ragops_wiring.adapters import Adapters
from tests.integration.worker.test_worker_poison import (
    TENANT,
    Running,
    eventually,
    job_in,
    worker_running,
)
from tests.support.hostile_pdfs import deep_page_tree_pdf, shared_stream_pdf

# 20 pages drawing one 20,000-word stream: a few KB that extract to 400,000 words.
HOSTILE = shared_stream_pdf(pages=20, words_per_page=20_000)


async def deliver(adapters: Adapters, filename: str, data: bytes) -> str:
    """A file dropped into the bucket with its message, as no upload checks it: the worker's
    own checks are what is tested."""
    job_id, document_id = str(uuid.uuid4()), str(uuid.uuid4())
    key = f"{TENANT}/{document_id}"
    await adapters.jobs.create(
        Job(job_id, document_id, TENANT, filename=filename, state=JobState.QUEUED)
    )
    await adapters.objects.put(key, data)
    await adapters.queue.send(IngestMessage(job_id, document_id, key, TENANT, filename).to_json())
    return job_id


async def failed_job(running: Running, job_id: str) -> Job:
    job: Job = await eventually(lambda: job_in(running, job_id, JobState.FAILED), "job failed")
    return job


@pytest.mark.parametrize(
    ("limits", "reason"),
    [
        (
            {"max_document_words": 30_000},
            "'hostile.pdf' expands to more than 30,000 words of text "
            "(limit RAGOPS_MAX_DOCUMENT_WORDS)",
        ),
        (
            {"max_document_seconds": 2.0},
            "'hostile.pdf' took longer than 2 s to index (limit RAGOPS_MAX_DOCUMENT_SECONDS)",
        ),
    ],
)
async def test_a_pdf_that_expands_without_end_fails_on_its_budget_and_leaves_no_chunk(
    tmp_path: Path, embedder: OnnxMiniLMEmbedder, limits: dict[str, float], reason: str
) -> None:
    assert len(HOSTILE) < 40_000
    settings = Settings(data_dir=tmp_path / "data", job_max_attempts=3, **limits)
    async with worker_running(settings, embedder) as running:
        job_id = await deliver(running.adapters, "hostile.pdf", HOSTILE)
        job = await failed_job(running, job_id)
        assert job.error == reason
        assert job.progress["pages_done"] < 20, job.progress
        assert await running.adapters.store.count(TENANT) == 0, "partial chunks stayed"
        assert await running.adapters.documents.list(TENANT) == []


def test_the_budgets_are_on_by_default() -> None:
    settings = Settings()
    # A 50 MB text file (the upload limit) is about 8 M words: it fits; a document that expands
    # a hundred times further does not.
    assert 8_000_000 <= settings.max_document_words <= 20_000_000
    assert settings.max_document_seconds <= 3600


async def test_a_page_tree_too_deep_for_pypdf_fails_at_once_as_damaged(
    tmp_path: Path, embedder: OnnxMiniLMEmbedder, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(data_dir=tmp_path / "data", job_max_attempts=3)
    async with worker_running(settings, embedder) as running:
        job_id = await deliver(running.adapters, "deep.pdf", deep_page_tree_pdf(5000))
        job = await failed_job(running, job_id)
        assert job.error is not None
        assert job.error.startswith("the PDF's page tree is damaged: LimitReachedError"), job.error
        metrics = running.metrics.render().decode()
        assert 'ragops_ingest_failures_total{reason="transient"}' not in metrics
        assert 'ragops_ingest_failures_total{reason="ExtractionError"} 1.0' in metrics
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
