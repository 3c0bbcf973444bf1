"""The API with its caches on a real Redis: answers are shared and invalidated in Redis."""

from __future__ import annotations

from pathlib import Path

import redis
from fastapi.testclient import TestClient

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


def test_colors_sharing_redis_keep_their_answers_apart(
    make_client: AppFactory, redis_server: RedisServer, tmp_path: Path
) -> None:
    """Two API colors (the operator gives each its template hash as the scope) share one Redis:
    a promoted color does not serve the answers of the image it replaced, and a rollback finds
    its own again."""
    redis.Redis.from_url(redis_server.url).flushdb()

    def color(scope: str, data: str) -> TestClient:
        return make_client(
            redis_url=redis_server.url, data_dir=tmp_path / data, answer_cache_scope=scope
        )

    blue, green = color("3f9c0a1b2c4d", "blue"), color("77e1d0c4b5a6", "green")
    for client in (blue, green):
        wait_for_job(client, upload(client, "policy.md", POLICY.encode())["job_id"])
    question = {"query": "Which portal takes expense receipts?"}
    first = blue.post("/api/ask", json=question).json()
    assert first["cached"] is False
    assert blue.post("/api/ask", json=question).json()["cached"] is True
    promoted = green.post("/api/ask", json=question).json()
    assert promoted["cached"] is False and promoted["answer_id"] != first["answer_id"]
    assert green.post("/api/ask", json=question).json()["cached"] is True
    rolled_back = blue.post("/api/ask", json=question).json()
    assert rolled_back["cached"] is True and rolled_back["answer_id"] == first["answer_id"]
