"""`ragops worker` (and `ragops api`) as real processes over moto S3/SQS and a Redis catalog.

The worker keeps its vector store embedded (Qdrant Edge under its data dir): the tests
read that store after the worker has exited, since it belongs to one process at a time.
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis

from ragops_core.adapters.catalog.redis import RedisCatalog
from ragops_core.adapters.object_store.s3 import S3ObjectStore
from ragops_core.adapters.queue.sqs import SqsQueue
from ragops_core.adapters.vector_store.edge import EdgeVectorStore
from ragops_core.chunking import Chunker
from ragops_core.documents import object_key
from ragops_core.domain import IngestMessage, Job, JobState, document_id_for
from ragops_core.ports import QueueMessage
from ragops_worker.extraction import extract
from tests.support.api import POLICY
from tests.support.aws import REGION, MotoServer
from tests.support.processes import JOB_DEADLINE_SECONDS, Service, clean_env
from tests.support.redis_server import RedisServer

TENANT = "acme"
LONG_PDF = "format-corpus/govdocs1-error-pdfs/error_set_1/195981.pdf"  # 101 pages


@dataclass
class Stack:
    """One bucket, one queue and the Redis catalog, shared by the test and its processes."""

    bucket: str
    queue_url: str
    catalog_url: str
    aws: MotoServer
    tmp: Path

    def env(self, data_dir: Path, **settings: str) -> dict[str, str]:
        return clean_env(
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_REGION=REGION,
            AWS_DEFAULT_REGION=REGION,
            AWS_ENDPOINT_URL_S3=self.aws.url,
            AWS_ENDPOINT_URL_SQS=self.aws.url,
            RAGOPS_S3_BUCKET=self.bucket,
            RAGOPS_SQS_QUEUE_URL=self.queue_url,
            RAGOPS_CATALOG_URL=self.catalog_url,
            RAGOPS_DATA_DIR=str(data_dir),
            **{f"RAGOPS_{name.upper()}": value for name, value in settings.items()},
        )

    def worker(self, data_dir: Path, **settings: str) -> Service:
        return Service(
            "worker", self.env(data_dir, **settings), self.tmp / "worker.log", cwd=self.tmp
        )

    def submit(self, path: Path) -> str:
        """What `POST /api/upload` does, through the same adapters: object, job, message."""

        async def go() -> str:
            document_id = document_id_for(TENANT, path.name)
            job_id = str(uuid.uuid4())
            key = object_key(TENANT, document_id)
            await S3ObjectStore(self.bucket).put(key, path.read_bytes())
            catalog = RedisCatalog(self.catalog_url)
            await catalog.jobs.create(
                Job(
                    job_id=job_id,
                    document_id=document_id,
                    tenant=TENANT,
                    filename=path.name,
                    state=JobState.QUEUED,
                )
            )
            await catalog.close()
            await SqsQueue(self.queue_url).send(
                IngestMessage(job_id, document_id, key, TENANT, path.name).to_json()
            )
            return job_id

        return asyncio.run(go())

    def job(self, job_id: str) -> Job:
        async def go() -> Job | None:
            catalog = RedisCatalog(self.catalog_url)
            try:
                return await catalog.jobs.get(TENANT, job_id)
            finally:
                await catalog.close()

        found = asyncio.run(go())
        assert found is not None, job_id
        return found

    def wait_for(self, job_id: str, done: set[JobState], worker: Service, *, pages: int = 0) -> Job:
        deadline = time.monotonic() + JOB_DEADLINE_SECONDS
        while time.monotonic() < deadline:
            job = self.job(job_id)
            if job.state in done and job.progress.get("pages_done", 0) >= pages:
                return job
            assert worker.process.poll() is None, f"worker exited:\n{worker.log()}"
            time.sleep(0.1)
        raise AssertionError(
            f"job {job_id} not {done} after {JOB_DEADLINE_SECONDS}s:\n{worker.log()}"
        )

    def receive(self, *, wait_seconds: float) -> QueueMessage | None:
        return asyncio.run(
            SqsQueue(self.queue_url).receive(wait_seconds=wait_seconds, visibility_seconds=300)
        )

    def depth(self) -> int:
        return asyncio.run(SqsQueue(self.queue_url).depth())


@pytest.fixture
def stack(aws: MotoServer, redis_server: RedisServer, tmp_path: Path) -> Stack:
    redis.Redis.from_url(redis_server.url).flushdb()
    queue_url, _ = aws.create_queue()
    return Stack(
        bucket=aws.create_bucket(),
        queue_url=queue_url,
        catalog_url=redis_server.url,
        aws=aws,
        tmp=tmp_path,
    )


def points(data_dir: Path, tenant: str = TENANT) -> int:
    """Chunks of the tenant in the worker's vector store (read once the worker is gone)."""

    async def go() -> int:
        store = EdgeVectorStore(data_dir / "qdrant", dimensions=384)
        try:
            return await store.count(tenant)
        finally:
            await store.close()

    return asyncio.run(go())


