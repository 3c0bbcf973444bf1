"""A document that kills `ragops serve` each time it is processed ends failed, and leaves nothing
searchable behind.

A restart of the whole process counts as an attempt of the document it was processing (the
queue's receive count goes up on each delivery), so such a document is given up after
RAGOPS_JOB_MAX_ATTEMPTS deliveries instead of looping forever. The chunks its attempts indexed
are removed then. The process runs over the real Qdrant server, so the test can count them.
"""

from __future__ import annotations

import signal
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from qdrant_client import QdrantClient, models

from ragops_core.adapters.embedder.onnx import OnnxMiniLMEmbedder
from ragops_core.documents import object_key
from ragops_core.domain import IngestMessage
from ragops_core.errors import NotFoundError
from ragops_core.metrics import Metrics
from ragops_core.settings import Settings
from ragops_wiring.adapters import build_adapters
from ragops_wiring.services import build_document_service
from ragops_worker.service import build_pipeline
from tests.support.api import POLICY, AppFactory, upload, wait_for_job
from tests.support.processes import Server
from tests.support.qdrant_server import QdrantServer

LONG_PDF = "format-corpus/govdocs1-error-pdfs/error_set_1/195981.pdf"  # 101 pages
MAX_ATTEMPTS = 2
DEADLINE_SECONDS = 120.0


def chunks_of(qdrant: QdrantClient, collection: str, document_id: str) -> list[str]:
    points, _ = qdrant.scroll(
        collection,
        scroll_filter=models.Filter(
            must=[
                models.FieldCondition(key="document_id", match=models.MatchValue(value=document_id))
            ]
        ),
        limit=1000,
        with_payload=True,
    )
    return [str((point.payload or {}).get("text", "")) for point in points]


def kill_once_chunks_are_indexed(server: Server, job_id: str) -> dict[str, Any]:
    """SIGKILL the server while the document is half indexed (some chunks written) by this
    process: the job's progress starts again from 0 on each attempt."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    restarted = False
    while True:
        job = httpx.get(f"{server.url}/api/jobs/{job_id}", timeout=10).json()
        done = job["progress"].get("chunks_done", 0)
        restarted = restarted or done < 16
        if restarted and done >= 16 and job["state"] == "processing":
            break
        assert job["state"] in ("queued", "processing"), job
        assert time.monotonic() < deadline, f"no chunks indexed: {job}\n{server.log()}"
        time.sleep(0.05)
    server.stop(signal.SIGKILL)
    assert server.process.returncode == -signal.SIGKILL
    return job


def test_a_document_that_kills_the_server_each_time_is_given_up_without_its_chunks(
    tmp_path: Path, pdf_dir: Path, qdrant_server: QdrantServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    collection = f"giveup-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("RAGOPS_QDRANT_URL", qdrant_server.url)
    monkeypatch.setenv("RAGOPS_QDRANT_COLLECTION", collection)
    monkeypatch.setenv("RAGOPS_JOB_MAX_ATTEMPTS", str(MAX_ATTEMPTS))
    # With a Qdrant server the data dir is not locked, so a restart cannot know the message in
    # flight was its own: it comes back once its visibility timeout (the shortest allowed) ends.
    monkeypatch.setenv("RAGOPS_JOB_VISIBILITY_SECONDS", "10")
    qdrant = QdrantClient(url=qdrant_server.url)
    data = tmp_path / "data"
    pdf = pdf_dir / LONG_PDF

    server = Server(data, tmp_path / "serve.log")
    submitted = httpx.post(
        f"{server.url}/api/upload", files={"file": (pdf.name, pdf.read_bytes())}, timeout=30
    ).json()
    job_id, document_id = submitted["job_id"], submitted["document_id"]
    kill_once_chunks_are_indexed(server, job_id)
    indexed = chunks_of(qdrant, collection, document_id)
    assert indexed, "the first attempt indexed chunks before it was killed"
    # A question in the words of an indexed chunk: answered from the half-indexed PDF now.
    question = " ".join(next(t for t in indexed if len(t.split()) > 40).split()[10:30])

    # Each restart delivers the document again (receive count 2, then 3 > MAX_ATTEMPTS).
    for attempt in range(2, MAX_ATTEMPTS + 1):
        server = Server(data, tmp_path / "serve.log")
        job = kill_once_chunks_are_indexed(server, job_id)
        assert job["state"] == "processing", f"attempt {attempt}: {job}"

    server = Server(data, tmp_path / "serve.log")
    try:
        given_up = server.wait_for_job(job_id)
        assert given_up["state"] == "failed", given_up
        assert f"gave up after {MAX_ATTEMPTS} attempts that never finished" in given_up["error"]
        answer = httpx.post(f"{server.url}/api/ask", json={"query": question}, timeout=60).json()
        assert pdf.name not in {source["filename"] for source in answer["sources"]}, answer
        assert chunks_of(qdrant, collection, document_id) == []
        assert httpx.get(f"{server.url}/api/documents", timeout=10).json() == []
        deleted = httpx.delete(f"{server.url}/api/documents/{document_id}", timeout=30)
        assert deleted.status_code == 204
    finally:
        server.stop()


def test_a_document_failed_by_its_budget_after_some_chunks_leaves_none(
    make_client: AppFactory, pdf_dir: Path, qdrant_server: QdrantServer
) -> None:
    collection = f"budget-{uuid.uuid4().hex[:8]}"
    # About 30 chunks of 500 words: the first batches are indexed before the budget is reached.
    client = make_client(
        qdrant_url=qdrant_server.url, qdrant_collection=collection, max_document_words=12_000
    )
    pdf = pdf_dir / LONG_PDF
    submitted = upload(client, pdf.name, pdf.read_bytes())
    failed = wait_for_job(client, submitted["job_id"])
    assert failed["state"] == "failed", failed
    assert "RAGOPS_MAX_DOCUMENT_WORDS" in failed["error"]
    assert failed["progress"]["chunks_done"] > 0, "chunks were indexed before it failed"
    assert (
        chunks_of(QdrantClient(url=qdrant_server.url), collection, submitted["document_id"]) == []
    )


async def test_a_failing_upload_spares_a_later_upload_of_the_same_name(
    tmp_path: Path, embedder: OnnxMiniLMEmbedder
) -> None:
    """`report.md` fails for good while its corrected copy, uploaded under the same name (same
    document id, same stored file), waits in the queue: the failure's cleanup must leave the
    file the corrected upload's job will read."""
    settings = Settings(data_dir=tmp_path / "data")
    metrics = Metrics()
    adapters = build_adapters(settings, metrics=metrics, embedder=embedder)
    try:
        documents = build_document_service(settings, adapters)
        pipeline = build_pipeline(settings, adapters, metrics)
        broken = await documents.submit("default", "report.md", b"  \n\n  \n")
        corrected = await documents.submit("default", "report.md", POLICY.encode())
        assert broken.document_id == corrected.document_id
        key = object_key("default", corrected.document_id)

        def message(job_id: str) -> IngestMessage:
            return IngestMessage(
                job_id=job_id,
                document_id=corrected.document_id,
                object_key=key,
                tenant="default",
                filename="report.md",
            )

        await pipeline.discard(message(broken.job_id))
        assert await adapters.objects.get(key) == POLICY.encode()

        # The latest upload failing does clean up: the check above is not a no-op cleanup.
        await pipeline.discard(message(corrected.job_id))
        with pytest.raises(NotFoundError):
            await adapters.objects.get(key)
    finally:
        await adapters.close()
