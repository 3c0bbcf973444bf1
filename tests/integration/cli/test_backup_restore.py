"""`ragops backup` / `ragops restore` against moto S3 (real HTTP) and the embedded store.

The DEV PDFs are ingested once by the CLI; backups and restores run as the CLI does, either
as a child process (exit codes, messages, termination log) or through the command's own
function with an injected clock (retention). The Qdrant server's snapshot path needs a real
server: the one `ragops dev-cluster build` compiles (tests/support/qdrant_server.py).
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from qdrant_client import AsyncQdrantClient
from rich.console import Console

from ragops_cli.backup import run_backup, run_restore
from ragops_core.adapters.catalog.sqlite import SqliteCatalog
from ragops_core.adapters.embedder.onnx import OnnxMiniLMEmbedder
from ragops_core.adapters.vector_store.edge import EdgeVectorStore
from ragops_core.adapters.vector_store.qdrant_server import QdrantServerStore
from ragops_core.domain import DocumentRecord, Job, StoredChunk
from ragops_core.errors import BackupError, RestoreError
from ragops_core.ports import SearchRequest
from ragops_core.settings import Settings
from ragops_maintenance.backup.layout import parse_s3_url
from ragops_maintenance.backup.manifest import BackupManifest
from ragops_maintenance.backup.restore import restore_backup
from ragops_maintenance.backup.snapshots import QdrantSnapshots
from ragops_maintenance.backup.stores import ServerTarget
from ragops_wiring.backup import bucket as make_bucket
from ragops_wiring.backup import configured_embedding
from tests.support.aws import MotoServer
from tests.support.processes import ragops
from tests.support.qdrant_server import QdrantServer

PDFS = (
    "sample-files/004-pdflatex-4-pages/pdflatex-4-pages.pdf",
    "sample-files/001-trivial/minimal-document.pdf",
)
QUESTIONS = (
    "What is this document about?",
    "lorem ipsum dolor",
    "How many pages are there?",
    "trivial example",
)


@pytest.fixture(scope="module")
def ingested(pdf_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding the two PDFs, ingested once by `ragops ingest`."""
    data = tmp_path_factory.mktemp("source") / "data"
    result = ragops("ingest", "--data-dir", str(data), *(str(pdf_dir / name) for name in PDFS))
    assert result.returncode == 0, result.stdout + result.stderr
    return data


