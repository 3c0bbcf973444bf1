"""One contract for every catalog (JobStore, DocumentStore, AnswerLog): SQLite and Redis alike."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis

from ragops_core.adapters.catalog.redis import RedisCatalog
from ragops_core.adapters.catalog.sqlite import SqliteCatalog
from ragops_core.domain import DocumentRecord, Job, JobState, RatedAnswer
from ragops_core.settings import Settings
from ragops_wiring.adapters import build_catalog
from tests.support.redis_server import RedisServer


@pytest.fixture(params=["sqlite", "redis"])
async def catalog(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[SqliteCatalog | RedisCatalog]:
    adapter: SqliteCatalog | RedisCatalog
    if request.param == "sqlite":
        adapter = SqliteCatalog(tmp_path / "catalog.sqlite3")
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        redis.Redis.from_url(server.url).flushdb()
        adapter = RedisCatalog(server.url)
    yield adapter
    await adapter.close()


def job(tenant: str = "acme", **changes: object) -> Job:
    fields: dict[str, object] = {
        "job_id": str(uuid.uuid4()),
        "document_id": str(uuid.uuid4()),
        "tenant": tenant,
        "filename": "handbook.pdf",
        "state": JobState.QUEUED,
        "created_at": time.time(),
        "updated_at": time.time(),
        **changes,
    }
    return Job(**fields)  # type: ignore[arg-type]


def record(tenant: str = "acme", *, name: str = "a.pdf", updated_at: float = 1.0) -> DocumentRecord:
    return DocumentRecord(
        document_id=f"doc-{name}",
        tenant=tenant,
        filename=name,
        pages=3,
        chunks=4,
        bytes=1234,
        updated_at=updated_at,
        job_id="job-1",
    )


async def test_a_created_job_reads_back_queued(catalog: SqliteCatalog | RedisCatalog) -> None:
    created = job()
    await catalog.jobs.create(created)
    found = await catalog.jobs.get("acme", created.job_id)
    assert found is not None
    assert (found.job_id, found.document_id, found.filename, found.state) == (
        created.job_id,
        created.document_id,
        "handbook.pdf",
        JobState.QUEUED,
    )
    assert found.progress == {} and found.error is None
    assert found.created_at > 0 and found.updated_at >= found.created_at


async def test_job_updates_progress_state_and_error(catalog: SqliteCatalog | RedisCatalog) -> None:
    created = job()
    await catalog.jobs.create(created)
    progress = {"pages_done": 2, "pages_total": 9, "chunks_done": 0, "chunks_total": 3}
    await catalog.jobs.update(created.job_id, state=JobState.PROCESSING, progress=progress)
    found = await catalog.jobs.get("acme", created.job_id)
    assert found is not None and found.state == JobState.PROCESSING and found.progress == progress

    await catalog.jobs.update(created.job_id, state=JobState.QUEUED, error="retrying: timeout")
    found = await catalog.jobs.get("acme", created.job_id)
    assert found is not None and (found.state, found.error) == (
        JobState.QUEUED,
        "retrying: timeout",
    )
    assert found.progress == progress, "progress is kept when not given"

    await catalog.jobs.update(created.job_id, progress={"pages_done": 9})
    found = await catalog.jobs.get("acme", created.job_id)
    assert found is not None and found.error == "retrying: timeout", (
        "an update without error keeps it"
    )

    await catalog.jobs.update(created.job_id, state=JobState.READY)
    found = await catalog.jobs.get("acme", created.job_id)
    assert found is not None and (found.state, found.error) == (JobState.READY, None), (
        "ready clears the error"
    )

    await catalog.jobs.update(created.job_id, state=JobState.FAILED, error="the PDF is damaged")
    found = await catalog.jobs.get("acme", created.job_id)
    assert found is not None and (found.state, found.error) == (
        JobState.FAILED,
        "the PDF is damaged",
    )


async def test_updating_an_unknown_job_creates_nothing(
    catalog: SqliteCatalog | RedisCatalog,
) -> None:
    await catalog.jobs.update("no-such-job", state=JobState.READY, progress={"pages_done": 1})
    assert await catalog.jobs.get("acme", "no-such-job") is None


async def test_jobs_are_visible_to_their_tenant_only(catalog: SqliteCatalog | RedisCatalog) -> None:
    created = job("acme")
    await catalog.jobs.create(created)
    assert await catalog.jobs.get("globex", created.job_id) is None
    assert await catalog.jobs.get("acme", created.job_id) is not None


async def test_the_latest_job_of_a_document_is_found_for_its_tenant_only(
    catalog: SqliteCatalog | RedisCatalog,
) -> None:
    first = job("acme", document_id="doc")
    await catalog.jobs.create(first)
    await asyncio.sleep(0.01)  # jobs are ordered by creation time
    second = job("acme", document_id="doc")
    await catalog.jobs.create(second)
    await catalog.jobs.create(job("acme", document_id="other"))
    await catalog.jobs.update(second.job_id, state=JobState.FAILED, error="no text")
    latest = await catalog.jobs.latest_for_document("acme", "doc")
    assert latest is not None
    assert (latest.job_id, latest.state) == (second.job_id, JobState.FAILED)
    assert await catalog.jobs.latest_for_document("globex", "doc") is None
    assert await catalog.jobs.latest_for_document("acme", "never") is None


async def test_documents_put_get_list_delete(catalog: SqliteCatalog | RedisCatalog) -> None:
    assert await catalog.documents.list("acme") == []
    older, newer = record(name="old.pdf", updated_at=10.0), record(name="new.pdf", updated_at=20.0)
    await catalog.documents.put(older)
    await catalog.documents.put(newer)
    assert await catalog.documents.get("acme", older.document_id) == older
    assert await catalog.documents.list("acme") == [newer, older], "newest first"

    replaced = DocumentRecord(**{**older.__dict__, "pages": 7, "updated_at": 30.0})
    await catalog.documents.put(replaced)
    assert await catalog.documents.list("acme") == [replaced, newer], (
        "put replaces, never duplicates"
    )

    assert await catalog.documents.delete("acme", older.document_id) is True
    assert await catalog.documents.delete("acme", older.document_id) is False
    assert await catalog.documents.get("acme", older.document_id) is None
    assert await catalog.documents.list("acme") == [newer]


async def test_documents_are_visible_to_their_tenant_only(
    catalog: SqliteCatalog | RedisCatalog,
) -> None:
    mine = record("acme")
    await catalog.documents.put(mine)
    assert await catalog.documents.get("globex", mine.document_id) is None
    assert await catalog.documents.list("globex") == []
    assert await catalog.documents.delete("globex", mine.document_id) is False
    assert await catalog.documents.get("acme", mine.document_id) == mine


async def test_answers_exist_for_their_tenant_and_take_feedback(
    catalog: SqliteCatalog | RedisCatalog,
) -> None:
    assert not await catalog.answers.exists("acme", "a1")
    await catalog.answers.record("acme", "a1", "what?", "this [1]", "extractive")
    await catalog.answers.record(
        "acme", "a1", "again?", "other", "extractive"
    )  # first record stands
    assert await catalog.answers.exists("acme", "a1")
    assert not await catalog.answers.exists("globex", "a1")
    await catalog.answers.add_feedback("acme", "a1", "up", None)
    await catalog.answers.add_feedback("acme", "a1", "down", "wrong page")


async def test_rated_answers_are_those_whose_latest_feedback_has_that_rating(
    catalog: SqliteCatalog | RedisCatalog,
) -> None:
    for answer_id in ("a1", "a2", "a3"):
        await catalog.answers.record("acme", answer_id, f"{answer_id}?", "this [1]", "extractive")
    await catalog.answers.add_feedback("acme", "a1", "up", None)
    await catalog.answers.add_feedback("acme", "a2", "up", None)
    await catalog.answers.add_feedback("acme", "a2", "down", "changed my mind")
    await catalog.answers.add_feedback("acme", "a3", "up", None)
    await catalog.answers.add_feedback("acme", "a3", "up", "again")
    ups = await catalog.answers.rated("acme", "up", 10)
    assert [a.answer_id for a in ups] == ["a3", "a1"]  # newest first, each once
    assert ups[1] == RatedAnswer("a1", "a1?", "this [1]", "extractive")
    assert [a.answer_id for a in await catalog.answers.rated("acme", "down", 10)] == ["a2"]
    assert [a.answer_id for a in await catalog.answers.rated("acme", "up", 1)] == ["a3"]
    assert await catalog.answers.rated("globex", "up", 10) == []


async def test_tenant_names_cannot_reach_into_each_other(
    catalog: SqliteCatalog | RedisCatalog,
) -> None:
    # Keys are built from names: a tenant "a" asking for answer "b:x" must not find tenant "a:b"'s
    # "x".
    await catalog.answers.record("a:b", "x", "q", "a", "extractive")
    assert not await catalog.answers.exists("a", "b:x")
    await catalog.documents.put(record("a:b"))
    assert await catalog.documents.list("a") == []


def test_the_catalog_is_chosen_by_its_url(tmp_path: Path, redis_server: RedisServer) -> None:
    assert isinstance(build_catalog(Settings(data_dir=tmp_path)), SqliteCatalog)
    assert isinstance(
        build_catalog(Settings(data_dir=tmp_path, catalog_url=redis_server.url)), RedisCatalog
    )
    with pytest.raises(ValueError, match="redis://"):
        Settings(catalog_url="postgres://db/ragops")


async def test_export_then_import_into_an_empty_catalog_gives_the_same_rows(
    catalog: SqliteCatalog | RedisCatalog, tmp_path: Path
) -> None:
    """What backups rely on: every tenant's jobs and documents, times included, round-trip."""
    await catalog.jobs.create(job("acme"))
    failed = job("beta")
    await catalog.jobs.create(failed)
    await catalog.jobs.update(failed.job_id, state=JobState.FAILED, error="unreadable")
    await catalog.documents.put(record("acme", name="a.pdf", updated_at=5.0))
    await catalog.documents.put(record("beta", name="b.pdf", updated_at=7.0))
    jobs, documents = await catalog.export_rows()
    assert sorted(j.tenant for j in jobs) == ["acme", "beta"] and len(documents) == 2

    other = SqliteCatalog(tmp_path / "other.sqlite3")
    try:
        await other.jobs.create(job("stale"))
        await other.import_rows(jobs, documents, replace=True)
        again_jobs, again_documents = await other.export_rows()
        assert sorted(again_jobs, key=lambda j: j.job_id) == sorted(jobs, key=lambda j: j.job_id)
        assert sorted(again_documents, key=lambda d: d.tenant) == sorted(
            documents, key=lambda d: d.tenant
        )
        assert await other.jobs.get("beta", failed.job_id) == next(
            j for j in jobs if j.job_id == failed.job_id
        )
    finally:
        await other.close()
    await catalog.import_rows(jobs[:1], documents[:1], replace=True)
    assert [len(rows) for rows in await catalog.export_rows()] == [1, 1]
    # A restored job is still found as its document's latest (a failed upload's DELETE needs it);
    # a job the restore replaced is not.
    kept = jobs[0]
    latest = await catalog.jobs.latest_for_document(kept.tenant, kept.document_id)
    assert latest is not None and latest.job_id == kept.job_id
    dropped = jobs[1]
    assert await catalog.jobs.latest_for_document(dropped.tenant, dropped.document_id) is None
