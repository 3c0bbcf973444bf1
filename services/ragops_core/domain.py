"""Domain types shared by the API, the worker and the CLI.

Plain frozen dataclasses: they cross thread and process boundaries (queue
messages, cache entries), so they hold only JSON-friendly values.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from typing import Any

# A fixed namespace so that ids derived from names are stable across installs:
# re-uploading "handbook.pdf" to the same tenant yields the same document id and
# therefore replaces the previous version instead of duplicating it.
RAGOPS_NAMESPACE = uuid.UUID("6f0c7a52-3c1e-4b3b-9a55-2f1d8c0e9b71")


def document_id_for(tenant: str, filename: str) -> str:
    """Stable document id of `filename` within `tenant`."""
    return str(uuid.uuid5(RAGOPS_NAMESPACE, f"{tenant}/{filename}"))


def point_id_for(document_id: str, chunk_index: int) -> str:
    """Stable vector-store point id: re-ingesting a document overwrites its points."""
    return str(uuid.uuid5(RAGOPS_NAMESPACE, f"{document_id}#{chunk_index}"))


# Key of a queue body that could not be understood (see `SqsQueue`): its value says why.
MALFORMED = "_malformed"


class JobState(enum.StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class ErrorChange(enum.StrEnum):
    """What an update does to a job's error (`job_error_change`)."""

    SET = "set"
    CLEAR = "clear"
    KEEP = "keep"


def job_error_change(state: JobState | None, error: str | None) -> ErrorChange:
    """The one rule every JobStore applies to a job's error on update.

    A given error is stored. Moving to processing or ready clears the previous one: a
    retried or finished job must not show an attempt's failure. Anything else keeps it.
    """
    if error is not None:
        return ErrorChange.SET
    if state in (JobState.READY, JobState.PROCESSING):
        return ErrorChange.CLEAR
    return ErrorChange.KEEP


@dataclass(frozen=True)
class Page:
    """Text of one page; `number` is 1-based, as people cite pages."""

    number: int
    text: str


@dataclass(frozen=True)
class Chunk:
    """A run of words from one document, the unit of retrieval and citation.

    `page_breaks` holds (word offset within the chunk, page number) for every page
    the chunk touches, so a sentence picked from the chunk can cite its own page.
    """

    index: int
    text: str
    page_breaks: tuple[tuple[int, int], ...]

    @property
    def page_start(self) -> int:
        return self.page_breaks[0][1]

    @property
    def page_end(self) -> int:
        return self.page_breaks[-1][1]


@dataclass(frozen=True)
class StoredChunk:
    """A chunk with the metadata the vector store keeps next to it."""

    tenant: str
    document_id: str
    filename: str
    index: int
    text: str
    page_breaks: tuple[tuple[int, int], ...]

    @property
    def page_start(self) -> int:
        return self.page_breaks[0][1]

    def page_at(self, word_offset: int) -> int:
        """Page of the word at `word_offset` within this chunk."""
        page = self.page_breaks[0][1]
        for start, number in self.page_breaks:
            if start > word_offset:
                break
            page = number
        return page


@dataclass(frozen=True)
class SearchHit:
    chunk: StoredChunk
    score: float


@dataclass(frozen=True)
class Source:
    """One citation of an answer."""

    document_id: str
    filename: str
    page: int
    excerpt: str
    score: float
    chunk_index: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "document_id": self.document_id,
            "filename": self.filename,
            "page": self.page,
            "excerpt": self.excerpt,
            "score": self.score,
            "chunk_index": self.chunk_index,
        }


@dataclass(frozen=True)
class RatedAnswer:
    """An answer as the answer log keeps it (no sources), for exporting rated answers."""

    answer_id: str
    query: str
    answer: str
    model: str


@dataclass(frozen=True)
class Answer:
    answer_id: str
    query: str
    text: str
    sources: list[Source]
    model: str
    cached: bool = False
    # False when the answer says the documents do not answer the question; its
    # `sources` are then empty: nothing is presented as support.
    answered: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "answer_id": self.answer_id,
            "answer": self.text,
            "answered": self.answered,
            "sources": [s.to_json() for s in self.sources],
            "model": self.model,
            "cached": self.cached,
        }


@dataclass(frozen=True)
class IngestMessage:
    """What the upload path hands to the ingestion worker through the queue."""

    job_id: str
    document_id: str
    object_key: str
    tenant: str
    filename: str
    user: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "document_id": self.document_id,
            "s3_key": self.object_key,
            "tenant": self.tenant,
            "filename": self.filename,
            "user": self.user,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IngestMessage:
        return cls(
            job_id=str(data["job_id"]),
            document_id=str(data["document_id"]),
            object_key=str(data["s3_key"]),
            tenant=str(data["tenant"]),
            filename=str(data["filename"]),
            user=str(data.get("user", "")),
        )


@dataclass
class Job:
    job_id: str
    document_id: str
    tenant: str
    filename: str
    state: JobState
    progress: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "document_id": self.document_id,
            "filename": self.filename,
            "state": self.state.value,
            "progress": dict(self.progress),
            "error": self.error,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Job:
        """`to_json` plus its `tenant` (as backups and catalogs store it); KeyError/ValueError on
        a missing or malformed field."""
        return cls(
            job_id=str(data["job_id"]),
            document_id=str(data["document_id"]),
            tenant=str(data["tenant"]),
            filename=str(data["filename"]),
            state=JobState(data["state"]),
            progress={str(k): int(v) for k, v in dict(data.get("progress") or {}).items()},
            error=None if data.get("error") is None else str(data["error"]),
            created_at=float(data["created_at"]),
            updated_at=float(data["updated_at"]),
        )


@dataclass(frozen=True)
class DocumentRecord:
    document_id: str
    tenant: str
    filename: str
    pages: int
    chunks: int
    bytes: int
    updated_at: float
    job_id: str

    def to_json(self) -> dict[str, Any]:
        return {
            "document_id": self.document_id,
            "filename": self.filename,
            "pages": self.pages,
            "chunks": self.chunks,
            "bytes": self.bytes,
            "updated_at": self.updated_at,
            "job_id": self.job_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DocumentRecord:
        """`to_json` plus its `tenant`; KeyError/ValueError on a missing or malformed field."""
        return cls(
            document_id=str(data["document_id"]),
            tenant=str(data["tenant"]),
            filename=str(data["filename"]),
            pages=int(data["pages"]),
            chunks=int(data["chunks"]),
            bytes=int(data["bytes"]),
            updated_at=float(data["updated_at"]),
            job_id=str(data["job_id"]),
        )


# What an answering chain yields: text pieces, then exactly one `Done` naming the
# model that produced them (per call: a shared chain cannot remember it for you).
@dataclass(frozen=True)
class Delta:
    text: str


@dataclass(frozen=True)
class Fallback:
    from_model: str
    to_model: str
    reason: str


@dataclass(frozen=True)
class Done:
    model: str  # the model whose text was yielded
    fallbacks: tuple[Fallback, ...] = field(default=())
    interrupted: bool = False


AnswerEvent = Delta | Done
