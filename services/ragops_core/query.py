"""The question path: answer cache -> embedding cache -> search -> answer -> sources; and the
feedback on the answers it gave."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ragops_core import cache_keys, request_context
from ragops_core.answering import (
    EXTRACTIVE_MODEL,
    NO_DOCUMENTS,
    NOT_FOUND,
    ScoredSentence,
    build_sources,
    is_abstention,
    select_sentences,
    supported,
)
from ragops_core.domain import Answer, AnswerEvent, Delta, Done, SearchHit, Source
from ragops_core.errors import NotFoundError
from ragops_core.metrics import Metrics
from ragops_core.ports import AnswerChain, AnswerLog, Cache, Embedder, SearchRequest, VectorStore


@dataclass(frozen=True)
class QueryOptions:
    top_k: int
    mode: str
    answer_ttl_seconds: int
    embedding_ttl_seconds: int
    answer_cache_scope: str = ""


class QueryService:
    def __init__(
        self,
        *,
        embedder: Embedder,
        store: VectorStore,
        cache: Cache,
        chat: AnswerChain,
        answers: AnswerLog,
        metrics: Metrics,
        options: QueryOptions,
    ) -> None:
        self._embedder = embedder
        self._store = store
        self._cache = cache
        self._chat = chat
        self._answers = answers
        self._metrics = metrics
        self.options = options

    def answer_key(self, tenant: str, query: str, top_k: int) -> str:
        return cache_keys.answer_key(
            tenant=tenant,
            scope=self.options.answer_cache_scope,
            query=query,
            embedder=self._embedder.model_id,
            model=self._chat.name,
            mode=self.options.mode,
            top_k=top_k,
        )

    async def cached_answer(self, tenant: str, query: str, top_k: int) -> bytes | None:
        """The cached answer as ready-to-send JSON bytes (with "cached": true), or None."""
        value = await self._cache.get(self.answer_key(tenant, query, top_k))
        self._metrics.cache_requests.labels("answer", "hit" if value is not None else "miss").inc()
        if value is None:
            return None
        body, _, cost = value.partition(b"\n")
        if cost:
            self._record_savings(cost)
        return body

    def _record_savings(self, cost: bytes) -> None:
        """A hit saves what producing the answer cost: the trailer `_cache_value` wrote."""
        try:
            seconds, tokens, usd = cost.split()
            self._metrics.cache_saved_seconds.inc(float(seconds))
            self._metrics.cache_saved_tokens.inc(int(tokens))
            self._metrics.cache_saved_usd.inc(float(usd))
        except ValueError:
            return  # a trailer this version does not understand saves nothing countable

    async def answer(self, tenant: str, query: str, top_k: int) -> Answer:
        started = time.perf_counter()
        hits, ranked, abstain = await self._retrieve_for_answer(tenant, query, top_k)
        pieces: list[str] = []
        done = Done(model="none")
        async for event in self._answer_events(query, hits, abstain):
            if isinstance(event, Delta):
                pieces.append(event.text)
            else:
                done = event
        return await self._finish(
            tenant, query, top_k, hits, ranked, "".join(pieces), done, started=started
        )

    async def _retrieve_for_answer(
        self, tenant: str, query: str, top_k: int
    ) -> tuple[list[SearchHit], list[ScoredSentence], bool]:
        """The hits, their ranked sentences, and whether to abstain without asking the chain.

        Only the extractive answerer is gated here (`answering.supported`): it would quote
        the best-matching sentence whatever it says, while an LLM is told to reply with
        `NOT_FOUND` when its sources do not answer (prompting.SYSTEM_PROMPT), so its own
        judgement decides. The gate needs the question's best dense similarity to any
        chunk, which a hybrid search's fused scores do not carry: one more dense search
        for the single best chunk (about a millisecond on the embedded store).
        """
        mode = self.options.mode
        vector = await self.query_vector(query) if mode in ("dense", "hybrid") else None
        hits = await self._search(tenant, query, vector, top_k, mode)
        ranked = select_sentences(query, hits)
        if not hits or self._chat.name != EXTRACTIVE_MODEL:
            return hits, ranked, False
        similarity: float | None = None
        if vector is not None:
            best = (
                hits if mode == "dense" else await self._search(tenant, query, vector, 1, "dense")
            )
            similarity = max((h.score for h in best), default=0.0)
        return hits, ranked, not supported(query, ranked, similarity)

    async def stream(
        self, tenant: str, query: str, top_k: int, *, fresh: bool = False
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """Server-sent events: `sources` first, then `delta`s of the answer, then `done`.
        `fresh`: answer now even if the cache has the answer (the new one replaces it)."""
        cached = None if fresh else await self.cached_answer(tenant, query, top_k)
        if cached is not None:
            body = json.loads(cached)
            yield (
                "sources",
                {"answer_id": body["answer_id"], "sources": body["sources"], "cached": True},
            )
            yield "delta", {"text": body["answer"]}
            yield "done", body
            return
        started = time.perf_counter()
        hits, ranked, abstain = await self._retrieve_for_answer(tenant, query, top_k)
        # An abstention presents no sources; an LLM's verdict comes later, so its `sources`
        # event may list sources that the `done` event (authoritative) then drops.
        sources = [] if abstain else build_sources(hits, ranked)
        yield "sources", {"sources": [s.to_json() for s in sources], "cached": False}
        pieces = []
        done = Done(model="none")
        async for event in self._answer_events(query, hits, abstain):
            if isinstance(event, Delta):
                pieces.append(event.text)
                yield "delta", {"text": event.text}
            else:
                done = event
        answer = await self._finish(
            tenant, query, top_k, hits, ranked, "".join(pieces), done, sources, started=started
        )
        yield "done", answer.to_json()

    async def retrieve(
        self, tenant: str, query: str, top_k: int, mode: str | None = None
    ) -> list[SearchHit]:
        mode = mode or self.options.mode
        vector = await self.query_vector(query) if mode in ("dense", "hybrid") else None
        return await self._search(tenant, query, vector, top_k, mode)

    async def _search(
        self, tenant: str, query: str, vector: list[float] | None, top_k: int, mode: str
    ) -> list[SearchHit]:
        started = time.perf_counter()
        hits = await self._store.search(
            SearchRequest(tenant=tenant, text=query, vector=vector, limit=top_k, mode=mode)
        )
        self._metrics.search_latency.labels(mode).observe(time.perf_counter() - started)
        return hits

    async def query_vector(self, query: str) -> list[float]:
        key = cache_keys.embedding_key(embedder=self._embedder.model_id, query=query)
        cached = await self._cache.get(key)
        self._metrics.cache_requests.labels(
            "embedding", "hit" if cached is not None else "miss"
        ).inc()
        if cached is not None:
            vector: list[float] = np.frombuffer(cached, dtype=np.float32).tolist()
            return vector
        started = time.perf_counter()
        vector = await self._embedder.embed_query(query)
        self._metrics.embed_latency.observe(time.perf_counter() - started)
        await self._cache.set(
            key,
            np.asarray(vector, dtype=np.float32).tobytes(),
            ttl_seconds=self.options.embedding_ttl_seconds,
        )
        return vector

    async def add_feedback(
        self, tenant: str, answer_id: str, rating: str, comment: str | None
    ) -> None:
        """Record a rating ("up" or "down") of an answer this tenant was given; NotFoundError
        otherwise."""
        if not await self._answers.exists(tenant, answer_id):
            raise NotFoundError(f"no answer {answer_id!r}")
        await self._answers.add_feedback(tenant, answer_id, rating, comment)
        self._metrics.feedback.labels(rating).inc()

    async def _answer_events(
        self, query: str, hits: list[SearchHit], abstain: bool
    ) -> AsyncIterator[AnswerEvent]:
        if not hits:
            yield Delta(NO_DOCUMENTS)
            yield Done(model="none")
            return
        if abstain:
            yield Delta(NOT_FOUND)
            yield Done(model=self._chat.name)
            return
        async for event in self._chat.stream_events(query, hits):
            yield event

    async def _finish(
        self,
        tenant: str,
        query: str,
        top_k: int,
        hits: list[SearchHit],
        ranked: list[ScoredSentence],
        text: str,
        done: Done,
        sources: list[Source] | None = None,
        *,
        started: float,
    ) -> Answer:
        answered = not is_abstention(text)
        if not answered:
            sources = []
        elif sources is None:
            sources = build_sources(hits, ranked)
        answer = Answer(
            answer_id=str(uuid.uuid4()),
            query=query,
            text=text,
            sources=sources,
            model=done.model,
            answered=answered,
        )
        self._metrics.answers.labels(answer.model).inc()
        await self._answers.record(tenant, answer.answer_id, query, text, answer.model)
        # Never cache "no documents yet" (the first upload must change it), nor a fallback's
        # or an interrupted answer: the preferred model should get the next chance.
        if hits and done.model == self._chat.name and not done.interrupted:
            cached = Answer(**{**answer.__dict__, "cached": True})
            await self._cache.set(
                self.answer_key(tenant, query, top_k),
                _cache_value(json.dumps(cached.to_json()).encode(), time.perf_counter() - started),
                ttl_seconds=self.options.answer_ttl_seconds,
                # The hits' documents, not only the cited ones: an abstention cites none, and
                # a change to the documents it searched may make it answerable.
                tags=cache_keys.answer_tags(tenant, [h.chunk.document_id for h in hits]),
            )
        return answer


def _cache_value(body: bytes, seconds: float) -> bytes:
    """The response's JSON, a newline, then what producing it cost: `seconds tokens dollars`.

    json.dumps escapes newlines inside strings, so the first newline is the separator, and
    a hit splits it off in microseconds (the fast path sends the JSON part as stored).
    Tokens and dollars are what the language models spent for this request so far."""
    context = request_context.current()
    tokens, usd = (context.llm_tokens, context.llm_cost_usd) if context is not None else (0, 0.0)
    return body + b"\n" + f"{seconds:.6f} {tokens} {usd:.10f}".encode()
