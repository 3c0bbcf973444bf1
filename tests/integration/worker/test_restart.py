"""`ragops serve` as a real process: a restart, even a crash mid-document, loses nothing."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx

from tests.support.api import POLICY
from tests.support.processes import Server, ragops


def test_answers_survive_a_restart(tmp_path: Path, pdf_dir: Path) -> None:
    data = tmp_path / "data"
    server = Server(data, tmp_path / "serve.log")
    try:
        job = httpx.post(
            f"{server.url}/api/upload", files={"file": ("policy.md", POLICY.encode())}
        ).json()
        assert server.wait_for_job(job["job_id"])["state"] == "ready"
    finally:
        # uvicorn re-raises the signal after a graceful shutdown, so -SIGTERM is a clean exit.
        assert server.stop() in (0, -signal.SIGTERM), server.log()
        assert "Application shutdown complete" in server.log()

    server = Server(data, tmp_path / "serve.log")
    try:
        body = httpx.post(
            f"{server.url}/api/ask", json={"query": "Which travel desk books flights?"}
        ).json()
        assert "Orbis" in body["answer"]
        assert body["sources"][0]["filename"] == "policy.md"
        assert [d["filename"] for d in httpx.get(f"{server.url}/api/documents").json()] == [
            "policy.md"
        ]
        assert httpx.get(f"{server.url}/api/jobs/{job['job_id']}").json()["state"] == "ready"
    finally:
        server.stop()


def test_a_crash_mid_document_is_finished_after_restart(tmp_path: Path, pdf_dir: Path) -> None:
    data = tmp_path / "data"
    pdf = pdf_dir / "format-corpus/govdocs1-error-pdfs/error_set_1/195981.pdf"
    server = Server(data, tmp_path / "serve.log")
    job = httpx.post(
        f"{server.url}/api/upload", files={"file": (pdf.name, pdf.read_bytes())}
    ).json()
    deadline = time.monotonic() + 60
    while (
        httpx.get(f"{server.url}/api/jobs/{job['job_id']}").json()["progress"].get("pages_done", 0)
        < 5
    ):
        assert time.monotonic() < deadline, "ingestion never started"
        time.sleep(0.05)
    server.stop(signal.SIGKILL)
    assert server.process.returncode == -signal.SIGKILL

    server = Server(data, tmp_path / "serve.log")
    try:
        finished = server.wait_for_job(job["job_id"])
        assert finished["state"] == "ready", finished
        assert finished["progress"]["pages_total"] == 101
    finally:
        server.stop()


def test_cli_talks_to_a_running_server(tmp_path: Path) -> None:
    doc = tmp_path / "policy.md"
    doc.write_text(POLICY)
    server = Server(tmp_path / "data", tmp_path / "serve.log")
    try:
        ingested = ragops("ingest", "--url", server.url, str(doc))
        assert ingested.returncode == 0, ingested.stderr + ingested.stdout
        assert "ready" in ingested.stdout and "policy.md" in ingested.stdout
        asked = ragops("ask", "--url", server.url, "What is the daily meal allowance?")
        assert asked.returncode == 0, asked.stderr
        assert "45 euros" in asked.stdout and "policy.md, page 1" in asked.stdout
        busy = ragops("ask", "--data-dir", str(tmp_path / "data"), "anything")
        assert busy.returncode == 2
        assert "--url" in busy.stdout
    finally:
        server.stop()
