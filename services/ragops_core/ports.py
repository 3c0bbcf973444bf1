"""The ports of the services: small Protocols the core is written against.

Stores and transports: `VectorStore`, `Cache`, `ObjectStore`, `Queue`; the catalog
(`JobStore`, `DocumentStore`, `AnswerLog`); models: `Embedder`, `ChatModel` and the
`AnswerChain` the query path asks. `UsageRecorder` is the hook the model adapters call
with token counts, `Closeable` what a process closes on the way out.

Each port has an embedded adapter and a production one under `adapters/<port>/`, one
module per backend (`adapters/catalog/` holds the three catalog ports); the `AnswerChain`
is the core's own, over chat models (answer_chain.py). `ragops_wiring` is the only place
that picks an adapter, from settings.

All methods are async so that network-backed adapters never block the event loop;
embedded adapters that do CPU work hand it to a thread.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ragops_core.domain import AnswerEvent, DocumentRecord, Job, JobState, SearchHit, StoredChunk


class Embedder(Protocol):
    @property
    def model_id(self) -> str:
        """Identifies the vectors; part of cache keys and of the index's identity."""
        ...

    @property
    def dimensions(self) -> int: ...

    @property
    def max_tokens(self) -> int:
        """Longest input (in the model's own tokens) the model reads; the rest is cut."""
        ...

    async def embed_query(self, text: str) -> list[float]: ...

    async def embed_documents(self, texts: Sequence[str]) -> list[list[list[float]]]:
        """One or more vectors per text: long texts are read as several windows."""
        ...


@dataclass(frozen=True)
class SearchRequest:
    tenant: str
    text: str
    vector: list[float] | None
    limit: int
    mode: str  # "dense" | "bm25" | "hybrid"


class VectorStore(Protocol):
    async def upsert(
        self, chunks: Sequence[StoredChunk], vectors: Sequence[list[list[float]]]
    ) -> None: ...

    async def delete_document(self, tenant: str, document_id: str, *, from_chunk: int = 0) -> None:
        """Remove the document's chunks with index >= `from_chunk` (all of them by default)."""
        ...

    async def search(self, request: SearchRequest) -> list[SearchHit]: ...

    async def count(self, tenant: str | None = None) -> int: ...

    async def optimize(self) -> None:
        """Build indexes for what was added; may take seconds, never blocks queries."""
        ...

    async def close(self) -> None: ...


class Cache(Protocol):
    """Key-value cache with TTLs and tags, so invalidation can be exact."""

    async def get(self, key: str) -> bytes | None: ...

    async def set(
        self, key: str, value: bytes, *, ttl_seconds: int, tags: Sequence[str] = ()
    ) -> None: ...

    async def invalidate_tags(self, tags: Sequence[str]) -> int:
        """Drop every entry carrying any of `tags`; returns how many were dropped."""
        ...


class ObjectStore(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...


@dataclass(frozen=True)
class QueueMessage:
    receipt: str
    body: dict[str, object]
    receive_count: int


class Queue(Protocol):
    async def send(self, body: dict[str, object]) -> None: ...

    async def receive(
        self, *, wait_seconds: float, visibility_seconds: int
    ) -> QueueMessage | None: ...

    async def extend(self, message: QueueMessage, *, visibility_seconds: int) -> None: ...

    async def ack(self, message: QueueMessage) -> None:
        """Remove for good: only after the document is safely indexed."""
        ...

    async def release(self, message: QueueMessage) -> None:
        """Make a received message available again now, without that receive counting as an
        attempt (a worker stopping mid-document): the next receive_count equals this one's."""
        ...

    async def dead_letter_after(self) -> int | None:
        """Receives after which the queue itself moves a message to its dead-letter queue; None: no
        DLQ."""
        ...

    async def depth(self) -> int: ...


class JobStore(Protocol):
    async def create(self, job: Job) -> None: ...

    async def get(self, tenant: str, job_id: str) -> Job | None: ...

    async def update(
        self,
        job_id: str,
        *,
        state: JobState | None = None,
        progress: dict[str, int] | None = None,
        error: str | None = None,
    ) -> None: ...

    async def latest_for_document(self, tenant: str, document_id: str) -> Job | None:
        """The tenant's most recent job for the document: a failed upload has no catalog record,
        only its job."""
        ...


class DocumentStore(Protocol):
    async def put(self, record: DocumentRecord) -> None: ...

    async def get(self, tenant: str, document_id: str) -> DocumentRecord | None: ...

    async def list(self, tenant: str) -> list[DocumentRecord]: ...

    async def delete(self, tenant: str, document_id: str) -> bool: ...


class AnswerLog(Protocol):
    """Answers given and the feedback on them: feedback must name a real answer."""

    async def record(
        self, tenant: str, answer_id: str, query: str, answer: str, model: str
    ) -> None: ...

    async def exists(self, tenant: str, answer_id: str) -> bool: ...

    async def add_feedback(
        self, tenant: str, answer_id: str, rating: str, comment: str | None
    ) -> None: ...


class AnswerChain(Protocol):
    """Chat models tried in order (LLM, fallback LLM, extractive): what the query path uses."""

    @property
    def name(self) -> str:
        """The preferred model: part of answer cache keys."""
        ...

    def stream_events(
        self, query: str, hits: Sequence[SearchHit]
    ) -> AsyncIterator[AnswerEvent]: ...


class ChatModel(Protocol):
    @property
    def name(self) -> str: ...

    def stream_answer(self, query: str, hits: Sequence[SearchHit]) -> AsyncIterator[str]:
        """Yields the answer in pieces; the caller cites `hits` as its sources."""
        ...


class UsageRecorder(Protocol):
    """What the language-model adapters report: tokens per finished call (priced in pricing.py)."""

    def record(self, model: str, prompt_tokens: int, completion_tokens: int) -> None:
        """Called once per completed call, with the configured model name."""
        ...


@runtime_checkable
class Closeable(Protocol):
    """An adapter holding connections, files or threads: closed once, when its process stops."""

    async def close(self) -> None: ...
