"""The API with language models configured by environment alone: OpenAI answers,
Bedrock takes over when OpenAI fails, the extractive answer when both fail."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from ragops_core.answering import NOT_FOUND
from tests.support.api import POLICY, AppFactory, upload, wait_for_job
from tests.support.llm_fakes import FakeLLMServer

BEDROCK_MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
QUESTION = {"query": "Which travel desk books flights?"}


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeLLMServer, FakeLLMServer]]:
    with (
        FakeLLMServer() as openai_fake,
        FakeLLMServer(pieces=("Bedrock says Orbis ", "[1].")) as bedrock_fake,
    ):
        for name, value in {
            "OPENAI_API_KEY": "sk-test",
            "OPENAI_BASE_URL": openai_fake.url + "/v1",
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": bedrock_fake.url,
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "AKIDTEST",
            "AWS_SECRET_ACCESS_KEY": "secret",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
            "NO_PROXY": "127.0.0.1",
        }.items():
            monkeypatch.setenv(name, value)
        yield openai_fake, bedrock_fake


@pytest.fixture
def llm_client(make_client: AppFactory, fakes: tuple[FakeLLMServer, FakeLLMServer]) -> TestClient:
    client = make_client(
        bedrock_model_id=BEDROCK_MODEL,
        llm_timeout_seconds=2,
        llm_max_retries=0,
        llm_first_delta_timeout_seconds=3,
    )
    wait_for_job(client, upload(client, "policy.md", POLICY.encode())["job_id"])
    return client


def test_openai_answers_with_sources_and_usage_is_counted(
    llm_client: TestClient, fakes: tuple[FakeLLMServer, FakeLLMServer]
) -> None:
    body = llm_client.post("/api/ask", json=QUESTION).json()
    assert body["model"] == "openai:gpt-4o-mini"
    assert body["answer"] == "The PIs sign DEA form 225 [1]."
    assert body["sources"][0]["filename"] == "policy.md"
    prompt = str(fakes[0].requests_to("/chat/completions")[0].body)
    assert "Orbis" in prompt, "the retrieved chunk is in the prompt"
    metrics = llm_client.get("/metrics").text
    assert 'ragops_llm_tokens_total{kind="prompt",model="gpt-4o-mini"}' in metrics
    assert llm_client.post("/api/ask", json=QUESTION).json()["cached"] is True


def test_bedrock_answers_when_openai_fails_and_is_not_cached(
    llm_client: TestClient, fakes: tuple[FakeLLMServer, FakeLLMServer]
) -> None:
    fakes[0].fail(always="500")
    body = llm_client.post("/api/ask", json=QUESTION).json()
    assert body["model"] == f"bedrock:{BEDROCK_MODEL}"
    assert body["answer"] == "Bedrock says Orbis [1]."
    assert llm_client.post("/api/ask", json=QUESTION).json()["cached"] is False, (
        "the preferred model gets retried"
    )
    assert "ragops_llm_fallbacks_total{" in llm_client.get("/metrics").text


def test_extractive_answer_when_both_models_fail(
    llm_client: TestClient, fakes: tuple[FakeLLMServer, FakeLLMServer]
) -> None:
    fakes[0].fail(always="500")
    fakes[1].fail(always="500")
    with llm_client.stream("POST", "/api/ask/stream", json=QUESTION) as response:
        text = "".join(response.iter_text())
    assert '"model": "extractive"' in text
    assert "Orbis travel desk" in text


def test_a_model_that_says_the_documents_do_not_answer_is_marked_unanswered(
    llm_client: TestClient, fakes: tuple[FakeLLMServer, FakeLLMServer]
) -> None:
    # The extractive gate is not applied to LLMs: the model is asked, and its verdict counts.
    fakes[0].pieces = (NOT_FOUND[:20], NOT_FOUND[20:])
    body = llm_client.post("/api/ask", json={"query": "What is the capital of France?"}).json()
    assert body["model"] == "openai:gpt-4o-mini"
    assert body["answer"] == NOT_FOUND
    assert body["answered"] is False and body["sources"] == []
    prompt = str(fakes[0].requests_to("/chat/completions")[0].body)
    assert NOT_FOUND in prompt, "the prompt tells the model the sentence to answer with"

    fakes[0].pieces = ("Orbis books flights ", "[1].")
    answered = llm_client.post("/api/ask", json=QUESTION).json()
    assert answered["answered"] is True and answered["sources"][0]["filename"] == "policy.md"
