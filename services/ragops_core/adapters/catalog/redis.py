"""Jobs, documents, answers and feedback on Redis: the catalog shared by API and worker processes.

The SQLite catalog lives in one data directory; separate `ragops api` and `ragops
worker` processes (and their replicas) need one they can all reach. Unlike the
cache, this Redis holds state: it must never evict (`maxmemory-policy noeviction`, or
a separate database from the cache) and should persist (AOF), and a failing call
raises instead of being bypassed.

Layout (every key under `ragops:catalog:`; one key per call, so Redis Cluster works;
a key holds at most one caller-given name, so no two tenants' keys can ever meet):

* `job:{job_id}`: a hash (job_id, document_id, tenant, filename, state, progress as
  JSON, error when there is one, created_at, updated_at). `get` returns it only to its
  own tenant; `update` changes an existing job and never creates one (a Lua script).
* `documents:{tenant}`: a hash of document_id -> the record as JSON.
* `answers:{tenant}`: a hash of answer_id -> the answer as JSON, written once.
* `feedback:{tenant}`: a list of feedback entries as JSON.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from ragops_core.domain import DocumentRecord, Job, JobState, RatedAnswer, job_error_change

_PREFIX = "ragops:catalog:"
_TIMEOUT_SECONDS = 5.0
_RATED_PAGE = 1000
_RATED_SCAN = 100_000  # feedback entries an export reads at most

# Only an existing job is updated (HSET alone would create a partial one); ARGV[4] says
# what happens to the error, by the domain's rule (`job_error_change`): set, clear or keep.
_UPDATE_JOB = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'updated_at', ARGV[1])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'state', ARGV[2]) end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'progress', ARGV[3]) end
if ARGV[4] == 'set' then redis.call('HSET', KEYS[1], 'error', ARGV[5])
elseif ARGV[4] == 'clear' then redis.call('HDEL', KEYS[1], 'error') end
return 1
"""


class RedisCatalog:
    """One connection pool, three views: `jobs`, `documents` and `answers` (with feedback)."""

    def __init__(self, url: str, *, timeout_seconds: float = _TIMEOUT_SECONDS) -> None:
        # TLS (rediss://) and AUTH (user:password@) come with the URL, as for the cache.
        self.redis: Redis = Redis.from_url(
            url,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
            health_check_interval=30,
            decode_responses=True,
        )
        self.jobs = RedisJobStore(self)
        self.documents = RedisDocumentStore(self)
        self.answers = RedisAnswerLog(self)

    async def export_rows(self) -> tuple[list[Job], list[DocumentRecord]]:
        """Every job and document of every tenant, for backups (SCAN: never blocks Redis)."""
        jobs: list[Job] = []
        async for key in self.redis.scan_iter(match=f"{_PREFIX}job:*", count=500):
            row = _texts(await self.redis.hgetall(key))
            if row:
                jobs.append(_job(row))
        documents: list[DocumentRecord] = []
        async for key in self.redis.scan_iter(match=f"{_PREFIX}documents:*", count=500):
            documents.extend(_record(raw) for raw in (await self.redis.hgetall(key)).values())
        return jobs, documents

    async def import_rows(
        self, jobs: list[Job], documents: list[DocumentRecord], *, replace: bool
    ) -> None:
        """Write backed-up rows as they were (times included); `replace` first deletes every
        job and document key, so the catalog ends up exactly as backed up."""
        if replace:
            for pattern in (f"{_PREFIX}job:*", f"{_PREFIX}latest-job:*", f"{_PREFIX}documents:*"):
                doomed = [key async for key in self.redis.scan_iter(match=pattern, count=500)]
                for start in range(0, len(doomed), 500):
                    await self.redis.delete(*doomed[start : start + 500])
        async with self.redis.pipeline(transaction=False) as pipe:
            for job in jobs:
                pipe.hset(_job_key(job.job_id), mapping=_job_fields(job))
            for job in _latest_per_document(jobs):
                pipe.set(_latest_key(job.tenant, job.document_id), job.job_id)
            for record in documents:
                pipe.hset(
                    _documents_key(record.tenant),
                    record.document_id,
                    json.dumps(_record_json(record)),
                )
            await pipe.execute()

    async def close(self) -> None:
        await self.redis.aclose()


class RedisJobStore:
    def __init__(self, catalog: RedisCatalog) -> None:
        self._redis = catalog.redis
        self._update = self._redis.register_script(_UPDATE_JOB)

    async def create(self, job: Job) -> None:
        now = time.time()
        fields = _job_fields(replace(job, created_at=now, updated_at=now))
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(_job_key(job.job_id), mapping=fields)
            # Jobs are keyed by id alone: the document's newest job is kept beside them, so
            # asking for it never scans every job.
            pipe.set(_latest_key(job.tenant, job.document_id), job.job_id)
            await pipe.execute()

    async def get(self, tenant: str, job_id: str) -> Job | None:
        row = _texts(await self._redis.hgetall(_job_key(job_id)))
        if not row or row.get("tenant") != tenant:
            return None
        return _job(row)

    async def update(
        self,
        job_id: str,
        *,
        state: JobState | None = None,
        progress: dict[str, int] | None = None,
        error: str | None = None,
    ) -> None:
        await self._update(
            keys=[_job_key(job_id)],
            args=[
                repr(time.time()),
                state.value if state else "",
                json.dumps(progress) if progress is not None else "",
                job_error_change(state, error).value,
                error or "",
            ],
        )

    async def latest_for_document(self, tenant: str, document_id: str) -> Job | None:
        job_id = await self._redis.get(_latest_key(tenant, document_id))
        return await self.get(tenant, str(job_id)) if job_id else None


