"""Answers that know when the documents do not answer: `answered` and no sources."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support.api import POLICY, stream_events, upload, wait_for_job

NOT_IN_THE_POLICY = "What is the capital of France?"
IN_THE_POLICY = "What is the daily meal allowance?"


def test_a_question_the_documents_cannot_answer_says_so_without_sources(
    client: TestClient,
) -> None:
    wait_for_job(client, upload(client, "policy.md", POLICY.encode())["job_id"])
    body = client.post("/api/ask", json={"query": NOT_IN_THE_POLICY}).json()
    assert body["answered"] is False
    assert body["sources"] == []
    assert "do not contain" in body["answer"]
    assert "Zephyrine" not in body["answer"]
    # The cached copy says the same.
    again = client.post("/api/ask", json={"query": NOT_IN_THE_POLICY}).json()
    assert again["cached"] is True and again["answered"] is False and again["sources"] == []

    answered = client.post("/api/ask", json={"query": IN_THE_POLICY}).json()
    assert answered["answered"] is True
    assert "45 euros" in answered["answer"] and answered["sources"]


def test_the_stream_done_event_carries_answered(client: TestClient) -> None:
    wait_for_job(client, upload(client, "policy.md", POLICY.encode())["job_id"])
    refused = stream_events(client, NOT_IN_THE_POLICY)
    assert refused[0] == ("sources", {"sources": [], "cached": False})
    assert refused[-1][0] == "done"
    assert refused[-1][1]["answered"] is False and refused[-1][1]["sources"] == []

    answered = stream_events(client, IN_THE_POLICY)
    assert answered[-1][1]["answered"] is True and answered[-1][1]["sources"]


def test_no_documents_yet_is_not_an_answer(client: TestClient) -> None:
    body = client.post("/api/ask", json={"query": "anything?"}).json()
    assert body["answered"] is False and body["sources"] == []


def test_the_schema_documents_answered(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]["AskResponse"]
    assert "answered" in schema["required"]
    assert "sources" in schema["properties"]["answered"]["description"]
