"""RAGOPS_MAX_UPLOAD_PAGES: a PDF with too many pages is refused at upload when it says so, and
failed by the worker, with the reason, when only reading it tells."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfWriter
from pypdf.generic import NameObject, NumberObject

from ragops_worker import pdfium_fallback
from tests.support.api import AppFactory, upload, wait_for_job

HANDBOOK = "format-corpus/govdocs1-error-pdfs/error_set_1/316267.pdf"  # 104 pages


def blank_pdf(pages: int, *, declared: int | None = None) -> bytes:
    """A PDF of blank pages; `declared` writes another count into its page tree, as damaged files
    do."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=72, height=72)
    if declared is not None:
        writer._root_object["/Pages"].get_object()[NameObject("/Count")] = NumberObject(declared)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_pdf_over_the_page_limit_is_refused_at_upload(
    make_client: AppFactory, pdf_dir: Path
) -> None:
    client = make_client(max_upload_pages=100)
    refused = client.post(
        "/api/upload", files={"file": ("handbook.pdf", (pdf_dir / HANDBOOK).read_bytes())}
    )
    assert refused.status_code == 413
    assert refused.json() == {
        "detail": "'handbook.pdf' has 104 pages; the limit is 100 pages (RAGOPS_MAX_UPLOAD_PAGES)"
    }
    assert client.get("/api/documents").json() == []

    assert (
        client.post("/api/upload", files={"file": ("hundred.pdf", blank_pdf(100))}).status_code
        == 202
    )


def test_the_worker_fails_a_pdf_whose_pages_outnumber_the_limit(make_client: AppFactory) -> None:
    client = make_client(max_upload_pages=5)
    assert (
        client.post("/api/upload", files={"file": ("at-limit.pdf", blank_pdf(5))}).status_code
        == 202
    )
    # Its page tree says 1 page, so the upload lets it through; the worker counts the 6 it really
    # has.
    job = wait_for_job(client, upload(client, "liar.pdf", blank_pdf(6, declared=1))["job_id"])
    assert job["state"] == "failed"
    assert job["error"] == "'liar.pdf' has 6 pages; the limit is 5 pages (RAGOPS_MAX_UPLOAD_PAGES)"
    assert (
        'ragops_ingest_failures_total{reason="DocumentTooLargeError"} 1.0'
        in client.get("/metrics").text
    )


def test_the_document_list_counts_the_pages_no_reader_could_read(
    make_client: AppFactory, pdf_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pypdf raises on 3 of this file's 33 pages; with PDFium's budget spent they stay unread.
    monkeypatch.setattr(pdfium_fallback, "BUDGET_SECONDS", 0.0)
    client = make_client()
    path = pdf_dir / "format-corpus/govdocs1-error-pdfs/error_set_2/504076.pdf"
    job = wait_for_job(client, upload(client, path.name, path.read_bytes())["job_id"])
    assert job["state"] == "ready" and job["progress"]["pages_unreadable"] == 3
    wait_for_job(client, upload(client, "notes.md", b"# Notes\n\nAll readable.")["job_id"])
    listed = {d["filename"]: d for d in client.get("/api/documents").json()}
    assert (listed["504076.pdf"]["pages"], listed["504076.pdf"]["pages_unreadable"]) == (33, 3)
    assert listed["notes.md"]["pages_unreadable"] == 0
