"""What an operator sees of each request without tracing: the X-Request-ID on the response and on
every JSON log line of the request (and of the worker's handling of its upload), and the dashboard
metrics (active users, what the answer cache saved, index size) moving as the behaviour happens."""

from __future__ import annotations

import io
import json
import logging
import re
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from ragops_core.logs import JsonFormatter
from tests.support.api import POLICY, AppFactory, upload, wait_for_job
from tests.support.jwks import CLIENT_ID, ISSUER, KEY_ID, JwksServer
from tests.support.llm_fakes import FakeLLMServer

QUESTION = {"query": "Which travel desk books flights?"}


class JsonLines:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    def lines(self, message: str | None = None) -> list[dict[str, Any]]:
        found = [json.loads(line) for line in self.stream.getvalue().splitlines()]
        return [line for line in found if message is None or line["message"] == message]


@pytest.fixture
def logs() -> Iterator[JsonLines]:
    """Root logging through the services' own JSON formatter, at info."""
    captured = JsonLines()
    handler = logging.StreamHandler(captured.stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield captured
    root.removeHandler(handler)
    root.setLevel(level)


def sample(client: TestClient, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    raise AssertionError(f"{name}{labels} not exported")


def test_request_ids_are_echoed_and_on_the_request_and_worker_log_lines(
    client: TestClient, logs: JsonLines
) -> None:
    posted = client.post(
        "/api/upload",
        files={"file": ("policy.md", POLICY.encode())},
        headers={"X-Request-ID": "req-42:upload"},
    )
    assert posted.status_code == 202
    assert posted.headers["x-request-id"] == "req-42:upload"
    job_id, document_id = posted.json()["job_id"], posted.json()["document_id"]
    assert wait_for_job(client, job_id)["state"] == "ready"

    (queued,) = logs.lines("Queued document for ingestion")
    assert {k: queued[k] for k in ("request_id", "tenant", "job_id", "document_id")} == {
        "request_id": "req-42:upload",
        "tenant": "default",
        "job_id": job_id,
        "document_id": document_id,
    }
    (ingested,) = logs.lines(
        "Ingested document"
    )  # the worker, in its own task, after the request ended
    assert {k: ingested[k] for k in ("request_id", "tenant", "job_id", "document_id")} == {
        "request_id": "req-42:upload",
        "tenant": "default",
        "job_id": job_id,
        "document_id": document_id,
    }
    assert "trace_id" not in ingested, "no trace ids while tracing is off"

    # No id, or one that is not a plain short token: a fresh one, returned and logged.
    for header in (
        {},
        {"X-Request-ID": "two words"},
        {"X-Request-ID": "x" * 200},
        {"X-Request-ID": "a\tb"},
    ):
        deleted = client.delete(f"/api/documents/{document_id}", headers=header)
        generated = deleted.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", generated), (header, generated)
        if deleted.status_code == 204:
            (line,) = logs.lines("Deleted document")
            assert line["request_id"] == generated and line["tenant"] == "default"
    assert client.get("/healthz").headers["x-request-id"], "every response names its request"
    ids = {client.get("/healthz").headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3


def test_active_users_counts_distinct_token_subjects(
    make_client: AppFactory, jwks: JwksServer, logs: JsonLines
) -> None:
    client = make_client(auth_jwks_url=jwks.url, auth_issuer=ISSUER, auth_audience=CLIENT_ID)
    assert sample(client, "ragops_active_users", window="5m") == 0

    def as_user(tenant: str, subject: str) -> dict[str, str]:
        claims = {
            "iss": ISSUER,
            "client_id": CLIENT_ID,
            "exp": int(time.time()) + 300,
            "sub": subject,
            "token_use": "access",
            "custom:tenant": tenant,
        }
        token = jwt.encode(claims, jwks.private_key, algorithm="RS256", headers={"kid": KEY_ID})
        return {"authorization": f"Bearer {token}"}

    assert client.get("/api/documents", headers=as_user("acme", "alice")).status_code == 200
    assert client.get("/api/documents", headers=as_user("acme", "bob")).status_code == 200
    assert (
        client.post("/api/ask", json=QUESTION, headers=as_user("acme", "alice")).status_code == 200
    )
    assert (
        client.get("/api/documents", headers={"authorization": "Bearer forged"}).status_code == 401
    )
    for window in ("5m", "1h", "24h"):
        assert sample(client, "ragops_active_users", window=window) == 2, window
    client.post(
        "/api/upload",
        files={"file": ("policy.md", POLICY.encode())},
        headers=as_user("globex", "carol"),
    )
    assert sample(client, "ragops_active_users", window="5m") == 3
    (queued,) = logs.lines("Queued document for ingestion")
    assert (queued["tenant"], queued["user"]) == ("globex", "carol")


def test_cache_hits_count_the_seconds_tokens_and_dollars_they_saved(
    make_client: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeLLMServer() as openai_fake:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("OPENAI_BASE_URL", openai_fake.url + "/v1")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        client = make_client(llm_timeout_seconds=2, llm_max_retries=0)
        wait_for_job(client, upload(client, "policy.md", POLICY.encode())["job_id"])
        assert client.post("/api/ask", json=QUESTION).json()["cached"] is False
        spent_tokens = sum(
            sample(client, "ragops_llm_tokens_total", kind=k) for k in ("prompt", "completion")
        )
        spent_usd = sample(client, "ragops_llm_cost_usd_total", model="gpt-4o-mini")
        assert spent_tokens > 0 and spent_usd > 0
        assert sample(client, "ragops_cache_saved_tokens_total") == 0
        assert sample(client, "ragops_cache_saved_seconds_total") == 0

        for hits in (1, 2):
            answered = client.post("/api/ask", json=QUESTION)
            assert answered.json()["cached"] is True
            assert "\n" not in answered.text, "the cost trailer stays in the cache"
            assert sample(client, "ragops_cache_saved_tokens_total") == hits * spent_tokens
            assert sample(client, "ragops_cache_saved_usd_total") == pytest.approx(hits * spent_usd)
        # A streamed hit saves as much as a plain one.
        with client.stream("POST", "/api/ask/stream", json=QUESTION) as stream:
            assert '"cached": true' in "".join(stream.iter_text())
        assert sample(client, "ragops_cache_saved_tokens_total") == 3 * spent_tokens
        assert sample(client, "ragops_cache_saved_seconds_total") > 0


def test_index_points_follow_ingestion_and_deletion(client: TestClient) -> None:
    assert sample(client, "ragops_index_points") == 0
    uploaded = upload(client, "policy.md", POLICY.encode())
    wait_for_job(client, uploaded["job_id"])
    (listed,) = client.get("/api/documents").json()
    assert sample(client, "ragops_index_points") == listed["chunks"] > 0
    assert client.delete(f"/api/documents/{uploaded['document_id']}").status_code == 204
    assert sample(client, "ragops_index_points") == 0
