"""User errors get a 4xx that names the problem; broken files end as failed jobs with a reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support.api import POLICY, AppFactory, upload, wait_for_job


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"query": "   "}, "query must not be empty"),
        ({}, "Field required"),
        ({"query": "x", "top_k": 0}, "greater"),
    ],
)
def test_invalid_questions_are_422_with_a_reason(
    client: TestClient, body: dict[str, object], fragment: str
) -> None:
    response = client.post("/api/ask", json=body)
    assert response.status_code == 422
    assert fragment in response.text


def test_overlong_question_is_422_without_echoing_it(client: TestClient) -> None:
    response = client.post("/api/ask", json={"query": "Who books flights? " * 1100})
    assert response.status_code == 422
    assert "at most 4000 characters" in response.text
    assert len(response.text) < 500


def test_unsupported_type_is_415(client: TestClient) -> None:
    response = client.post("/api/upload", files={"file": ("deck.pptx", b"PK\x03\x04 zip")})
    assert response.status_code == 415
    assert "unsupported file type .pptx" in response.json()["detail"]


def test_pdf_that_is_not_a_pdf_is_415(client: TestClient) -> None:
    response = client.post("/api/upload", files={"file": ("fake.pdf", b"<html>hello</html>")})
    assert response.status_code == 415
    assert "not a PDF" in response.json()["detail"]


def test_too_large_upload_is_413(make_client: AppFactory) -> None:
    client = make_client(max_upload_bytes=1000)
    response = client.post("/api/upload", files={"file": ("big.txt", b"word " * 400)})
    assert response.status_code == 413
    assert "1,000-byte limit" in response.json()["detail"]


def test_huge_upload_is_cut_off_early_with_413(make_client: AppFactory) -> None:
    client = make_client(max_upload_bytes=1000)
    response = client.post("/api/upload", files={"file": ("huge.txt", b"x" * (3 * 1024 * 1024))})
    assert response.status_code == 413
    assert response.json() == {
        "detail": "the upload is over the 1,000-byte limit (RAGOPS_MAX_UPLOAD_BYTES)"
    }
    assert client.get("/healthz").status_code == 200


def test_upload_without_a_length_is_411(make_client: AppFactory) -> None:
    client = make_client(max_upload_bytes=1000)
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n'
        b"hi\r\n--b--\r\n"
    )
    response = client.post(
        "/api/upload",
        content=iter([body]),  # an iterator: sent chunked, without a Content-Length
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert response.status_code == 411
    assert "Content-Length" in response.json()["detail"]


def test_a_failed_upload_leaves_no_file_and_its_id_can_be_deleted(
    make_client: AppFactory, tmp_path: Path
) -> None:
    client = make_client()
    submitted = upload(client, "blank.md", b"  \n\n  ")
    assert wait_for_job(client, submitted["job_id"])["state"] == "failed"
    stored = tmp_path / "data" / "objects"
    assert [p for p in stored.rglob("*") if p.is_file()] == []
    assert client.delete(f"/api/documents/{submitted['document_id']}").status_code == 204


def test_missing_file_field_is_422(client: TestClient) -> None:
    assert client.post("/api/upload", data={"other": "x"}).status_code == 422


def test_unknown_ids_are_404(client: TestClient) -> None:
    assert client.get("/api/jobs/does-not-exist").status_code == 404
    assert client.delete("/api/documents/does-not-exist").status_code == 404


BROKEN = [
    "format-corpus/pdf-handbuilt-test-corpus/minimal_test.pdf",
    "format-corpus/pdfCabinetOfHorrors/encryption_openpassword.pdf",
    "sample-files/005-libreoffice-writer-password/libreoffice-writer-password.pdf",
    "sample-files/017-unreadable-meta-data/unreadablemetadata.pdf",
    "sample-files/007-imagemagick-images/imagemagick-CCITTFaxDecode.pdf",
    "format-corpus/pdfCabinetOfHorrors/veraPDFHiResWrongObjectID.pdf",
]


def test_broken_pdfs_fail_with_reasons_and_the_server_keeps_serving(
    client: TestClient, pdf_dir: Path
) -> None:
    outcomes = {}
    for relative in BROKEN:
        path = pdf_dir / relative
        response = client.post("/api/upload", files={"file": (path.name, path.read_bytes())})
        if response.status_code == 202:
            job = wait_for_job(client, response.json()["job_id"])
            assert job["state"] == "failed", (relative, job)
            outcomes[path.name] = job["error"]
        else:
            assert response.status_code == 415, (relative, response.text)
            outcomes[path.name] = response.json()["detail"]
    assert "encrypted" in outcomes["encryption_openpassword.pdf"]
    assert "encrypted" in outcomes["libreoffice-writer-password.pdf"]
    assert "damaged" in outcomes["unreadablemetadata.pdf"]
    assert "OCR" in outcomes["imagemagick-CCITTFaxDecode.pdf"]
    assert all(len(reason) > 20 for reason in outcomes.values()), json.dumps(outcomes, indent=1)
    assert client.get("/readyz").status_code == 200
    wait_for_job(client, upload(client, "policy.md", POLICY.encode())["job_id"])
    assert "Orbis" in client.post("/api/ask", json={"query": "Who books flights?"}).json()["answer"]
    assert 'ragops_ingest_failures_total{reason="ExtractionError"}' in client.get("/metrics").text
