"""The HTTP API through the real app, with ingestion running in the same process."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from tests.support.api import POLICY, upload, wait_for_job


def test_upload_then_ask_answers_with_the_cited_page(client: TestClient, pdf_dir: Path) -> None:
    pdf = pdf_dir / "format-corpus/govdocs1-error-pdfs/error_set_1/008677.pdf"
    submitted = upload(client, "008677.pdf", pdf.read_bytes())
    job = wait_for_job(client, submitted["job_id"])
    assert job["state"] == "ready", job
    assert job["progress"]["pages_total"] == 15
    assert job["progress"]["chunks_done"] == job["progress"]["chunks_total"] > 0

    response = client.post(
        "/api/ask", json={"query": "Which DEA form do Principal Investigators sign?"}
    )
    assert response.status_code == 200
    body = response.json()
    assert "225" in body["answer"]
    assert body["cached"] is False
    assert body["model"] == "extractive"
    top = body["sources"][0]
    assert (top["filename"], top["page"], top["document_id"]) == (
        "008677.pdf",
        2,
        submitted["document_id"],
    )
    assert "DEA form 225" in top["excerpt"]
    assert len(body["sources"]) == 3


def test_second_identical_question_is_served_from_cache(client: TestClient) -> None:
    wait_for_job(client, upload(client, "policy.md", POLICY.encode())["job_id"])
    first = client.post("/api/ask", json={"query": "What is the hotel limit in Lisbon?"}).json()
    second = client.post("/api/ask", json={"query": "what is the HOTEL limit in lisbon?  "}).json()
    assert first["cached"] is False and second["cached"] is True
    assert second["answer_id"] == first["answer_id"]
    assert "180 euros" in second["answer"]
    metrics = client.get("/metrics").text
    assert 'ragops_cache_requests_total{kind="answer",result="hit"} 1.0' in metrics
    assert 'ragops_cache_requests_total{kind="answer",result="miss"} 1.0' in metrics, (
        "one look-up per miss"
    )
    # Hits are answered ahead of the router; they must still count as requests of the route.
    assert 'ragops_http_requests_total{method="POST",route="/api/ask",status="200"} 2.0' in metrics


def test_cached_answers_honour_top_k_and_validation(client: TestClient) -> None:
    wait_for_job(client, upload(client, "policy.md", POLICY.encode())["job_id"])
    question = "What is the hotel limit in Lisbon?"
    first = client.post("/api/ask", json={"query": question, "top_k": 1}).json()
    assert client.post("/api/ask", json={"query": question, "top_k": 1}).json()["cached"] is True
    assert client.post("/api/ask", json={"query": question, "top_k": 2}).json()["cached"] is False
    assert client.post("/api/ask", json={"query": question, "top_k": 0}).status_code == 422
    huge = client.post("/api/ask", json={"query": question + " " * 70000})
    assert huge.status_code == 422
    assert (
        client.post(
            "/api/ask", content=b"{not json", headers={"content-type": "application/json"}
        ).status_code
        == 422
    )
    assert first["cached"] is False


def test_new_document_invalidates_cached_answers(client: TestClient) -> None:
    wait_for_job(client, upload(client, "policy.md", POLICY.encode())["job_id"])
    question = {"query": "Which portal takes expense receipts?"}
    assert client.post("/api/ask", json=question).json()["cached"] is False
    assert client.post("/api/ask", json=question).json()["cached"] is True
    wait_for_job(client, upload(client, "other.txt", b"The canteen opens at noon.")["job_id"])
    assert client.post("/api/ask", json=question).json()["cached"] is False


def test_streaming_sends_sources_then_pieces_then_the_answer(client: TestClient) -> None:
    wait_for_job(client, upload(client, "policy.md", POLICY.encode())["job_id"])
    with client.stream(
        "POST", "/api/ask/stream", json={"query": "What is the daily meal allowance?"}
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = []
        name = None
        for line in response.iter_lines():
            if line.startswith("event:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                events.append((name, json.loads(line.split(":", 1)[1])))
    names = [e[0] for e in events]
    assert names[0] == "sources" and names[-1] == "done" and "delta" in names
    streamed = "".join(data["text"] for name, data in events if name == "delta")
    assert streamed == events[-1][1]["answer"]
    assert "45 euros" in streamed
    assert events[0][1]["sources"][0]["filename"] == "policy.md"


def test_delete_removes_document_and_its_cached_answers(client: TestClient) -> None:
    submitted = upload(client, "policy.md", POLICY.encode())
    wait_for_job(client, submitted["job_id"])
    listed = client.get("/api/documents").json()
    assert [(d["filename"], d["document_id"]) for d in listed] == [
        ("policy.md", submitted["document_id"])
    ]
    question = {"query": "Who books flights?"}
    assert "Orbis" in client.post("/api/ask", json=question).json()["answer"]

    assert client.delete(f"/api/documents/{submitted['document_id']}").status_code == 204
    assert client.get("/api/documents").json() == []
    after = client.post("/api/ask", json=question).json()
    assert after["cached"] is False
    assert after["sources"] == []
    assert "Orbis" not in after["answer"]
    assert client.delete(f"/api/documents/{submitted['document_id']}").status_code == 404


def test_reupload_replaces_instead_of_duplicating(client: TestClient) -> None:
    first = upload(client, "policy.md", POLICY.encode())
    wait_for_job(client, first["job_id"])
    second = upload(client, "policy.md", POLICY.replace("180 euros", "210 euros").encode())
    wait_for_job(client, second["job_id"])
    assert second["document_id"] == first["document_id"]
    assert len(client.get("/api/documents").json()) == 1
    body = client.post(
        "/api/ask", json={"query": "What is the hotel limit in Lisbon?", "top_k": 5}
    ).json()
    assert "210 euros" in body["answer"]
    assert len(body["sources"]) == 1, "old chunks of the replaced version must be gone"


def test_no_documents_yet_is_a_clear_answer(client: TestClient) -> None:
    body = client.post("/api/ask", json={"query": "anything?"}).json()
    assert body["sources"] == []
    assert "no documents" in body["answer"].lower()


def test_feedback_on_a_real_answer_is_accepted_and_counted(client: TestClient) -> None:
    wait_for_job(client, upload(client, "policy.md", POLICY.encode())["job_id"])
    answer = client.post("/api/ask", json={"query": "Who books flights?"}).json()
    response = client.post(
        "/api/feedback", json={"answer_id": answer["answer_id"], "rating": "up", "comment": "good"}
    )
    assert response.status_code == 204
    assert 'ragops_feedback_total{rating="up"} 1.0' in client.get("/metrics").text
    assert (
        client.post("/api/feedback", json={"answer_id": "nope", "rating": "up"}).status_code == 404
    )
    bad = client.post("/api/feedback", json={"answer_id": answer["answer_id"], "rating": "meh"})
    assert bad.status_code == 422


def test_operations_endpoints(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["worker"] == "ok"
    assert "ragops_http_request_duration_seconds_bucket" in client.get("/metrics").text
    schema = client.get("/openapi.json").json()
    assert {
        "/api/upload",
        "/api/ask",
        "/api/ask/stream",
        "/api/jobs/{job_id}",
        "/api/documents",
        "/api/documents/{document_id}",
        "/api/feedback",
    } <= set(schema["paths"])
    assert client.get("/docs").status_code == 200
