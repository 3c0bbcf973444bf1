"""The per-user rate limit: 429 with Retry-After, per user and tenant, shared through a real Redis,
never in the way of probes, and never a reason to refuse a question when Redis is down."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from tests.support.api import POLICY, AppFactory, upload, wait_for_job
from tests.support.jwks import CLIENT_ID, ISSUER, JwksServer
from tests.support.redis_server import RedisServer

QUESTION = {"query": "Which portal takes expense receipts?"}
# Hour-long windows where a test does not wait for one to pass: in the process, windows start on
# the clock's boundaries, and a burst that straddles one is allowed one request more.


@pytest.fixture
def shared_redis(redis_server: RedisServer) -> RedisServer:
    redis.Redis.from_url(redis_server.url).flushdb()
    return redis_server


def ask(client: TestClient, **headers: str) -> int:
    return client.post("/api/ask", json=QUESTION, headers=headers).status_code


def metric(client: TestClient, name: str) -> float:
    """The value of one series of /metrics (0 when absent)."""
    match = re.search(rf"^{re.escape(name)} (\S+)$", client.get("/metrics").text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_over_the_limit_is_429_with_retry_after_and_the_api_error_body(
    make_client: AppFactory,
) -> None:
    client = make_client(rate_limit_questions="3/hour")
    assert [ask(client) for _ in range(3)] == [200, 200, 200]

    refused = client.post("/api/ask", json=QUESTION)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 3600, "whole seconds, within the window"
    assert refused.json() == {"detail": refused.json()["detail"]}, (
        "the API's error shape: detail only"
    )
    assert "too many questions" in refused.json()["detail"]
    assert "3 per 1 hour" in refused.json()["detail"]

    # Every way of asking shares the questions' limit; the OpenAI-compatible route speaks OpenAI's
    # error shape too.
    with client.stream("POST", "/api/ask/stream", json=QUESTION) as stream:
        assert stream.status_code == 429
    completion = client.post(
        "/v1/chat/completions", json={"messages": [{"role": "user", "content": "Receipts?"}]}
    )
    assert completion.status_code == 429 and completion.headers["retry-after"]
    assert completion.json()["error"]["type"] == "rate_limit_exceeded"
    assert completion.json()["detail"] == completion.json()["error"]["message"]

    # Other requests have a limit of their own.
    assert client.get("/api/documents").status_code == 200
    assert metric(client, 'ragops_rate_limited_total{limit="questions"}') == 3
    assert (
        metric(client, 'ragops_http_requests_total{method="POST",route="/api/ask",status="429"}')
        == 1
    )


def test_uploads_and_other_api_requests_are_limited(make_client: AppFactory) -> None:
    client = make_client(rate_limit_other="2/hour")
    job_id = upload(client, "a.txt", b"Tea is served at four.")["job_id"]
    assert client.get(f"/api/jobs/{job_id}").status_code == 200
    refused = client.post("/api/upload", files={"file": ("b.txt", b"Coffee is served at ten.")})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert (
        "too many requests" in refused.json()["detail"]
        and "2 per 1 hour" in refused.json()["detail"]
    )
    assert client.get(f"/api/jobs/{job_id}").status_code == 429
    assert client.delete("/api/documents/anything").status_code == 429
    assert ask(client) == 200, "questions have their own limit"


def test_one_user_over_the_limit_leaves_other_users_and_tenants_alone(
    make_client: AppFactory, jwks: JwksServer
) -> None:
    client = make_client(
        auth_jwks_url=jwks.url,
        auth_issuer=ISSUER,
        auth_audience=CLIENT_ID,
        rate_limit_questions="2/hour",
    )

    def bearer(tenant: str, subject: str) -> dict[str, str]:
        return {"authorization": f"Bearer {jwks.token(tenant, subject=subject)}"}

    alice = bearer("acme", "alice")
    assert [ask(client, **alice) for _ in range(3)] == [200, 200, 429]
    assert ask(client, **bearer("acme", "bob")) == 200, "another user of the same tenant"
    assert ask(client, **bearer("globex", "alice")) == 200, "the same subject in another tenant"
    assert ask(client, **alice) == 429, "alice is still limited"
    # A refused token is answered 401 as always, whoever is over the limit.
    assert ask(client, authorization="Bearer not-a-jwt") == 401


@pytest.mark.parametrize("storage", ["process", "redis"])
def test_the_limit_recovers_when_its_window_has_passed(
    make_client: AppFactory, request: pytest.FixtureRequest, storage: str
) -> None:
    overrides = (
        {"redis_url": request.getfixturevalue("shared_redis").url} if storage == "redis" else {}
    )
    client = make_client(rate_limit_questions="2 per 2 seconds", **overrides)
    answers = [client.post("/api/ask", json=QUESTION) for _ in range(4)]
    refused = [a for a in answers if a.status_code == 429]
    assert refused, [a.status_code for a in answers]
    time.sleep(int(refused[-1].headers["retry-after"]))  # what a client told to wait does
    assert ask(client) == 200


def test_api_replicas_sharing_redis_share_each_users_limit(
    make_client: AppFactory, shared_redis: RedisServer, tmp_path: Path
) -> None:
    settings = {"redis_url": shared_redis.url, "rate_limit_questions": "3/hour"}
    first = make_client(data_dir=tmp_path / "first", **settings)
    second = make_client(data_dir=tmp_path / "second", **settings)
    assert [ask(first), ask(second), ask(first)] == [200, 200, 200]
    assert ask(second) == 429, "the second replica counts what the first let through"
    assert ask(first) == 429
    keys = redis.Redis.from_url(shared_redis.url).keys("ragops:ratelimit:*")
    assert keys, "the counters live in Redis"


def test_cached_answers_are_limited_too(make_client: AppFactory, shared_redis: RedisServer) -> None:
    client = make_client(
        redis_url=shared_redis.url, rate_limit_questions="3/hour", rate_limit_other="0"
    )
    wait_for_job(client, upload(client, "policy.md", POLICY.encode())["job_id"])
    answers = [client.post("/api/ask", json=QUESTION) for _ in range(3)]
    assert [a.json()["cached"] for a in answers] == [False, True, True]
    refused = client.post("/api/ask", json=QUESTION)
    assert refused.status_code == 429, "a cached answer is a question like any other"
    assert "too many questions" in refused.json()["detail"]


def test_probes_metrics_and_the_ui_config_are_never_limited(make_client: AppFactory) -> None:
    client = make_client(rate_limit_questions="1/hour", rate_limit_other="1/hour")
    assert [ask(client), ask(client)] == [200, 429]
    assert [client.get("/api/documents").status_code for _ in range(2)] == [200, 429]
    for _ in range(5):
        for path in ("/healthz", "/readyz", "/metrics", "/api/ui-config", "/"):
            assert client.get(path, follow_redirects=False).status_code != 429, path


def test_questions_are_answered_while_the_limits_redis_is_down_or_stalled(
    make_client: AppFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = RedisServer(tmp_path / "redis")
    try:
        client = make_client(
            redis_url=server.url, redis_timeout_seconds=0.2, rate_limit_questions="2/hour"
        )
        assert [ask(client) for _ in range(3)] == [200, 200, 429], (
            "counted in Redis while it answers"
        )
        caplog.set_level(logging.WARNING, logger="ragops_core.rate_limits")

        # Stalled: Redis holds every command for 5 s; the check times out and lets the question
        # through.
        redis.Redis.from_url(server.url).client_pause(5000, all=True)
        assert ask(client) == 200
        # Stopped: connections refused.
        server.stop()
        assert [ask(client) for _ in range(3)] == [200, 200, 200]
        assert metric(client, "ragops_rate_limit_bypass_total") == 4, (
            "every request let through unchecked"
        )
        outages = [
            r
            for r in caplog.records
            if r.getMessage() == "Redis unavailable; rate limits not enforced"
        ]
        assert len(outages) == 1, "one log line per outage, not per request"
    finally:
        server.stop()
