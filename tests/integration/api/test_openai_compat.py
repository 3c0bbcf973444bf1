"""The official `openai` client talks to RAGOps' /v1/chat/completions, streaming and not."""

from __future__ import annotations

import openai
import pytest
from fastapi.testclient import TestClient
from openai.types.chat import ChatCompletionMessageParam

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


def test_models_lists_the_model_id_that_completions_accept(client: TestClient) -> None:
    sdk = client_for(client)
    ids = [model.id for model in sdk.models.list()]
    assert ids == ["ragops"]
    assert sdk.models.retrieve("ragops").id == "ragops"
    wait_for_job(client, upload(client, "policy.md", POLICY.encode())["job_id"])
    completion = sdk.chat.completions.create(
        model=ids[0], messages=[{"role": "user", "content": "Who books flights?"}]
    )
    assert "Orbis" in (completion.choices[0].message.content or "")


def test_usage_counts_the_question_and_the_answer(client: TestClient) -> None:
    wait_for_job(client, upload(client, "policy.md", POLICY.encode())["job_id"])
    sdk = client_for(client)

    def usage_of(question: str) -> openai.types.CompletionUsage:
        completion = sdk.chat.completions.create(
            model="ragops", messages=[{"role": "user", "content": question}]
        )
        assert completion.usage is not None
        return completion.usage

    short = usage_of("Who books flights?")
    longer = usage_of("Who books flights, and which desk handles the meal allowance claims?")
    # Word pieces: at least one per word, rarely more than two.
    assert 3 <= short.prompt_tokens <= 8
    assert longer.prompt_tokens > short.prompt_tokens
    assert short.completion_tokens >= 5  # the answer and its "Sources" list
    assert short.total_tokens == short.prompt_tokens + short.completion_tokens


def test_streaming_with_include_usage_ends_with_a_usage_chunk(client: TestClient) -> None:
    wait_for_job(client, upload(client, "policy.md", POLICY.encode())["job_id"])
    sdk = client_for(client)
    messages: list[ChatCompletionMessageParam] = [
        {"role": "user", "content": "What is the daily meal allowance?"}
    ]
    chunks = list(
        sdk.chat.completions.create(
            model="ragops",
            messages=messages,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    whole = sdk.chat.completions.create(model="ragops", messages=messages)
    assert whole.usage is not None
    # The streamed message is the same text, so the same count.
    assert last.usage.completion_tokens == whole.usage.completion_tokens > 0
    assert last.usage.prompt_tokens == whole.usage.prompt_tokens > 0
    assert all(c.usage is None for c in chunks[:-1])


def test_overlong_question_is_refused_like_on_api_ask(client: TestClient) -> None:
    question = "Who books flights? " * 1100  # 20,900 characters
    with pytest.raises(openai.UnprocessableEntityError) as refused:
        client_for(client).chat.completions.create(
            model="ragops", messages=[{"role": "user", "content": question}]
        )
    body = refused.value.response.text
    assert "the limit is 4,000" in body
    assert len(body) < 500  # the question is not echoed back
    assert client.post("/api/ask", json={"query": question}).status_code == 422
