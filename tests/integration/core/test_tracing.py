"""OpenTelemetry traces as a collector receives them: the real OTLP/HTTP exporter, decoded with
opentelemetry-proto by a local receiver. In-process app and worker (embedded adapters, the real
offline model); `test_tracing_processes.py` covers S3, SQS and Redis with `ragops api` / `ragops
worker`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from ragops_api.dependencies import api_state
from tests.support.api import POLICY, AppFactory, upload, wait_for_job
from tests.support.llm_fakes import FakeLLMServer
from tests.support.otlp import OtlpReceiver, ReceivedSpan

QUESTION = {"query": "Which travel desk books flights?"}


@pytest.fixture
def otlp(monkeypatch: pytest.MonkeyPatch) -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver()
    monkeypatch.setenv(
        "OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url
    )  # the SDK's variable: tracing turns on
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    yield receiver
    receiver.stop()


def flush(client: TestClient) -> None:
    tracing = api_state(client.app).adapters.tracing
    assert tracing is not None, "tracing should be on"
    assert tracing.provider.force_flush(10_000)


def one(spans: list[ReceivedSpan], name: str) -> ReceivedSpan:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, (name, [s.name for s in spans])
    return found[0]


def test_upload_ingestion_and_questions_are_traced(
    make_client: AppFactory, otlp: OtlpReceiver
) -> None:
    client = make_client()
    posted = client.post("/api/upload", files={"file": ("policy.md", POLICY.encode())})
    assert posted.status_code == 202
    document_id = posted.json()["document_id"]
    assert wait_for_job(client, posted.json()["job_id"])["state"] == "ready"
    assert client.post("/api/ask", json=QUESTION).json()["cached"] is False
    assert client.post("/api/ask", json=QUESTION).json()["cached"] is True
    flush(client)

    # The upload: a server span, the stored object and the queued message under it.
    upload_span = one(otlp.named("POST /api/upload"), "POST /api/upload")
    assert (upload_span.kind, upload_span.service) == ("SERVER", "ragops")
    assert upload_span.attributes["ragops.tenant"] == "default"
    assert upload_span.attributes["http.response.status_code"] == 202
    assert upload_span.attributes["ragops.request_id"] == posted.headers["x-request-id"]
    under_upload = otlp.children(upload_span)
    assert {s.name for s in under_upload} >= {"object_store.put", "queue.send"}
    sent = one(under_upload, "queue.send")
    assert sent.kind == "PRODUCER" and sent.attributes["messaging.system"] == "sqlite"

    # The worker continues the upload's trace: one span per document, its steps under it.
    document = otlp.wait_for(
        lambda: otlp.named("ingest.document", **{"ragops.document_id": document_id}),
        "ingest.document span",
    )[0]
    assert (document.trace_id, document.parent_span_id) == (upload_span.trace_id, sent.span_id)
    assert document.attributes["ragops.tenant"] == "default"
    assert document.attributes["ragops.ingest.result"] == "ready"
    steps = otlp.children(document)
    names = [s.name for s in steps]
    for step in (
        "queue.receive",
        "object_store.get",
        "ingest.extract",
        "ingest.chunk",
        "embedding.documents",
        "vector_store.upsert",
        "cache.invalidate",
        "queue.ack",
    ):
        assert step in names, (step, names)
    assert one(steps, "ingest.extract").attributes["ragops.pages"] == 1
    assert all(
        s.attributes["ragops.document_id"] == document_id
        for s in steps
        if s.name != "queue.receive"
    )

    # A question: answer cache miss, query embedding, search, the model, then the answer cached.
    asks = otlp.named("POST /api/ask")
    assert len(asks) == 2
    miss, hit = sorted(asks, key=lambda s: s.start_ns)
    under_miss = otlp.children(miss)
    miss_names = [s.name for s in sorted(under_miss, key=lambda s: s.start_ns)]
    assert miss_names == [
        "cache.get",
        "cache.get",
        "embedding.query",
        "cache.set",
        "vector_store.search",
        "vector_store.search",  # the extractive answerer's support check: best dense match
        "chat extractive",
        "cache.set",
    ], miss_names
    lookups = [s for s in under_miss if s.name == "cache.get"]
    assert [
        (s.attributes["ragops.cache.kind"], s.attributes["ragops.cache.hit"]) for s in lookups
    ] == [("answer", False), ("embedding", False)]
    searches = [s for s in under_miss if s.name == "vector_store.search"]
    assert all(
        s.attributes["ragops.tenant"] == "default" and s.attributes["ragops.search.hits"] >= 1
        for s in searches
    )
    chat = one(under_miss, "chat extractive")
    assert chat.attributes["gen_ai.operation.name"] == "chat"
    # The hit is answered before routing, and still named after its route.
    assert hit.attributes["http.route"] == "/api/ask"
    assert [(s.name, s.attributes.get("ragops.cache.hit")) for s in otlp.children(hit)] == [
        ("cache.get", True)
    ]


def test_language_model_spans_carry_model_and_tokens(
    make_client: AppFactory, otlp: OtlpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeLLMServer() as openai_fake:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("OPENAI_BASE_URL", openai_fake.url + "/v1")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        client = make_client(llm_timeout_seconds=2, llm_max_retries=0)
        wait_for_job(client, upload(client, "policy.md", POLICY.encode())["job_id"])
        openai_fake.fail("500")  # the first call fails: the extractive answer takes over
        assert client.post("/api/ask", json=QUESTION).json()["model"] == "extractive"
        assert (
            client.post("/api/ask", json={"query": "Who books flights?"}).json()["model"]
            == "openai:gpt-4o-mini"
        )
        flush(client)
    failed, answered = sorted(otlp.named("chat gpt-4o-mini"), key=lambda s: s.start_ns)
    assert failed.status == "ERROR" and "exception" in failed.events
    assert one(otlp.children(otlp_parent(otlp, failed)), "chat extractive").status == "UNSET"
    assert answered.status == "UNSET"
    assert answered.attributes["gen_ai.provider.name"] == "openai"
    assert answered.attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert answered.attributes["gen_ai.usage.input_tokens"] > 0
    assert answered.attributes["gen_ai.usage.output_tokens"] > 0
    assert answered.attributes["ragops.llm.cost_usd"] > 0
    assert otlp_parent(otlp, answered).name == "POST /api/ask"


def otlp_parent(otlp: OtlpReceiver, span: ReceivedSpan) -> ReceivedSpan:
    return next(
        s for s in otlp.spans if s.span_id == span.parent_span_id and s.trace_id == span.trace_id
    )


@pytest.mark.parametrize("configured", [False, True], ids=["no-endpoint", "RAGOPS_TRACING=off"])
def test_tracing_is_off_unless_configured(
    make_client: AppFactory, monkeypatch: pytest.MonkeyPatch, configured: bool
) -> None:
    receiver = OtlpReceiver()
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    if configured:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url)
        monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
    else:
        monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    try:
        client = make_client(**({"tracing": "off"} if configured else {}))
        wait_for_job(client, upload(client, "policy.md", POLICY.encode())["job_id"])
        assert client.post("/api/ask", json=QUESTION).status_code == 200
        assert client.post("/api/ask", json=QUESTION).json()["cached"] is True
        adapters = api_state(client.app).adapters
        assert adapters.tracing is None
        # Nothing wraps the ports: the request path does no tracing work.
        assert type(adapters.cache).__name__ == "MemoryCache"
        client.__exit__(None, None, None)  # a provider, had there been one, would flush now
    finally:
        receiver.stop()
    assert receiver.requests == 0