@pytest.fixture
def bucket(aws: MotoServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    name = aws.create_bucket()
    monkeypatch.setenv("RAGOPS_BACKUP_BUCKET", name)
    monkeypatch.setenv("RAGOPS_BACKUP_NAMESPACE", "tenant-a")
    monkeypatch.setenv("RAGOPS_BACKUP_NAME", "demo")
    monkeypatch.setenv("RAGOPS_BACKUP_TERMINATION_LOG", str(tmp_path / "termination-log"))
    return name


def _keys(aws: MotoServer, bucket: str) -> list[str]:
    listing = aws.client("s3").list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def _backup(data: Path) -> str:
    """Run `ragops backup`; returns the backup's s3:// URL from the termination message."""
    result = ragops("backup", "--data-dir", str(data))
    assert result.returncode == 0, result.stdout + result.stderr
    message = json.loads(Path(os.environ["RAGOPS_BACKUP_TERMINATION_LOG"]).read_text())
    assert message["result"] == "success"
    return str(message["snapshot"])


async def _sources(
    store: EdgeVectorStore | QdrantServerStore, embedder: OnnxMiniLMEmbedder
) -> list[list[tuple[str, int, float]]]:
    found = []
    for question in QUESTIONS:
        request = SearchRequest(
            tenant="default",
            text=question,
            vector=await embedder.embed_query(question),
            limit=5,
            mode="hybrid",
        )
        hits = await store.search(request)
        found.append([(h.chunk.filename, h.chunk.index, round(h.score, 4)) for h in hits])
    return found


async def _edge_sources(
    data: Path, embedder: OnnxMiniLMEmbedder
) -> list[list[tuple[str, int, float]]]:
    store = EdgeVectorStore(data / "qdrant", dimensions=384)
    try:
        return await _sources(store, embedder)
    finally:
        await store.close()


async def _documents(data: Path) -> tuple[list[DocumentRecord], list[Job | None]]:
    """What `/api/documents` lists (and each document's job) for the embedded catalog."""
    catalog = SqliteCatalog(data / "catalog.sqlite3")
    try:
        documents = await catalog.documents.list("default")
        jobs = [await catalog.jobs.get("default", d.job_id) for d in documents]
        return documents, jobs
    finally:
        await catalog.close()


def test_backup_then_restore_into_an_empty_data_dir_answers_with_the_same_sources(
    ingested: Path, bucket: str, aws: MotoServer, tmp_path: Path, embedder: OnnxMiniLMEmbedder
) -> None:
    url = _backup(ingested)
    location = parse_s3_url(url)
    assert location.prefix.startswith("backups/tenant-a/demo/")
    keys = _keys(aws, bucket)
    assert keys == [
        location.key("catalog/catalog.jsonl.gz"),
        location.key("checksums/ragops-v1.tsv.gz"),
        location.key("collections/ragops-v1.jsonl.gz"),
        location.key("manifest.json"),
    ]
    manifest = BackupManifest.from_json_bytes(
        aws.client("s3").get_object(Bucket=bucket, Key=location.key("manifest.json"))["Body"].read()
    )
    assert manifest.kind == "points-jsonl" and manifest.source == "embedded"
    assert (
        manifest.embedding.model == "all-MiniLM-L6-v2-onnx-int8"
        and manifest.embedding.dimensions == 384
    )
    assert manifest.points > 4 and manifest.collections[0].aliases == ("ragops",)
    assert [f.path for f in manifest.files] == [
        "collections/ragops-v1.jsonl.gz",
        "checksums/ragops-v1.tsv.gz",
        "catalog/catalog.jsonl.gz",
    ] and all(len(f.sha256) == 64 for f in manifest.files)
    assert manifest.catalog is not None
    assert (manifest.catalog.documents, manifest.catalog.jobs) == (2, 2)
    assert manifest.started_at <= manifest.finished_at

    restored = tmp_path / "restored"
    result = ragops("restore", "--from", url, "--data-dir", str(restored))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Restored {manifest.points} points and 2 documents" in result.stdout

    before = asyncio.run(_edge_sources(ingested, embedder))
    after = asyncio.run(_edge_sources(restored, embedder))
    assert any(before), "the questions must find something, or the comparison proves nothing"
    assert after == before
    documents, jobs = asyncio.run(_documents(restored))
    assert (documents, jobs) == asyncio.run(_documents(ingested))
    assert sorted(d.filename for d in documents) == sorted(Path(name).name for name in PDFS)
    assert all(job is not None and job.state.value == "ready" for job in jobs)


def test_restore_refuses_a_store_that_has_points_unless_forced(
    ingested: Path, bucket: str, tmp_path: Path
) -> None:
    url = _backup(ingested)
    target = tmp_path / "target"
    assert ragops("restore", "--from", url, "--data-dir", str(target)).returncode == 0

    again = ragops("restore", "--from", url, "--data-dir", str(target))
    assert again.returncode == 1
    assert "already holds" in again.stderr and "--force" in again.stderr

    skipped = ragops("restore", "--from", url, "--data-dir", str(target), "--if-empty")
    assert skipped.returncode == 0 and "Kept the existing" in skipped.stdout

    forced = ragops("restore", "--from", url, "--data-dir", str(target), "--force")
    assert forced.returncode == 0, forced.stderr
    assert [p.name for p in target.glob("qdrant.replaced-*")], (
        "--force sets the old store aside, never deletes it"
    )


def test_a_corrupted_backup_is_refused_before_the_store_is_touched(
    ingested: Path, bucket: str, aws: MotoServer, tmp_path: Path
) -> None:
    location = parse_s3_url(_backup(ingested))
    key = location.key("collections/ragops-v1.jsonl.gz")
    s3 = aws.client("s3")
    original = gzip.decompress(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=gzip.compress(original.replace(b'"tenant":"default"', b'"tenant":"evil!!"', 1)),
    )

    target = tmp_path / "target"
    result = ragops("restore", "--from", location.backup_id, "--data-dir", str(target))
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert "failed its checksums" in message and "collections/ragops-v1.jsonl.gz" in message, (
        result.stderr
    )
    assert not (target / "qdrant").exists()


def test_restore_of_latest_and_of_a_missing_backup(
    ingested: Path, bucket: str, tmp_path: Path
) -> None:
    _backup(ingested)
    latest = ragops("restore", "--from", "latest", "--data-dir", str(tmp_path / "latest"))
    assert latest.returncode == 0, latest.stderr
    missing = ragops(
        "restore", "--from", "20200101T000000Z", "--data-dir", str(tmp_path / "missing")
    )
    assert missing.returncode == 1 and "no manifest.json" in " ".join(missing.stderr.split())


def _put_backup(aws: MotoServer, bucket: str, backup_id: str, *, complete: bool = True) -> None:
    s3 = aws.client("s3")
    s3.put_object(
        Bucket=bucket, Key=f"backups/tenant-a/demo/{backup_id}/collections/x.jsonl.gz", Body=b"x"
    )
    if complete:
        s3.put_object(
            Bucket=bucket, Key=f"backups/tenant-a/demo/{backup_id}/manifest.json", Body=b"{}"
        )


def test_retention_deletes_old_backups_after_a_good_one_and_keeps_the_new_one(
    ingested: Path, bucket: str, aws: MotoServer
) -> None:
    now = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
    for days in (200, 120, 91, 30, 1):
        _put_backup(aws, bucket, (now - timedelta(days=days)).strftime("%Y%m%dT%H%M%SZ"))
    _put_backup(aws, bucket, (now - timedelta(days=3)).strftime("%Y%m%dT%H%M%SZ"), complete=False)
    aws.client("s3").put_object(
        Bucket=bucket, Key="backups/tenant-a/demo/notes.txt", Body=b"not ours"
    )
    settings = Settings(data_dir=ingested, backup_keep_at_least=2, backup_retention_days=90)

    code = asyncio.run(run_backup(settings, clock=lambda: now, console=Console()))

    assert code == 0
    folders = sorted({key.split("/")[3] for key in _keys(aws, bucket) if key.count("/") >= 4})
    assert folders == ["20260502T030000Z", "20260531T030000Z", "20260601T030000Z"]
    assert "backups/tenant-a/demo/notes.txt" in _keys(aws, bucket), (
        "retention only deletes backup folders"
    )


def test_retention_by_count_never_deletes_the_backup_just_made(
    ingested: Path, bucket: str, aws: MotoServer
) -> None:
    now = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
    # A clock that ran ahead once: a backup "from the future" is the newest by name.
    _put_backup(aws, bucket, "20260701T000000Z")
    settings = Settings(data_dir=ingested, backup_keep_at_least=1, backup_keep_last=1)
    assert asyncio.run(run_backup(settings, clock=lambda: now, console=Console())) == 0
    folders = sorted({key.split("/")[3] for key in _keys(aws, bucket)})
    assert "20260601T030000Z" in folders


class _Pushgateway(BaseHTTPRequestHandler):
    received: list[tuple[str, str, str]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        self.received.append(("POST", self.path, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def pushgateway() -> Iterator[tuple[str, list[tuple[str, str, str]]]]:
    server = HTTPServer(("127.0.0.1", 0), _Pushgateway)
    _Pushgateway.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Pushgateway.received
    server.shutdown()


def test_a_failed_backup_exits_non_zero_and_reports_failure(
    aws: MotoServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    ingested: Path,
    pushgateway: tuple[str, list[tuple[str, str, str]]],
) -> None:
    url, received = pushgateway
    log = tmp_path / "termination-log"
    monkeypatch.setenv("RAGOPS_BACKUP_BUCKET", "no-such-bucket-ragops")
    monkeypatch.setenv("RAGOPS_BACKUP_TERMINATION_LOG", str(log))
    monkeypatch.setenv("RAGOPS_BACKUP_NAME", "demo")
    monkeypatch.setenv("RAGOPS_BACKUP_NAMESPACE", "tenant-a")
    monkeypatch.setenv("RAGOPS_BACKUP_PUSHGATEWAY_URL", url)

    result = ragops("backup", "--data-dir", str(ingested))

    assert result.returncode == 1
    assert "backup failed" in result.stderr and "NoSuchBucket" in " ".join(result.stderr.split())
    message = json.loads(log.read_text())
    assert (
        message["result"] == "failure"
        and message["snapshot"] is None
        and "NoSuchBucket" in message["message"]
    )
    [(method, path, body)] = received
    assert path == "/metrics/job/demo-backup/namespace/tenant-a"
    assert 'ragops_backup_last_result{result="failure"} 1.0' in body
    assert "ragops_backup_last_success_timestamp_seconds" not in body, (
        "a failure must not move the last success"
    )


def test_a_successful_backup_pushes_the_metrics_the_alert_reads(
    ingested: Path,
    bucket: str,
    monkeypatch: pytest.MonkeyPatch,
    pushgateway: tuple[str, list[tuple[str, str, str]]],
) -> None:
    from ragops_operator.builders.monitoring import BACKUP_METRICS

    url, received = pushgateway
    monkeypatch.setenv("RAGOPS_BACKUP_PUSHGATEWAY_URL", url)
    _backup(ingested)
    [(_, path, body)] = received
    assert path == f"/metrics/job/demo-{BACKUP_METRICS.job_suffix}/namespace/tenant-a"
    assert f'{BACKUP_METRICS.last_result}{{result="success"}} 1.0' in body
    assert f'{BACKUP_METRICS.last_result}{{result="failure"}} 0.0' in body
    assert BACKUP_METRICS.last_success_timestamp in body


async def test_an_embedded_backup_migrates_into_a_qdrant_server_store(
    ingested: Path, bucket: str, tmp_path: Path, embedder: OnnxMiniLMEmbedder
) -> None:
    """The portable format is the migration path: embedded -> server (qdrant-client local mode
    here)."""
    location = parse_s3_url(_backup(ingested))
    path = tmp_path / "server"

    def store(dimensions: int) -> QdrantServerStore:
        return QdrantServerStore(
            AsyncQdrantClient(path=str(path)), name="ragops", version="v1", dimensions=dimensions
        )

    # Local mode locks its folder per client, so the snapshot side (unused by a points-jsonl restore
    # into an empty server) gets its own; the store side is what the migration exercises.
    client = AsyncQdrantClient(path=str(path / "meta"))
    target = ServerTarget(
        QdrantSnapshots("http://unused", api_key=None, client=client),
        alias="ragops",
        make_store=store,
    )
    settings = Settings()
    outcome = await restore_backup(
        target,
        make_bucket(settings),
        location,
        scratch=tmp_path / "scratch",
        configured=configured_embedding(settings),
    )
    await target.close()
    server = store(384)
    try:
        assert await server.count() == outcome.manifest.points
        assert await _sources(server, embedder) == await _edge_sources(ingested, embedder)
    finally:
        await server.close()


class _SharedClientStore(QdrantServerStore):
    async def close(self) -> None:  # one in-memory client holds every collection of the test
        pass


async def test_a_server_points_backup_exports_the_configured_version_not_the_alias(
    tmp_path: Path, embedder: OnnxMiniLMEmbedder
) -> None:
    """During a change of embedding model the alias stays on the old version until the re-index
    is complete, while the pods (and the backup Job, same settings) already use the new model's
    version: the backup exports that one, whose model the manifest records."""
    client = AsyncQdrantClient(location=":memory:")
    old = _SharedClientStore(client, name="ragops", version="v1", dimensions=384)
    texts = [
        "Receipts go to the Quillfeather portal.",
        "Travel is booked through the desk.",
        "Badges open doors.",
    ]
    items = [StoredChunk("t", "d", "d.txt", i, text, ((0, 1),)) for i, text in enumerate(texts)]
    await old.upsert(items[:1], embedder.embed_windows_sync(texts[:1]))
    new = _SharedClientStore(client, name="ragops", version="v2", dimensions=384)
    await new.upsert(items, embedder.embed_windows_sync(texts))
    assert await new.alias_target() == "ragops-v1"

    def target(version: str) -> ServerTarget:
        return ServerTarget(
            QdrantSnapshots("http://unused", api_key=None, client=client),
            alias="ragops",
            make_store=lambda size: _SharedClientStore(
                client, name="ragops", version=version, dimensions=size
            ),
        )

    configured = target("v2")
    entries, size = await configured.dump(tmp_path, "points-jsonl")
    assert [(e.name, e.points, e.file, e.aliases) for e in entries] == [
        ("ragops-v2", 3, "collections/ragops-v2.jsonl.gz", ())
    ]
    assert size == 384
    with pytest.raises(
        BackupError, match=r"no collection 'ragops-v3'.*the alias 'ragops' points at 'ragops-v1'"
    ):
        await target("v3").dump(tmp_path, "points-jsonl")
    await configured.close()


def test_a_backup_of_another_embedding_model_is_refused(
    ingested: Path, bucket: str, tmp_path: Path
) -> None:
    url = _backup(ingested)
    settings = Settings(data_dir=tmp_path / "target", embedding_provider="openai")
    with pytest.raises(RestoreError, match="embedded with local/all-MiniLM"):
        asyncio.run(run_restore(settings, url, force=False, if_empty=False))


def test_server_snapshots_round_trip(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qdrant_server: QdrantServer
) -> None:
    url = qdrant_server.url
    monkeypatch.setenv("RAGOPS_QDRANT_URL", url)
    monkeypatch.setenv("RAGOPS_QDRANT_COLLECTION", f"backup-test-{os.getpid()}")
    doc = tmp_path / "policy.md"
    doc.write_text("Receipts must be uploaded to the Quillfeather portal within 30 days.\n")
    # Through the worker path, onto the server: then snapshot, drop, recover from S3.
    assert ragops("ingest", "--data-dir", str(tmp_path / "d"), str(doc)).returncode == 0
    backed = ragops("backup", "--format", "snapshot")
    assert backed.returncode == 0, backed.stderr
    snapshot = json.loads(Path(os.environ["RAGOPS_BACKUP_TERMINATION_LOG"]).read_text())["snapshot"]
    refused = ragops("restore", "--from", snapshot)
    assert refused.returncode == 1 and "already holds" in refused.stderr
    restored = ragops("restore", "--from", snapshot, "--force")
    assert restored.returncode == 0, restored.stderr
    asked = ragops("ask", "Where must receipts be uploaded?")
    assert "Quillfeather" in asked.stdout


def _verification(aws: MotoServer, bucket: str, location_prefix: str) -> dict[str, object]:
    body = aws.client("s3").get_object(Bucket=bucket, Key=location_prefix + "verification.json")
    return dict(json.loads(body["Body"].read()))


def test_verify_restores_the_newest_backup_into_scratch_and_reports_ok(
    ingested: Path, bucket: str, aws: MotoServer
) -> None:
    _backup(ingested)
    location = parse_s3_url(_backup(ingested))  # the newest of two
    store_files = sorted(p.relative_to(ingested) for p in ingested.rglob("*"))

    result = ragops("backup", "verify", "--data-dir", str(ingested))

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Backup {location.backup_id} verified" in result.stdout
    report = _verification(aws, bucket, location.prefix)
    assert report["ok"] is True and report["documents"] == 2 and report["jobs"] == 2
    assert isinstance(report["points"], int) and report["points"] > 4
    message = json.loads(Path(os.environ["RAGOPS_BACKUP_TERMINATION_LOG"]).read_text())
    assert message["kind"] == "verification" and message["result"] == "ok"
    assert message["backup"] == location.url
    assert sorted(p.relative_to(ingested) for p in ingested.rglob("*")) == store_files, (
        "verification restores into scratch, never into the data dir"
    )


def test_verify_of_a_tampered_object_fails_and_names_it(
    ingested: Path, bucket: str, aws: MotoServer
) -> None:
    location = parse_s3_url(_backup(ingested))
    key = location.key("catalog/catalog.jsonl.gz")
    s3 = aws.client("s3")
    original = gzip.decompress(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress(original.replace(b"ready", b"faile")))

    result = ragops("backup", "verify", "--data-dir", str(ingested))

    assert result.returncode == 1
    stderr = " ".join(result.stderr.split())
    assert f"backup {location.backup_id} failed verification" in stderr, result.stderr
    assert "failed its checksums" in stderr and "catalog/catalog.jsonl.gz" in stderr
    report = _verification(aws, bucket, location.prefix)
    assert report["ok"] is False and "catalog/catalog.jsonl.gz" in " ".join(
        map(str, report["problems"])  # type: ignore[call-overload]
    )
    message = json.loads(Path(os.environ["RAGOPS_BACKUP_TERMINATION_LOG"]).read_text())
    assert message["result"] == "failed" and "catalog/catalog.jsonl.gz" in message["reason"]


def test_verify_finds_a_changed_point_even_when_the_file_checksum_was_rewritten(
    ingested: Path, bucket: str, aws: MotoServer
) -> None:
    """The per-point checksums catch what a file checksum cannot: a backup whose content
    changed together with its manifest (a buggy writer, a hand edit)."""
    location = parse_s3_url(_backup(ingested))
    key = location.key("collections/ragops-v1.jsonl.gz")
    s3 = aws.client("s3")
    lines = gzip.decompress(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).splitlines()
    changed = json.loads(lines[1])
    changed["payload"]["text"] = "Something else entirely."
    lines[1] = json.dumps(changed).encode()
    body = gzip.compress(b"\n".join(lines) + b"\n")
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    manifest = json.loads(
        s3.get_object(Bucket=bucket, Key=location.key("manifest.json"))["Body"].read()
    )
    for entry in manifest["files"]:
        if entry["path"] == "collections/ragops-v1.jsonl.gz":
            entry.update(sha256=hashlib.sha256(body).hexdigest(), bytes=len(body))
    s3.put_object(Bucket=bucket, Key=location.key("manifest.json"), Body=json.dumps(manifest))

    result = ragops("backup", "verify", "--from", location.backup_id, "--data-dir", str(ingested))

    assert result.returncode == 1
    stderr = " ".join(result.stderr.split())
    assert f"ragops-v1: 1 point(s) different ({changed['id']})" in stderr, result.stderr
    assert _verification(aws, bucket, location.prefix)["ok"] is False
