"""`Cache-Control: no-cache` on a question: answered afresh, not from the answer cache, on the
fast path of cache hits and on the stream alike (what `ragops eval --url` sends, so that a
quality gate measures a color and not the cache both colors share)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.support.api import POLICY, upload, wait_for_job

QUESTION = "What is the hotel limit in Lisbon?"


def _events(client: TestClient, headers: dict[str, str]) -> dict[str, dict[str, object]]:
    with client.stream(
        "POST", "/api/ask/stream", json={"query": QUESTION}, headers=headers
    ) as response:
        assert response.status_code == 200
        text = "".join(response.iter_text())
    events: dict[str, dict[str, object]] = {}
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            events[fields["event"]] = json.loads(fields["data"])
    return events


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
