"""An upload while SQS is unreachable: a JSON 503, and nothing half done (no file left in S3, no
job left `queued` without a message).

`ragops api` as production runs it, without a worker: moto's S3, the Redis catalog on a real
redis-server, and an SQS endpoint on a port where nothing listens.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from ragops_api.app import create_app
from ragops_core.domain import JobState, document_id_for
from ragops_core.metrics import Metrics
from ragops_core.settings import Settings
from ragops_wiring.adapters import build_adapters
from tests.support.api import POLICY
from tests.support.aws import MotoServer
from tests.support.net import free_port
from tests.support.redis_server import RedisServer

TENANT = "default"


def test_an_upload_with_sqs_unreachable_is_a_503_and_leaves_nothing_behind(
    aws: MotoServer,
    redis_server: RedisServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    redis.Redis.from_url(redis_server.url).flushdb()
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", dead)
    bucket = aws.create_bucket()
    settings = Settings(
        data_dir=tmp_path / "data",
        s3_bucket=bucket,
        sqs_queue_url=f"{dead}/123456789012/ragops-ingest",
        catalog_url=redis_server.url,
    )
    metrics = Metrics()
    adapters = build_adapters(settings, metrics=metrics)
    app = create_app(settings, adapters, metrics=metrics, worker=None)
    with TestClient(app, raise_server_exceptions=False) as client:
        started = time.monotonic()
        response = client.post("/api/upload", files={"file": ("policy.md", POLICY.encode())})
        elapsed = time.monotonic() - started
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/json"
        assert "queue is unavailable" in response.json()["detail"]
        assert response.headers["retry-after"] == "30"
        assert elapsed < 30  # botocore's bounded retries, not a hang

        listed = aws.client("s3").list_objects_v2(Bucket=bucket)
        assert listed.get("Contents", []) == []  # the stored file was removed again
        job = client.portal.call(
            adapters.jobs.latest_for_document, TENANT, document_id_for(TENANT, "policy.md")
        )
        assert job is not None
        assert job.state is JobState.FAILED  # not `queued` forever
        assert "could not be queued" in (job.error or "")
        assert client.get(f"/api/jobs/{job.job_id}").json()["state"] == "failed"
