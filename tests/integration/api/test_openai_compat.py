"""The official `openai` client talks to RAGOps' /v1/chat/completions, streaming and not."""

from __future__ import annotations

import openai
from fastapi.testclient import TestClient

from ragops_api.openai_compat import sources_text
from tests.support.api import POLICY, upload, wait_for_job


def client_for(app_client: TestClient) -> openai.OpenAI:
    # TestClient is an httpx.Client, so the SDK's real HTTP code runs against the real app.
    return openai.OpenAI(
        base_url="http://testserver/v1", api_key="unused", http_client=app_client, max_retries=0
    )


def test_completion_answers_with_sources(client: TestClient) -> None:
    wait_for_job(client, upload(client, "policy.md", POLICY.encode())["job_id"])
    completion = client_for(client).chat.completions.create(
        model="ragops",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Who books flights?"},
        ],
    )
    content = completion.choices[0].message.content or ""
    assert "Orbis" in content
    assert "Sources:\n[1] policy.md, page 1" in content
    extra = completion.model_extra or {}
    assert extra["sources"][0]["filename"] == "policy.md"
    assert extra["answered_by"] == "extractive"


def test_streaming_completion_arrives_in_chunks(client: TestClient) -> None:
    wait_for_job(client, upload(client, "policy.md", POLICY.encode())["job_id"])
    stream = client_for(client).chat.completions.create(
        model="ragops",
        messages=[{"role": "user", "content": "What is the daily meal allowance?"}],
        stream=True,
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert len(chunks) >= 4
    assert "45 euros" in text and "policy.md, page 1" in text
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert (chunks[-1].model_extra or {})["sources"][0]["filename"] == "policy.md"


def test_conversation_without_a_user_question_is_400(client: TestClient) -> None:
    response = client.post(
        "/v1/chat/completions", json={"messages": [{"role": "system", "content": "hi"}]}
    )
    assert response.status_code == 400
    assert "no user message" in response.json()["error"]["message"]


def test_sources_text_is_empty_without_sources() -> None:
    assert sources_text([]) == ""
