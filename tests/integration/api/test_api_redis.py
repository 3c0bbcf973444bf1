"""The API with its caches on a real Redis: answers are shared and invalidated in Redis."""

from __future__ import annotations

from pathlib import Path

import redis

from tests.support.api import POLICY, AppFactory, upload, wait_for_job
from tests.support.redis_server import RedisServer


def test_answers_are_cached_and_invalidated_in_redis(
    make_client: AppFactory, redis_server: RedisServer
) -> None:
    store = redis.Redis.from_url(redis_server.url)
    store.flushdb()
    client = make_client(redis_url=redis_server.url)
    wait_for_job(client, upload(client, "policy.md", POLICY.encode())["job_id"])
    question = {"query": "Which portal takes expense receipts?"}
    first = client.post("/api/ask", json=question).json()
    assert first["cached"] is False and "Quillfeather" in first["answer"]
    assert len(store.keys("ragops:v2:answer:*")) == 1
    assert len(store.keys("ragops:v2:embedding:*")) == 1
    second = client.post("/api/ask", json=question).json()
    assert second["cached"] is True and second["answer_id"] == first["answer_id"]

    wait_for_job(
        client, upload(client, "other.txt", b"The canteen opens at noon every weekday.")["job_id"]
    )
    assert store.keys("ragops:v2:answer:*") == [], (
        "a new document drops the tenant's cached answers"
    )
    assert len(store.keys("ragops:v2:embedding:*")) == 1, "embeddings do not depend on documents"
    assert client.post("/api/ask", json=question).json()["cached"] is False


def test_questions_are_answered_while_redis_is_down(
    make_client: AppFactory, tmp_path: Path
) -> None:
    server = RedisServer(tmp_path / "redis")
    client = make_client(redis_url=server.url, redis_timeout_seconds=0.2)
    wait_for_job(client, upload(client, "policy.md", POLICY.encode())["job_id"])
    question = {"query": "Who books flights?"}
    assert client.post("/api/ask", json=question).json()["cached"] is False
    assert client.post("/api/ask", json=question).json()["cached"] is True
    server.stop()
    for _ in range(3):
        response = client.post("/api/ask", json=question)
        assert response.status_code == 200
        assert "Orbis" in response.json()["answer"] and response.json()["cached"] is False
    wait_for_job(
        client, upload(client, "more.txt", b"Taxis are reimbursed after midnight only.")["job_id"]
    )
    assert (
        "Taxis"
        in client.post("/api/ask", json={"query": "When are taxis reimbursed?"}).json()["answer"]
    )
    assert 'ragops_cache_bypass_total{operation="get"}' in client.get("/metrics").text