class RedisDocumentStore:
    def __init__(self, catalog: RedisCatalog) -> None:
        self._redis = catalog.redis

    async def put(self, record: DocumentRecord) -> None:
        await self._redis.hset(
            _documents_key(record.tenant), record.document_id, json.dumps(_record_json(record))
        )

    async def get(self, tenant: str, document_id: str) -> DocumentRecord | None:
        raw = await self._redis.hget(_documents_key(tenant), document_id)
        return _record(raw) if raw is not None else None

    async def list(self, tenant: str) -> list[DocumentRecord]:
        rows = await self._redis.hgetall(_documents_key(tenant))
        records = [_record(raw) for raw in rows.values()]
        return sorted(records, key=lambda r: r.updated_at, reverse=True)

    async def delete(self, tenant: str, document_id: str) -> bool:
        return await self._redis.hdel(_documents_key(tenant), document_id) > 0


class RedisAnswerLog:
    def __init__(self, catalog: RedisCatalog) -> None:
        self._redis = catalog.redis

    async def record(
        self, tenant: str, answer_id: str, query: str, answer: str, model: str
    ) -> None:
        entry = {"query": query, "answer": answer, "model": model, "created_at": time.time()}
        # NX: like SQLite's INSERT OR IGNORE, the first record of an answer id stands.
        await self._redis.hsetnx(_answers_key(tenant), answer_id, json.dumps(entry))

    async def exists(self, tenant: str, answer_id: str) -> bool:
        return bool(await self._redis.hexists(_answers_key(tenant), answer_id))

    async def add_feedback(
        self, tenant: str, answer_id: str, rating: str, comment: str | None
    ) -> None:
        entry = {
            "answer_id": answer_id,
            "rating": rating,
            "comment": comment,
            "created_at": time.time(),
        }
        await self._redis.rpush(f"{_PREFIX}feedback:{tenant}", json.dumps(entry))

    async def rated(self, tenant: str, rating: str, limit: int) -> list[RatedAnswer]:
        """The tenant's answers whose latest feedback is `rating`, newest first; reads the
        feedback list from its end in pages, at most _RATED_SCAN entries (bounded)."""
        key = f"{_PREFIX}feedback:{tenant}"
        latest: dict[str, str] = {}  # answer id -> its newest rating, newest answer first
        end = -1
        while len(latest) < _RATED_SCAN and -end <= _RATED_SCAN:
            page = await self._redis.lrange(key, end - _RATED_PAGE + 1, end)
            if not page:
                break
            for raw in reversed(page):
                entry = json.loads(raw)
                latest.setdefault(str(entry["answer_id"]), str(entry["rating"]))
            end -= _RATED_PAGE
        ids = [answer_id for answer_id, r in latest.items() if r == rating][:limit]
        found = await self._redis.hmget(_answers_key(tenant), ids) if ids else []
        out = []
        for answer_id, stored in zip(ids, found, strict=True):
            if stored is not None:
                row = json.loads(stored)
                out.append(RatedAnswer(answer_id, row["query"], row["answer"], row["model"]))
        return out


def _job_fields(job: Job) -> dict[FieldT, EncodableT]:
    fields: dict[FieldT, EncodableT] = {
        "job_id": job.job_id,
        "document_id": job.document_id,
        "tenant": job.tenant,
        "filename": job.filename,
        "state": job.state.value,
        "progress": json.dumps(job.progress),
        "created_at": repr(job.created_at),
        "updated_at": repr(job.updated_at),
    }
    if job.error is not None:
        fields["error"] = job.error
    return fields


def _job(row: dict[str, str]) -> Job:
    return Job(
        job_id=row["job_id"],
        document_id=row["document_id"],
        tenant=row["tenant"],
        filename=row["filename"],
        state=JobState(row["state"]),
        progress=json.loads(row["progress"]),
        error=row.get("error"),
        created_at=float(row["created_at"]),
        updated_at=float(row["updated_at"]),
    )


def _job_key(job_id: str) -> str:
    return f"{_PREFIX}job:{job_id}"


def _latest_key(tenant: str, document_id: str) -> str:
    return f"{_PREFIX}latest-job:{tenant}:{document_id}"


def _latest_per_document(jobs: list[Job]) -> list[Job]:
    newest: dict[tuple[str, str], Job] = {}
    for job in jobs:
        key = (job.tenant, job.document_id)
        if key not in newest or job.created_at > newest[key].created_at:
            newest[key] = job
    return list(newest.values())


def _documents_key(tenant: str) -> str:
    return f"{_PREFIX}documents:{tenant}"


def _answers_key(tenant: str) -> str:
    return f"{_PREFIX}answers:{tenant}"


def _record_json(record: DocumentRecord) -> dict[str, Any]:
    return {"tenant": record.tenant, **record.to_json()}


def _texts(row: dict[bytes | str, bytes | str]) -> dict[str, str]:
    # decode_responses=True makes these str; the client's types allow bytes too.
    return {str(key): str(value) for key, value in row.items()}


def _record(raw: bytes | str) -> DocumentRecord:
    return DocumentRecord.from_json(json.loads(raw))
