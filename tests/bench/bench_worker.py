"""Worker throughput: one `ragops worker` process draining the 35 DEV PDFs.

Rows:
- production adapters: moto S3 + SQS (server mode, real HTTP, boto3) and the Redis catalog
  on a local redis-server; the vector store stays embedded (no Qdrant server here).
- embedded: the same worker on the SQLite queue and catalog and a local object directory.
The worker is started and ready (model loaded) before the clock starts; the clock stops
when the last job is ready or failed. Broken and encrypted PDFs are part of the set: they
fail fast, as in production, and count as documents but add no pages.

Run: python tests/bench/bench_worker.py   (needs the `dev` extra: moto, redis-server)
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [
    str(REPO / "tests"),
    str(REPO / "tests" / "integration"),
    str(Path(__file__).parent),
]

from record import record  # noqa: E402

from ragops_core.adapters.catalog.redis import RedisCatalog  # noqa: E402
from ragops_core.adapters.catalog.sqlite import SqliteCatalog  # noqa: E402
from ragops_core.adapters.object_store.local import LocalObjectStore  # noqa: E402
from ragops_core.adapters.object_store.s3 import S3ObjectStore  # noqa: E402
from ragops_core.adapters.queue.sqlite import SqliteQueue  # noqa: E402
from ragops_core.adapters.queue.sqs import SqsQueue  # noqa: E402
from ragops_core.documents import object_key  # noqa: E402
from ragops_core.domain import IngestMessage, Job, JobState, document_id_for  # noqa: E402
from ragops_core.ports import JobStore, ObjectStore, Queue  # noqa: E402
from tests.support.aws import REGION, MotoServer  # noqa: E402
from tests.support.processes import Service, clean_env  # noqa: E402
from tests.support.redis_server import RedisServer  # noqa: E402

PDFS = REPO.parent / "shared" / "datasets" / "pdfs"
TENANT = "bench"
DEADLINE_SECONDS = 1800.0


def dev_pdfs() -> list[Path]:
    return [
        PDFS.parent / json.loads(line)["file"]
        for line in (PDFS / "manifest.jsonl").read_text().splitlines()
    ]


async def drain(
    objects: ObjectStore, queue: Queue, jobs: JobStore, worker: Service
) -> dict[str, Any]:
    files = dev_pdfs()
    job_ids: list[str] = []
    started = time.perf_counter()
    for path in files:
        document_id = document_id_for(TENANT, path.name)
        job_id = str(uuid.uuid4())
        key = object_key(TENANT, document_id)
        await objects.put(key, path.read_bytes())
        await jobs.create(
            Job(
                job_id=job_id,
                document_id=document_id,
                tenant=TENANT,
                filename=path.name,
                state=JobState.QUEUED,
            )
        )
        await queue.send(IngestMessage(job_id, document_id, key, TENANT, path.name).to_json())
        job_ids.append(job_id)
    finished: dict[str, Job] = {}
    while len(finished) < len(job_ids):
        if time.perf_counter() - started > DEADLINE_SECONDS or worker.process.poll() is not None:
            raise SystemExit(f"worker did not finish:\n{worker.log()}")
        for job_id in job_ids:
            job = await jobs.get(TENANT, job_id)
            if job is not None and job.state in (JobState.READY, JobState.FAILED):
                finished[job_id] = job
        await asyncio.sleep(0.2)
    seconds = time.perf_counter() - started
    ready = [j for j in finished.values() if j.state == JobState.READY]
    pages = sum(j.progress.get("pages_total", 0) for j in ready)
    return {
        "documents": len(job_ids),
        "ready": len(ready),
        "failed": len(job_ids) - len(ready),
        "pages": pages,
        "chunks": sum(j.progress.get("chunks_total", 0) for j in ready),
        "seconds": seconds,
        "pages/s": pages / seconds,
        "documents/min": len(job_ids) / seconds * 60,
    }


async def production(tmp: Path) -> dict[str, Any]:
    moto = MotoServer()
    redis = RedisServer(tmp / "redis")
    try:
        sqs = moto.client("sqs")
        queue_url = sqs.create_queue(QueueName=f"bench-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        bucket = moto.create_bucket()
        aws = {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_ENDPOINT_URL_S3": moto.url,
            "AWS_ENDPOINT_URL_SQS": moto.url,
        }
        env = clean_env(
            **aws,
            RAGOPS_S3_BUCKET=bucket,
            RAGOPS_SQS_QUEUE_URL=queue_url,
            RAGOPS_CATALOG_URL=redis.url,
            RAGOPS_DATA_DIR=str(tmp / "worker"),
        )
        worker = Service("worker", env, tmp / "worker.log", cwd=tmp)
        catalog = RedisCatalog(redis.url)
        try:
            return await drain(
                S3ObjectStore(bucket, region=REGION, endpoint_url=moto.url),
                SqsQueue(queue_url, region=REGION, endpoint_url=moto.url),
                catalog.jobs,
                worker,
            )
        finally:
            await catalog.close()
            worker.stop()
    finally:
        redis.stop()
        moto.stop()


async def embedded(tmp: Path) -> dict[str, Any]:
    data = tmp / "embedded"
    worker = Service("worker", clean_env(RAGOPS_DATA_DIR=str(data)), tmp / "embedded.log", cwd=tmp)
    # The SQLite queue and catalog are safe to share across processes on one host.
    catalog, queue = SqliteCatalog(data / "catalog.sqlite3"), SqliteQueue(data / "queue.sqlite3")
    try:
        return await drain(LocalObjectStore(data / "objects"), queue, catalog.jobs, worker)
    finally:
        worker.stop()
        await catalog.close()
        await queue.close()


def main() -> None:
    # boto3 in this process finds moto's credentials as the worker does: in the environment.
    os.environ.update(
        {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION}
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, run in (
            ("moto S3 + SQS, Redis catalog", production),
            ("embedded (SQLite, local dir)", embedded),
        ):
            result = asyncio.run(run(Path(tmp)))
            print(name, result, flush=True)
            rows.append({"adapters": name, **result})
    record(
        "worker",
        rows,
        notes=(
            "One `ragops worker` process (offline MiniLM embedder, one dense window per chunk, "
            "embedded Qdrant Edge) draining the 35 DEV PDFs of `shared/datasets/pdfs` (broken and "
            "encrypted ones included: they fail fast and add no pages). Clock from the first "
            "upload to the last job ready or failed; model loaded before. moto (in the benchmark's "
            "process) and redis-server share the same 2 cores with the worker."
        ),
    )


if __name__ == "__main__":
    main()
