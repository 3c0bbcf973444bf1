"""The README's one-minute tour, on the PDF it ships (examples/ragops-backups.pdf): what it shows is
what a newcomer gets."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from tests.support.api import upload, wait_for_job

REPO = Path(__file__).resolve().parents[3]
TOUR_PDF = REPO / "examples" / "ragops-backups.pdf"


def _tour() -> str:
    readme = (REPO / "README.md").read_text()
    return readme.split("## A one-minute tour", 1)[1].split("\n## ", 1)[0]


def test_the_tour_uploads_a_pdf_of_the_repository_and_shows_its_real_answer(
    client: TestClient,
) -> None:
    tour = _tour()
    assert "curl -s -F file=@examples/ragops-backups.pdf " in tour
    question = re.search(r'"query": "([^"]+)"', tour)
    assert question is not None
    job = wait_for_job(client, upload(client, TOUR_PDF.name, TOUR_PDF.read_bytes())["job_id"])
    assert job["state"] == "ready" and job["progress"]["pages_total"] == 3
    assert '"pages_done":3,"pages_total":3' in tour
    answer = client.post("/api/ask", json={"query": question.group(1)}).json()
    supporting = answer["sources"][0]
    assert (supporting["filename"], supporting["page"]) == ("ragops-backups.pdf", 2)
    assert '"filename":"ragops-backups.pdf","page":2' in tour
    assert "RAGOPS_BACKUP_KEEP_AT_LEAST (default 3) are always kept" in answer["answer"]
    assert "RAGOPS_BACKUP_KEEP_AT_LEAST (default 3) are always kept" in tour
    # The answer begins as shown: with the section's heading set off ("Retention: Applied ..."),
    # not run into its first sentence.
    shown = re.search(r'"answer":"([^"\n]+)', tour)
    assert shown is not None and answer["answer"].startswith(shown.group(1).rstrip())
