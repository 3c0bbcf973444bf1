"""A backup holds the whole state: the real Qdrant server (snapshot path) and the real Redis
catalog, backed up to moto S3 and restored into an EMPTY stack (a fresh Qdrant server, a fresh
redis-server); `ragops api` over each stack gives the same documents list, jobs and answers.
`ragops backup verify` runs against the server too, and leaves no scratch collection behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from ragops_maintenance.backup.layout import parse_s3_url
from ragops_maintenance.backup.manifest import BackupManifest
from tests.support.api import POLICY
from tests.support.aws import REGION, MotoServer
from tests.support.processes import Service, clean_env
from tests.support.qdrant_server import QdrantServer
from tests.support.redis_server import RedisServer

PDFS = (
    "sample-files/004-pdflatex-4-pages/pdflatex-4-pages.pdf",
    "sample-files/001-trivial/minimal-document.pdf",
)
QUESTIONS = (
    "Where must receipts be uploaded?",
    "How much is the hotel allowance in Lisbon?",
    "lorem ipsum dolor",
    "How many pages are there?",
)


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ragops_cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


@pytest.fixture
def empty_stack(tmp_path: Path) -> Iterator[tuple[QdrantServer, RedisServer]]:
    """Another Qdrant server and redis-server, with nothing in them: where a restore lands."""
    qdrant = QdrantServer(tmp_path / "empty-qdrant")
    try:
        catalog = RedisServer(tmp_path / "empty-redis")
    except BaseException:
        qdrant.stop()
        raise
    yield qdrant, catalog
    catalog.stop()
    qdrant.stop()


def _state(env: dict[str, str], tmp: Path, label: str) -> dict[str, Any]:
    """What a user sees through `ragops api`: the documents, each one's job, the answers."""
    api = Service("api", env, tmp / f"api-{label}.log", cwd=tmp)
    try:
        documents = httpx.get(f"{api.url}/api/documents", timeout=30).json()
        jobs = [
            httpx.get(f"{api.url}/api/jobs/{d['job_id']}", timeout=30).json() for d in documents
        ]
        answers = []
        for question in QUESTIONS:
            response = httpx.post(f"{api.url}/api/ask", json={"query": question}, timeout=120)
            assert response.status_code == 200, response.text
            body = response.json()
            answers.append(
                (
                    body["answer"],
                    [
                        (s["document_id"], s["filename"], s["page"], s["chunk_index"])
                        for s in body["sources"]
                    ],
                )
            )
    finally:
        api.stop()
    return {"documents": documents, "jobs": jobs, "answers": answers}


def test_a_server_backup_restores_documents_jobs_and_answers_into_an_empty_stack(
    aws: MotoServer,
    qdrant_server: QdrantServer,
    redis_server: RedisServer,
    empty_stack: tuple[QdrantServer, RedisServer],
    pdf_dir: Path,
    tmp_path: Path,
) -> None:
    redis.Redis.from_url(redis_server.url).flushdb()
    queue_url, _ = aws.create_queue()
    backups = aws.create_bucket()
    log = tmp_path / "termination-log"
    collection = f"full-state-{os.getpid()}"

    def env(qdrant: QdrantServer, catalog: RedisServer, data: str) -> dict[str, str]:
        return clean_env(
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_REGION=REGION,
            AWS_DEFAULT_REGION=REGION,
            AWS_ENDPOINT_URL_S3=aws.url,
            AWS_ENDPOINT_URL_SQS=aws.url,
            RAGOPS_S3_BUCKET=aws.create_bucket(),
            RAGOPS_SQS_QUEUE_URL=queue_url,
            RAGOPS_QDRANT_URL=qdrant.url,
            RAGOPS_QDRANT_COLLECTION=collection,
            RAGOPS_CATALOG_URL=catalog.url,
            RAGOPS_DATA_DIR=str(tmp_path / data),
            RAGOPS_BACKUP_BUCKET=backups,
            RAGOPS_BACKUP_NAMESPACE="tenant-a",
            RAGOPS_BACKUP_NAME="demo",
            RAGOPS_BACKUP_TERMINATION_LOG=str(log),
        )

    source = env(qdrant_server, redis_server, "source")
    policy = tmp_path / "policy.md"
    policy.write_text(POLICY)
    ingested = _cli(source, "ingest", str(policy), *(str(pdf_dir / name) for name in PDFS))
    assert ingested.returncode == 0, ingested.stdout + ingested.stderr
    before = _state(source, tmp_path, "source")
    assert len(before["documents"]) == 3 and all(j["state"] == "ready" for j in before["jobs"])
    assert "Quillfeather" in before["answers"][0][0], before["answers"][0]

    backed = _cli(source, "backup", "--format", "snapshot")
    assert backed.returncode == 0, backed.stderr
    location = parse_s3_url(json.loads(log.read_text())["snapshot"])
    s3 = aws.client("s3")
    manifest = BackupManifest.from_json_bytes(
        s3.get_object(Bucket=backups, Key=location.key("manifest.json"))["Body"].read()
    )
    assert manifest.kind == "qdrant-snapshot" and manifest.source == "server"
    assert manifest.catalog is not None
    assert (manifest.catalog.documents, manifest.catalog.jobs) == (3, 3)
    assert {f.path for f in manifest.files} >= {
        "catalog/catalog.jsonl.gz",
        f"collections/{collection}-v1.snapshot",
        f"checksums/{collection}-v1.tsv.gz",
    }

    collections = httpx.get(f"{qdrant_server.url}/collections").json()["result"]["collections"]
    verified = _cli(source, "backup", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"{manifest.points} points and 3 documents" in " ".join(verified.stdout.split())
    report = json.loads(
        s3.get_object(Bucket=backups, Key=location.key("verification.json"))["Body"].read()
    )
    assert report["ok"] is True and report["points"] == manifest.points
    assert json.loads(log.read_text())["result"] == "ok"
    after_verify = httpx.get(f"{qdrant_server.url}/collections").json()["result"]["collections"]
    assert after_verify == collections, "the scratch collection must be gone"

    # The portable export of the server verifies through a scratch collection too (points
    # imported under a scratch alias, both removed).
    aliases = httpx.get(f"{qdrant_server.url}/aliases").json()["result"]["aliases"]
    assert _cli(source, "backup", "--format", "jsonl").returncode == 0
    verified = _cli(source, "backup", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert httpx.get(f"{qdrant_server.url}/aliases").json()["result"]["aliases"] == aliases
    assert (
        httpx.get(f"{qdrant_server.url}/collections").json()["result"]["collections"] == collections
    )

    qdrant, catalog = empty_stack
    target = env(qdrant, catalog, "target")
    restored = _cli(target, "restore", "--from", location.url)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert f"Restored {manifest.points} points and 3 documents" in restored.stdout

    after = _state(target, tmp_path, "target")
    assert after == before
