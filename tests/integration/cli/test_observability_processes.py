"""`ragops api` and `ragops worker` as real processes over moto S3/SQS and Redis, configured by the
environment alone: one trace from the upload through the queue to the worker's document (S3, SQS
and Redis spans with their AWS and database attributes), and JSON log lines that carry the
uploading request's id, tenant and trace in both processes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.support.api import POLICY
from tests.support.aws import REGION, MotoServer
from tests.support.otlp import OtlpReceiver, ReceivedSpan
from tests.support.processes import JOB_DEADLINE_SECONDS, Service, clean_env
from tests.support.redis_server import RedisServer

REQUEST_ID = "upload-7f3c2a"


@pytest.fixture
def otlp() -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver()
    yield receiver
    receiver.stop()


def log_lines(path: Path) -> list[dict[str, Any]]:
    lines = []
    for line in path.read_text().splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def child(otlp: OtlpReceiver, parent: ReceivedSpan, name: str) -> ReceivedSpan:
    found = [s for s in otlp.children(parent) if s.name == name]
    assert len(found) == 1, (name, [s.name for s in otlp.children(parent)])
    return found[0]


def test_one_trace_and_one_request_id_from_upload_to_indexed_document(
    aws: MotoServer,
    redis_server: RedisServer,
    otlp: OtlpReceiver,
    services: list[Service],
    tmp_path: Path,
) -> None:
    redis.Redis.from_url(redis_server.url).flushdb()
    queue_url, _ = aws.create_queue()
    bucket = aws.create_bucket()

    def env(data_dir: str) -> dict[str, str]:
        return clean_env(
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_REGION=REGION,
            AWS_DEFAULT_REGION=REGION,
            AWS_ENDPOINT_URL_S3=aws.url,
            AWS_ENDPOINT_URL_SQS=aws.url,
            RAGOPS_S3_BUCKET=bucket,
            RAGOPS_SQS_QUEUE_URL=queue_url,
            RAGOPS_CATALOG_URL=redis_server.url,
            RAGOPS_REDIS_URL=redis_server.url,
            RAGOPS_DATA_DIR=str(tmp_path / data_dir),
            RAGOPS_TENANT="acme",
            OTEL_EXPORTER_OTLP_ENDPOINT=otlp.url,
            OTEL_BSP_SCHEDULE_DELAY="100",
            NO_PROXY="127.0.0.1",
        )

    worker = Service("worker", env("worker"), tmp_path / "worker.log", cwd=tmp_path)
    services.append(worker)
    api = Service("api", env("api"), tmp_path / "api.log", cwd=tmp_path)
    services.append(api)

    posted = httpx.post(
        f"{api.url}/api/upload",
        files={"file": ("policy.md", POLICY.encode())},
        headers={"X-Request-ID": REQUEST_ID},
        timeout=30,
    )
    assert posted.status_code == 202, posted.text
    assert posted.headers["x-request-id"] == REQUEST_ID
    job_id, document_id = posted.json()["job_id"], posted.json()["document_id"]
    deadline = time.monotonic() + JOB_DEADLINE_SECONDS
    while httpx.get(f"{api.url}/api/jobs/{job_id}", timeout=10).json()["state"] not in (
        "ready",
        "failed",
    ):
        assert time.monotonic() < deadline, worker.log()
        time.sleep(0.2)
    assert (
        httpx.post(
            f"{api.url}/api/ask", json={"query": "Who books flights?"}, timeout=30
        ).status_code
        == 200
    )

    # The API: the upload's server span; S3 PutObject and SQS SendMessage under it.
    upload = otlp.wait_for(lambda: otlp.named("POST /api/upload"), "upload span")[0]
    assert upload.service == "ragops-api"
    assert (
        upload.attributes["ragops.request_id"] == REQUEST_ID
        and upload.attributes["ragops.tenant"] == "acme"
    )
    put = child(otlp, upload, "object_store.put")
    assert (
        put.attributes["rpc.service"],
        put.attributes["rpc.method"],
        put.attributes["aws.s3.bucket"],
    ) == ("S3", "PutObject", bucket)
    send = child(otlp, upload, "queue.send")
    assert (send.attributes["messaging.system"], send.attributes["rpc.method"]) == (
        "aws_sqs",
        "SendMessage",
    )
    assert send.attributes["messaging.destination.name"] == queue_url.rsplit("/", 1)[-1]

    # The worker: the same trace, through the SQS message.
    document = otlp.wait_for(lambda: otlp.named("ingest.document"), "ingest.document span")[0]
    assert document.service == "ragops-worker"
    assert (document.trace_id, document.parent_span_id) == (upload.trace_id, send.span_id)
    assert document.attributes["ragops.document_id"] == document_id
    received = child(otlp, document, "queue.receive")
    assert (
        received.attributes["messaging.system"] == "aws_sqs"
        and received.end_ns >= received.start_ns
    )
    get = child(otlp, document, "object_store.get")
    assert (get.attributes["rpc.method"], get.attributes["ragops.tenant"]) == ("GetObject", "acme")
    ack = otlp.wait_for(
        lambda: [s for s in otlp.children(document) if s.name == "queue.ack"], "queue.ack span"
    )[0]
    assert ack.attributes["rpc.method"] == "DeleteMessage"
    invalidated = child(otlp, document, "cache.invalidate")
    assert invalidated.attributes["db.system.name"] == "redis"

    # The question: Redis answer cache spans under the API's server span.
    ask = otlp.wait_for(lambda: otlp.named("POST /api/ask"), "ask span")[0]
    lookups = [s for s in otlp.children(ask) if s.name == "cache.get"]
    assert lookups and all(s.attributes["db.system.name"] == "redis" for s in lookups)

    # The worker's scrape counts the points it indexed (its embedded store: the API's is empty).
    assert "ragops_index_points 1.0" in httpx.get(f"{worker.url}/metrics", timeout=10).text
    assert worker.stop() == 0, worker.log()
    api.stop()

    # JSON logs: the upload's line in the API and the document's lines in the worker carry the
    # request id, the tenant and the trace.
    queued = [
        line
        for line in log_lines(tmp_path / "api.log")
        if line["message"] == "Queued document for ingestion"
    ]
    assert len(queued) == 1, (tmp_path / "api.log").read_text()[-3000:]
    assert queued[0]["request_id"] == REQUEST_ID and queued[0]["tenant"] == "acme"
    assert queued[0]["trace_id"] == upload.trace_id
    ingested = [
        line
        for line in log_lines(tmp_path / "worker.log")
        if line["message"] == "Ingested document"
    ]
    assert len(ingested) == 1, worker.log()
    assert {
        key: ingested[0][key]
        for key in ("request_id", "tenant", "job_id", "document_id", "trace_id")
    } == {
        "request_id": REQUEST_ID,
        "tenant": "acme",
        "job_id": job_id,
        "document_id": document_id,
        "trace_id": upload.trace_id,
    }
