"""Jobs and documents on SQLite: the embedded JobStore and DocumentStore."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from ragops_core.domain import (
    DocumentRecord,
    ErrorChange,
    Job,
    JobState,
    RatedAnswer,
    job_error_change,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    document_id TEXT NOT NULL,
    tenant TEXT NOT NULL,
    filename TEXT NOT NULL,
    state TEXT NOT NULL,
    progress TEXT NOT NULL DEFAULT '{}',
    error TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
    tenant TEXT NOT NULL,
    document_id TEXT NOT NULL,
    filename TEXT NOT NULL,
    pages INTEGER NOT NULL,
    chunks INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    updated_at REAL NOT NULL,
    job_id TEXT NOT NULL,
    PRIMARY KEY (tenant, document_id)
);
CREATE TABLE IF NOT EXISTS answers (
    answer_id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    query TEXT NOT NULL,
    answer TEXT NOT NULL,
    model TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    answer_id TEXT NOT NULL,
    tenant TEXT NOT NULL,
    rating TEXT NOT NULL,
    comment TEXT,
    created_at REAL NOT NULL
);
"""


class SqliteCatalog:
    """One database file, two small views: `jobs` (a JobStore) and `documents` (a DocumentStore)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a power loss may drop the last commits but never corrupts.
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        self.lock = threading.Lock()
        self.jobs = SqliteJobStore(self)
        self.documents = SqliteDocumentStore(self)
        self.answers = SqliteAnswerLog(self)

    async def export_rows(self) -> tuple[list[Job], list[DocumentRecord]]:
        """Every job and document of every tenant, for backups."""
        with self.lock:
            jobs = self.db.execute(f"SELECT {_JOB_COLUMNS} FROM jobs ORDER BY job_id").fetchall()
            documents = self.db.execute(
                "SELECT * FROM documents ORDER BY tenant, document_id"
            ).fetchall()
        return [_job(row) for row in jobs], [_record(row) for row in documents]

    async def import_rows(
        self, jobs: list[Job], documents: list[DocumentRecord], *, replace: bool
    ) -> None:
        """Write backed-up rows as they were (times included), in one transaction; `replace`
        first empties both tables, so the catalog ends up exactly as backed up."""
        with self.lock:
            self.db.execute("BEGIN")
            try:
                if replace:
                    self.db.execute("DELETE FROM jobs")
                    self.db.execute("DELETE FROM documents")
                self.db.executemany(
                    "INSERT OR REPLACE INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [_job_row(job) for job in jobs],
                )
                self.db.executemany(
                    "INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [_record_row(record) for record in documents],
                )
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    async def close(self) -> None:
        with self.lock:
            self.db.close()


class SqliteJobStore:
    def __init__(self, catalog: SqliteCatalog) -> None:
        self._c = catalog

    async def create(self, job: Job) -> None:
        now = time.time()
        with self._c.lock:
            self._c.db.execute(
                "INSERT INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _job_row(replace(job, created_at=now, updated_at=now)),
            )

    async def get(self, tenant: str, job_id: str) -> Job | None:
        with self._c.lock:
            row = self._c.db.execute(
                f"SELECT {_JOB_COLUMNS} FROM jobs WHERE job_id = ? AND tenant = ?",
                (job_id, tenant),
            ).fetchone()
        return _job(row) if row is not None else None

    async def update(
        self,
        job_id: str,
        *,
        state: JobState | None = None,
        progress: dict[str, int] | None = None,
        error: str | None = None,
    ) -> None:
        sets: list[str] = ["updated_at = ?"]
        values: list[object] = [time.time()]
        if state is not None:
            sets.append("state = ?")
            values.append(state.value)
        if progress is not None:
            sets.append("progress = ?")
            values.append(json.dumps(progress))
        if job_error_change(state, error) is not ErrorChange.KEEP:
            sets.append("error = ?")
            values.append(error)  # None when cleared
        with self._c.lock:
            self._c.db.execute(
                f"UPDATE jobs SET {', '.join(sets)} WHERE job_id = ?", (*values, job_id)
            )

    async def latest_for_document(self, tenant: str, document_id: str) -> Job | None:
        with self._c.lock:
            row = self._c.db.execute(
                "SELECT job_id FROM jobs WHERE tenant = ? AND document_id = ? "
                "ORDER BY created_at DESC LIMIT 1",
                (tenant, document_id),
            ).fetchone()
        return await self.get(tenant, row[0]) if row is not None else None


class SqliteDocumentStore:
    def __init__(self, catalog: SqliteCatalog) -> None:
        self._c = catalog

    async def put(self, record: DocumentRecord) -> None:
        with self._c.lock:
            self._c.db.execute(
                "INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                _record_row(record),
            )

    async def get(self, tenant: str, document_id: str) -> DocumentRecord | None:
        with self._c.lock:
            row = self._c.db.execute(
                "SELECT * FROM documents WHERE tenant = ? AND document_id = ?",
                (tenant, document_id),
            ).fetchone()
        return _record(row) if row else None

    async def list(self, tenant: str) -> list[DocumentRecord]:
        with self._c.lock:
            rows = self._c.db.execute(
                "SELECT * FROM documents WHERE tenant = ? ORDER BY updated_at DESC", (tenant,)
            ).fetchall()
        return [_record(row) for row in rows]

    async def delete(self, tenant: str, document_id: str) -> bool:
        with self._c.lock:
            cursor = self._c.db.execute(
                "DELETE FROM documents WHERE tenant = ? AND document_id = ?", (tenant, document_id)
            )
        return cursor.rowcount > 0


class SqliteAnswerLog:
    def __init__(self, catalog: SqliteCatalog) -> None:
        self._c = catalog

    async def record(
        self, tenant: str, answer_id: str, query: str, answer: str, model: str
    ) -> None:
        with self._c.lock:
            self._c.db.execute(
                "INSERT OR IGNORE INTO answers VALUES (?, ?, ?, ?, ?, ?)",
                (answer_id, tenant, query, answer, model, time.time()),
            )

    async def exists(self, tenant: str, answer_id: str) -> bool:
        with self._c.lock:
            row = self._c.db.execute(
                "SELECT 1 FROM answers WHERE answer_id = ? AND tenant = ?", (answer_id, tenant)
            ).fetchone()
        return row is not None

    async def add_feedback(
        self, tenant: str, answer_id: str, rating: str, comment: str | None
    ) -> None:
        with self._c.lock:
            self._c.db.execute(
                "INSERT INTO feedback VALUES (?, ?, ?, ?, ?)",
                (answer_id, tenant, rating, comment, time.time()),
            )

    async def rated(self, tenant: str, rating: str, limit: int) -> list[RatedAnswer]:
        """The tenant's answers whose latest feedback is `rating`, newest first (an answer
        rated up, then down, is not a good example)."""
        with self._c.lock:
            rows = self._c.db.execute(
                "SELECT a.answer_id, a.query, a.answer, a.model FROM answers a "
                "JOIN feedback f ON f.answer_id = a.answer_id AND f.tenant = a.tenant "
                "WHERE a.tenant = ? AND f.rating = ? AND f.rowid = (SELECT MAX(g.rowid) "
                "FROM feedback g WHERE g.answer_id = f.answer_id AND g.tenant = f.tenant) "
                "ORDER BY f.rowid DESC LIMIT ?",
                (tenant, rating, limit),
            ).fetchall()
        return [RatedAnswer(*row) for row in rows]


_JOB_COLUMNS = (
    "job_id, document_id, tenant, filename, state, progress, error, created_at, updated_at"
)


def _job_row(job: Job) -> tuple[object, ...]:
    return (
        job.job_id,
        job.document_id,
        job.tenant,
        job.filename,
        job.state.value,
        json.dumps(job.progress),
        job.error,
        job.created_at,
        job.updated_at,
    )


def _job(row: tuple[Any, ...]) -> Job:
    return Job(
        job_id=row[0],
        document_id=row[1],
        tenant=row[2],
        filename=row[3],
        state=JobState(row[4]),
        progress=json.loads(row[5]),
        error=row[6],
        created_at=row[7],
        updated_at=row[8],
    )


def _record_row(record: DocumentRecord) -> tuple[object, ...]:
    return (
        record.tenant,
        record.document_id,
        record.filename,
        record.pages,
        record.chunks,
        record.bytes,
        record.updated_at,
        record.job_id,
    )


def _record(row: tuple[Any, ...]) -> DocumentRecord:
    return DocumentRecord(
        tenant=str(row[0]),
        document_id=str(row[1]),
        filename=str(row[2]),
        pages=int(row[3]),
        chunks=int(row[4]),
        bytes=int(row[5]),
        updated_at=float(row[6]),
        job_id=str(row[7]),
    )
