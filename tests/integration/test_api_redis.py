"""The API with its caches on a real Redis: answers are shared and invalidated in Redis."""

from __future__ import annotations

import redis

from api_support import POLICY, AppFactory, upload, wait_for_job
from redis_support import RedisServer


def test_answers_are_cached_and_invalidated_in_redis(make_client: AppFactory, redis_server: RedisServer) -> None:
    store = redis.Redis.from_url(redis_server.url)
    store.flushdb()
    client = make_client(redis_url=redis_server.url)
    wait_for_job(client, upload(client, "policy.md", POLICY.encode())["job_id"])
    question = {"query": "Which portal takes expense receipts?"}
    first = client.post("/api/ask", json=question).json()
    assert first["cached"] is False and "Quillfeather" in first["answer"]
    assert len(store.keys("ragops:v1:answer:*")) == 1
    assert len(store.keys("ragops:v1:embedding:*")) == 1
    second = client.post("/api/ask", json=question).json()
    assert second["cached"] is True and second["answer_id"] == first["answer_id"]

    wait_for_job(client, upload(client, "other.txt", b"The canteen opens at noon every weekday.")["job_id"])
    assert store.keys("ragops:v1:answer:*") == [], "a new document drops the tenant's cached answers"
    assert len(store.keys("ragops:v1:embedding:*")) == 1, "embeddings do not depend on documents"
    assert client.post("/api/ask", json=question).json()["cached"] is False