def clean_chunk_count(path: Path) -> int:
    """What one uninterrupted ingestion makes of the file, with the default chunking."""
    chunker = Chunker(chunk_words=500, overlap_words=50)
    chunks = [c for page in extract(path.name, path.read_bytes()).pages for c in chunker.add(page)]
    return len(chunks) + len(chunker.finish())


def test_api_and_worker_processes_share_jobs_and_documents(
    stack: Stack, services: list[Service], tmp_path: Path
) -> None:
    # Each process has its own data dir: all they share is S3, SQS and the Redis catalog.
    worker = stack.worker(tmp_path / "worker")
    services.append(worker)
    api = Service("api", stack.env(tmp_path / "api"), tmp_path / "api.log", cwd=tmp_path)
    services.append(api)

    upload = httpx.post(
        f"{api.url}/api/upload", files={"file": ("policy.md", POLICY.encode())}, timeout=30
    )
    assert upload.status_code == 202, upload.text
    job_id = upload.json()["job_id"]
    deadline = time.monotonic() + JOB_DEADLINE_SECONDS
    while (job := httpx.get(f"{api.url}/api/jobs/{job_id}", timeout=10).json())["state"] not in (
        "ready",
        "failed",
    ):
        assert time.monotonic() < deadline, worker.log()
        time.sleep(0.2)
    assert job["state"] == "ready", job
    listed = httpx.get(f"{api.url}/api/documents", timeout=10).json()
    assert [d["filename"] for d in listed] == ["policy.md"]

    assert httpx.get(f"{worker.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{worker.url}/readyz").json()
    assert ready["checks"] == {"vector_store": "ok", "queue": "ok", "catalog": "ok", "worker": "ok"}
    assert (
        'ragops_ingest_documents_total{result="ready"} 1.0'
        in httpx.get(f"{worker.url}/metrics").text
    )
    assert "ragops_queue_depth" in httpx.get(f"{api.url}/metrics").text

    assert worker.stop() == 0, worker.log()
    assert api.stop() in (0, -signal.SIGTERM), (
        api.log()
    )  # uvicorn re-raises the signal after a clean shutdown
    assert (
        points(tmp_path / "worker", "default") == listed[0]["chunks"] > 0
    )  # the API's tenant without auth


def test_sigterm_mid_document_finishes_it_then_exits_0(
    stack: Stack, services: list[Service], pdf_dir: Path, tmp_path: Path
) -> None:
    pdf = pdf_dir / LONG_PDF
    worker = stack.worker(tmp_path / "data", worker_grace_seconds="300")
    services.append(worker)
    job_id = stack.submit(pdf)
    stack.wait_for(job_id, {JobState.PROCESSING}, worker, pages=5)

    assert worker.stop(signal.SIGTERM, timeout=300) == 0, worker.log()
    job = stack.job(job_id)
    assert job.state == JobState.READY, job
    assert job.progress["pages_total"] == 101
    assert stack.depth() == 0, "acknowledged once indexed"
    assert points(tmp_path / "data") == job.progress["chunks_total"] == clean_chunk_count(pdf)


def test_sigterm_past_the_grace_period_releases_the_document(
    stack: Stack, services: list[Service], pdf_dir: Path, tmp_path: Path
) -> None:
    worker = stack.worker(tmp_path / "data", worker_grace_seconds="0")
    services.append(worker)
    job_id = stack.submit(pdf_dir / LONG_PDF)
    stack.wait_for(job_id, {JobState.PROCESSING}, worker, pages=5)

    assert worker.stop(signal.SIGTERM) == 0, worker.log()
    assert stack.job(job_id).state == JobState.QUEUED, worker.log()
    # The worker received it with a 300 s visibility timeout: only a release makes it visible now,
    # and a release is not an attempt (rolling restarts must not push a document to the DLQ).
    again = stack.receive(wait_seconds=5)
    assert again is not None, "released to the queue"
    assert again.body["job_id"] == job_id and again.receive_count == 1


def test_a_worker_killed_mid_document_is_replaced_and_indexes_it_exactly_once(
    stack: Stack, services: list[Service], pdf_dir: Path, tmp_path: Path
) -> None:
    pdf = pdf_dir / LONG_PDF
    data = tmp_path / "data"
    # A short visibility timeout, so the killed worker's message comes back within seconds.
    first = stack.worker(data, job_visibility_seconds="10")
    services.append(first)
    job_id = stack.submit(pdf)
    stack.wait_for(job_id, {JobState.PROCESSING}, first, pages=5)
    assert first.stop(signal.SIGKILL) == -signal.SIGKILL
    assert stack.job(job_id).state == JobState.PROCESSING, "nobody finished it"

    second = stack.worker(data, job_visibility_seconds="10")
    services.append(second)
    job = stack.wait_for(job_id, {JobState.READY, JobState.FAILED}, second)
    assert job.state == JobState.READY, job
    assert stack.depth() == 0
    assert second.stop() == 0, second.log()
    expected = clean_chunk_count(pdf)
    assert job.progress["chunks_total"] == expected
    assert points(data) == expected, "no chunk twice, none missing"
