"""Poison and malformed messages: their jobs fail with the reason, the worker keeps going,
and on SQS the queue's redrive policy moves them to the dead-letter queue.

The worker runs in-process over moto SQS/S3 (real HTTP, boto3), the Redis catalog on a
real redis-server and the embedded vector store.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from ragops_core.adapters.catalog.redis import RedisCatalog
from ragops_core.adapters.embedder.onnx import OnnxMiniLMEmbedder
from ragops_core.adapters.object_store.s3 import S3ObjectStore
from ragops_core.adapters.queue.sqs import SqsQueue
from ragops_core.documents import DocumentService
from ragops_core.domain import IngestMessage, Job, JobState
from ragops_core.errors import NotFoundError, QueueUnavailableError
from ragops_core.metrics import Metrics
from ragops_core.settings import Settings
from ragops_wiring.adapters import Adapters, build_adapters
from ragops_wiring.services import build_document_service
from ragops_worker.loop import IngestionWorker
from ragops_worker.service import build_pipeline
from tests.support.api import POLICY
from tests.support.aws import MotoServer
from tests.support.redis_server import RedisServer

TENANT = "default"
DEAD_LETTER_AFTER = 3
MAX_ATTEMPTS = 2
DEADLINE_SECONDS = 60.0


@dataclass
class Running:
    adapters: Adapters
    documents: DocumentService
    metrics: Metrics


@dataclass
class SqsSetup:
    settings: Settings
    raw_sqs: Any
    queue_url: str
    dlq_url: str


@contextlib.asynccontextmanager
async def worker_running(
    settings: Settings, embedder: OnnxMiniLMEmbedder
) -> AsyncIterator[Running]:
    metrics = Metrics()
    adapters = build_adapters(settings, metrics=metrics, embedder=embedder)
    # A short backoff base: poison messages come back within a second or two, not minutes.
    worker = IngestionWorker(
        queue=adapters.queue,
        pipeline=build_pipeline(settings, adapters, metrics),
        jobs=adapters.jobs,
        store=adapters.store,
        metrics=metrics,
        visibility_seconds=settings.job_visibility_seconds,
        max_attempts=settings.job_max_attempts,
        retry_base_seconds=0.5,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield Running(adapters, build_document_service(settings, adapters), metrics)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=DEADLINE_SECONDS)
        await adapters.close()


@pytest.fixture
def sqs(aws: MotoServer, redis_server: RedisServer, tmp_path: Path) -> SqsSetup:
    redis.Redis.from_url(redis_server.url).flushdb()
    queue_url, dlq_url = aws.create_queue(dead_letter_after=DEAD_LETTER_AFTER)
    assert dlq_url is not None
    settings = Settings(
        data_dir=tmp_path / "data",
        s3_bucket=aws.create_bucket(),
        sqs_queue_url=queue_url,
        catalog_url=redis_server.url,
        job_max_attempts=MAX_ATTEMPTS,
    )
    return SqsSetup(settings, aws.client("sqs"), queue_url, dlq_url)


async def eventually(check: Any, what: str) -> Any:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.2)
    raise AssertionError(f"never happened: {what}")


async def job_in(running: Running, job_id: str, state: JobState) -> Job | None:
    job = await running.adapters.jobs.get(TENANT, job_id)
    return job if job is not None and job.state == state else None


def dead_letters(sqs: SqsSetup) -> list[str]:
    """Bodies now in the dead-letter queue (peeked: made visible again at once)."""
    response = sqs.raw_sqs.receive_message(
        QueueUrl=sqs.dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0
    )
    return [m["Body"] for m in response.get("Messages", [])]


async def queued_job(running: Running) -> str:
    """A job as the API records it, for a message we then damage or deliver ourselves."""
    job_id = str(uuid.uuid4())
    await running.adapters.jobs.create(
        Job(job_id=job_id, document_id="d", tenant=TENANT, filename="x.md", state=JobState.QUEUED)
    )
    return job_id


async def test_malformed_messages_reach_the_dead_letter_queue_and_the_worker_keeps_going(
    sqs: SqsSetup, embedder: OnnxMiniLMEmbedder
) -> None:
    async with worker_running(sqs.settings, embedder) as running:
        job_id = await queued_job(running)
        not_json = "not json at all"
        missing_fields = json.dumps({"job_id": job_id, "tenant": TENANT})
        for body in (not_json, missing_fields):
            sqs.raw_sqs.send_message(QueueUrl=sqs.queue_url, MessageBody=body)
        good = await running.documents.submit(TENANT, "policy.md", POLICY.encode())

        assert await eventually(
            lambda: job_in(running, good.job_id, JobState.READY), "the good document is ready"
        )
        failed = await eventually(
            lambda: job_in(running, job_id, JobState.FAILED), "the named job failed"
        )
        assert failed.error.startswith(
            "malformed queue message: missing or non-string fields: document_id"
        )

        async def both_dead() -> list[str]:
            found = dead_letters(sqs)
            return found if len(found) == 2 else []

        assert sorted(await eventually(both_dead, "both dead-lettered")) == sorted(
            [not_json, missing_fields]
        )
        assert await running.adapters.queue.depth() == 0
        assert (
            'ragops_ingest_failures_total{reason="malformed"}' in running.metrics.render().decode()
        )


async def test_a_document_that_keeps_crashing_workers_fails_and_is_dead_lettered(
    sqs: SqsSetup, embedder: OnnxMiniLMEmbedder
) -> None:
    catalog = RedisCatalog(str(sqs.settings.catalog_url))
    await catalog.jobs.create(
        Job(job_id="job-1", document_id="d", tenant=TENANT, filename="x.md", state=JobState.QUEUED)
    )
    await catalog.close()
    await S3ObjectStore(str(sqs.settings.s3_bucket)).put(f"{TENANT}/d", POLICY.encode())
    queue = SqsQueue(sqs.queue_url)
    await queue.send(IngestMessage("job-1", "d", f"{TENANT}/d", TENANT, "x.md").to_json())
    # Workers that took it and died before finishing: received, never acknowledged.
    for attempt in range(1, MAX_ATTEMPTS + 1):
        message = await queue.receive(wait_seconds=2, visibility_seconds=0)
        assert message is not None and message.receive_count == attempt

    async with worker_running(sqs.settings, embedder) as running:
        failed = await eventually(
            lambda: job_in(running, "job-1", JobState.FAILED), "the job failed"
        )
        assert failed.error == (
            f"gave up after {MAX_ATTEMPTS} attempts that never finished "
            "(the worker stopped or crashed while processing this document)"
        )

        async def dead() -> list[str]:
            return dead_letters(sqs)

        assert [json.loads(b)["job_id"] for b in await eventually(dead, "dead-lettered")] == [
            "job-1"
        ]
        assert await running.adapters.store.count(TENANT) == 0, "never indexed"


async def test_the_embedded_queue_drops_a_malformed_message_after_failing_its_job(
    tmp_path: Path, embedder: OnnxMiniLMEmbedder
) -> None:
    settings = Settings(data_dir=tmp_path / "data", job_max_attempts=MAX_ATTEMPTS)
    async with worker_running(settings, embedder) as running:
        job_id = await queued_job(running)
        await running.adapters.queue.send({"job_id": job_id, "tenant": TENANT})
        good = await running.documents.submit(TENANT, "policy.md", POLICY.encode())
        assert await eventually(
            lambda: job_in(running, good.job_id, JobState.READY), "the good document is ready"
        )
        failed = await eventually(
            lambda: job_in(running, job_id, JobState.FAILED), "the named job failed"
        )
        assert "malformed queue message" in (failed.error or "")

        async def empty() -> bool:
            return await running.adapters.queue.depth() == 0

        assert await eventually(empty, "nothing left: no dead-letter queue to keep it")


def stored_keys(aws: MotoServer, bucket: str) -> list[str]:
    listed = aws.client("s3").list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in listed.get("Contents", []))


async def test_a_failed_upload_leaves_no_file_in_s3_and_its_id_can_be_deleted(
    sqs: SqsSetup, aws: MotoServer, embedder: OnnxMiniLMEmbedder
) -> None:
    bucket = str(sqs.settings.s3_bucket)
    async with worker_running(sqs.settings, embedder) as running:
        ready = await running.documents.submit(TENANT, "policy.md", POLICY.encode())
        blank = await running.documents.submit(TENANT, "blank.md", b"  \n\n   \n")
        assert len(stored_keys(aws, bucket)) == 2
        failed = await eventually(
            lambda: job_in(running, blank.job_id, JobState.FAILED), "the blank file failed"
        )
        assert "no text" in (failed.error or "")
        assert await eventually(
            lambda: job_in(running, ready.job_id, JobState.READY), "the good document is ready"
        )
        # The indexed document keeps its file; the failed one's is gone.
        assert [key.rsplit("/", 1)[-1] for key in stored_keys(aws, bucket)] == [ready.document_id]

        await running.documents.delete(TENANT, blank.document_id)
        with pytest.raises(NotFoundError):
            await running.documents.delete(TENANT, str(uuid.uuid4()))
        await running.documents.delete(TENANT, ready.document_id)
        with pytest.raises(NotFoundError):  # deleted already: only a failed upload's id stays
            await running.documents.delete(TENANT, ready.document_id)
        assert stored_keys(aws, bucket) == []


async def test_an_upload_that_cannot_be_queued_leaves_no_file_in_s3(
    aws: MotoServer, redis_server: RedisServer, tmp_path: Path
) -> None:
    redis.Redis.from_url(redis_server.url).flushdb()
    queue_url, _ = aws.create_queue()
    aws.client("sqs").delete_queue(QueueUrl=queue_url)
    settings = Settings(
        data_dir=tmp_path / "data",
        s3_bucket=aws.create_bucket(),
        sqs_queue_url=queue_url,
        catalog_url=redis_server.url,
    )
    adapters = build_adapters(settings, metrics=Metrics())
    try:
        with pytest.raises(QueueUnavailableError, match="queue is unavailable"):
            await build_document_service(settings, adapters).submit(
                TENANT, "policy.md", POLICY.encode()
            )
    finally:
        await adapters.close()
    assert stored_keys(aws, str(settings.s3_bucket)) == []
