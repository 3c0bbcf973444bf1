"""`Cache-Control: no-cache` on a question: answered afresh, not from the answer cache, on the
fast path of cache hits and on the stream alike (what `ragops eval --url` sends, so that a
quality gate measures a color and not the cache both colors share)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.support.api import POLICY, stream_events, upload, wait_for_job

QUESTION = "What is the hotel limit in Lisbon?"


def _events(client: TestClient, headers: dict[str, str]) -> dict[str | None, Any]:
    return dict(stream_events(client, QUESTION, headers))


def test_no_cache_answers_afresh_and_the_fresh_answer_is_cached(client: TestClient) -> None:
    wait_for_job(client, upload(client, "policy.md", POLICY.encode())["job_id"])
    first = client.post("/api/ask", json={"query": QUESTION}).json()
    assert client.post("/api/ask", json={"query": QUESTION}).json()["cached"] is True

    for directive in ("no-cache", "max-age=0, No-Store"):
        fresh = client.post(
            "/api/ask", json={"query": QUESTION}, headers={"cache-control": directive}
        ).json()
        assert fresh["cached"] is False, directive
        assert fresh["answer_id"] != first["answer_id"]
        assert "180 euros" in fresh["answer"]
    # The fresh answer replaced the cached one.
    again = client.post("/api/ask", json={"query": QUESTION}).json()
    assert again["cached"] is True and again["answer_id"] == fresh["answer_id"]
    # Other directives leave the cache in use.
    kept = client.post(
        "/api/ask", json={"query": QUESTION}, headers={"cache-control": "max-age=60"}
    )
    assert kept.json()["cached"] is True

    assert _events(client, {})["sources"]["cached"] is True
    streamed = _events(client, {"cache-control": "no-cache"})
    assert streamed["sources"]["cached"] is False
    assert streamed["done"]["cached"] is False and "180 euros" in str(streamed["done"]["answer"])
