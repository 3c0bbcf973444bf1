"""Clients that hang up before a whole (non-streamed) answer is ready stop its model call.

`ragops serve` as a real process, OpenAI answering through the wire-protocol fake, which answers
late and sees whether each call's connection was closed before it answered.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.api import POLICY
from tests.support.llm_fakes import FakeLLMServer
from tests.support.processes import Server

CLIENTS = 10
ANSWER_DELAY_SECONDS = 6.0
CLIENT_PATIENCE_SECONDS = 0.5


@pytest.fixture
def server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Server, FakeLLMServer]]:
    with FakeLLMServer(answer_delay_seconds=ANSWER_DELAY_SECONDS) as fake:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("OPENAI_BASE_URL", fake.url + "/v1")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        monkeypatch.setenv("RAGOPS_LLM_MAX_RETRIES", "0")
        monkeypatch.setenv("RAGOPS_LLM_TIMEOUT_SECONDS", "30")
        running = Server(tmp_path / "data", tmp_path / "serve.log")
        try:
            job = httpx.post(
                f"{running.url}/api/upload", files={"file": ("policy.md", POLICY.encode())}
            ).json()
            assert running.wait_for_job(job["job_id"])["state"] == "ready"
            # A patient client first: the model answers it (and the server's first search, which
            # loads what it needs, is not what the hurried clients wait for).
            warm = httpx.post(
                f"{running.url}/api/ask", json={"query": "Who books flights?"}, timeout=60
            )
            assert warm.status_code == 200, warm.text
            assert fake.counts() == (1, 0), warm.json()
            yield running, fake
        finally:
            running.stop()


def hang_up(url: str, body: dict[str, Any]) -> str:
    """POST, then close the connection after CLIENT_PATIENCE_SECONDS without an answer."""
    try:
        httpx.post(url, json=body, timeout=CLIENT_PATIENCE_SECONDS)
    except httpx.ReadTimeout:
        return "hung up"
    return "answered"


def drop_clients(url: str, bodies: list[dict[str, Any]], fake: FakeLLMServer) -> None:
    calls_before = len(fake.requests_to("/chat/completions"))
    with ThreadPoolExecutor(CLIENTS) as pool:
        outcomes = list(pool.map(lambda body: hang_up(url, body), bodies))
    assert outcomes == ["hung up"] * CLIENTS
    # Past the time the model takes to answer: every call it was given has ended by now.
    deadline = time.monotonic() + ANSWER_DELAY_SECONDS + 3
    while time.monotonic() < deadline:
        time.sleep(0.2)
    calls = len(fake.requests_to("/chat/completions")) - calls_before
    completed, abandoned = fake.counts()
    assert calls > 0, "the questions reached the model"
    # The warm-up's call is the only one answered.
    assert completed == 1, f"{completed - 1} of {calls} model calls ran to the end for nobody"
    assert abandoned == calls


def test_ask_cancels_its_model_call_when_the_client_hangs_up(
    server: tuple[Server, FakeLLMServer],
) -> None:
    running, fake = server
    bodies = [{"query": f"Which travel desk books flights for trip {i}?"} for i in range(CLIENTS)]
    drop_clients(f"{running.url}/api/ask", bodies, fake)


def test_chat_completions_cancel_their_model_call_when_the_client_hangs_up(
    server: tuple[Server, FakeLLMServer],
) -> None:
    running, fake = server
    bodies = [
        {
            "model": "ragops",
            "messages": [{"role": "user", "content": f"What is the meal allowance, case {i}?"}],
        }
        for i in range(CLIENTS)
    ]
    drop_clients(f"{running.url}/v1/chat/completions", bodies, fake)
