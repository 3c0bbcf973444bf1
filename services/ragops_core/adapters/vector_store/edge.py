"""Vector store on Qdrant Edge: Qdrant's own engine, in-process, persisted on disk.

One shard holds every tenant; each point is one chunk with
- `dense`: one MiniLM vector per 256-piece window of the chunk, compared by MaxSim
  (a chunk scores as its best-matching window), HNSW-indexed after `optimize()`;
- `bm25`: a BM25 sparse vector of every word, with Qdrant's IDF modifier computed
  over the caller's tenant only, so one tenant's vocabulary never shapes another's scores.
Hybrid queries fuse both inside the engine (distribution-based score fusion).
The same layout works unchanged on a Qdrant server (production adapter).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from qdrant_edge import (
    Bm25,
    Bm25Config,
    CountRequest,
    Distance,
    EdgeConfig,
    EdgeShard,
    EdgeSparseVectorParams,
    EdgeVectorParams,
    FieldCondition,
    Filter,
    Fusion,
    IdfParams,
    MatchValue,
    Modifier,
    MultiVectorComparator,
    MultiVectorConfig,
    PayloadSchemaType,
    Point,
    Prefetch,
    Query,
    QueryRequest,
    RangeFloat,
    ScrollRequest,
    SearchParams,
    SparseVector,
    UpdateOperation,
)

if TYPE_CHECKING:
    from qdrant_edge import ConditionType, PointId

from ragops_core.adapters.vector_store.qdrant_payload import (
    DENSE,
    PAYLOAD_INDEXES,
    SPARSE,
    check_mode,
    payload,
)
from ragops_core.adapters.vector_store.qdrant_payload import chunk as to_chunk
from ragops_core.domain import SearchHit, StoredChunk, point_id_for
from ragops_core.errors import StoreBusyError
from ragops_core.portable import PortablePoint, Sparse, vectors_from_store
from ragops_core.ports import SearchRequest

log = logging.getLogger(__name__)


class EdgeVectorStore:
    def __init__(
        self,
        path: Path,
        *,
        dimensions: int | None,
        bm25_avg_words: float = 500.0,
        prefetch_limit: int = 40,
        fusion: str = "dbsf",
    ) -> None:
        self._path = path
        self._bm25 = Bm25(Bm25Config(avg_len=bm25_avg_words, language="english"))
        self._prefetch_limit = prefetch_limit
        # DBSF (normalise each list's scores by its own distribution, then add) beat
        # RRF on the DEV set: nDCG@10 0.938 vs 0.890; RRF throws the score gaps away.
        self._fusion: Any = Fusion.Dbsf() if fusion == "dbsf" else Fusion.Rrf(k=60)
        self._write_lock = threading.Lock()
        self._shard = self._open(path, dimensions)

    @staticmethod
    def _open(path: Path, dimensions: int | None) -> EdgeShard:
        # No dimensions: open what is there as it is (backups read a store without knowing
        # which model filled it); Edge then skips its config compatibility check.
        config = _config(dimensions) if dimensions is not None else None
        try:
            if (path / "segments").exists() or any(path.glob("*")):
                return EdgeShard.load(str(path), config)
            if config is None:
                raise FileNotFoundError(f"there is no embedded vector store at {path}")
            path.mkdir(parents=True, exist_ok=True)
            shard = EdgeShard.create(str(path), config)
        except FileNotFoundError:
            raise
        except Exception as exc:  # the binding raises bare exceptions; name the cause for the user
            if "lock" in str(exc).lower() or "in use" in str(exc).lower():
                raise StoreBusyError(
                    f"the vector store at {path} is in use by another RAGOps process"
                ) from exc
            raise
        for field in PAYLOAD_INDEXES:
            shard.update(UpdateOperation.create_field_index(field, PayloadSchemaType.Keyword))
        shard.update(UpdateOperation.create_field_index("chunk_index", PayloadSchemaType.Integer))
        return shard

    async def upsert(
        self, chunks: Sequence[StoredChunk], vectors: Sequence[list[list[float]]]
    ) -> None:
        points = [
            Point(
                id=point_id_for(chunk.document_id, chunk.index),
                vector={DENSE: windows, SPARSE: self._bm25.embed_document(chunk.text)},
                payload=payload(chunk),
            )
            for chunk, windows in zip(chunks, vectors, strict=True)
        ]
        await anyio.to_thread.run_sync(self._write, UpdateOperation.upsert_points(points))

    async def delete_document(self, tenant: str, document_id: str, *, from_chunk: int = 0) -> None:
        conditions: list[ConditionType] = [
            _match("tenant", tenant),
            _match("document_id", document_id),
        ]
        if from_chunk:
            conditions.append(
                FieldCondition(key="chunk_index", range=RangeFloat(gte=float(from_chunk)))
            )
        selector = Filter(must=conditions)
        await anyio.to_thread.run_sync(
            self._write, UpdateOperation.delete_points_by_filter(selector)
        )

    async def search(self, request: SearchRequest) -> list[SearchHit]:
        return await anyio.to_thread.run_sync(self.search_sync, request)

    def search_sync(self, request: SearchRequest) -> list[SearchHit]:
        check_mode(request.mode)
        tenant_only = Filter(must=[_match("tenant", request.tenant)])
        params = SearchParams(idf=IdfParams(corpus=tenant_only))
        dense = sparse = None
        if request.mode in ("dense", "hybrid"):
            if request.vector is None:
                raise ValueError("dense retrieval needs a query vector")
            dense = Query.Nearest(request.vector, using=DENSE)
        if request.mode in ("bm25", "hybrid"):
            sparse = Query.Nearest(self._bm25.embed_query(request.text), using=SPARSE)
        if request.mode == "hybrid":
            query = QueryRequest(
                limit=request.limit,
                prefetches=[
                    Prefetch(limit=self._prefetch_limit, query=dense, filter=tenant_only),
                    Prefetch(
                        limit=self._prefetch_limit, query=sparse, filter=tenant_only, params=params
                    ),
                ],
                query=self._fusion,
                with_payload=True,
            )
        else:
            query = QueryRequest(
                limit=request.limit,
                query=dense or sparse,
                filter=tenant_only,
                params=params if sparse is not None else None,
                with_payload=True,
            )
        return [
            SearchHit(chunk=to_chunk(point.payload or {}), score=float(point.score))
            for point in self._shard.query(query)
        ]

    async def count(self, tenant: str | None = None) -> int:
        selector = Filter(must=[_match("tenant", tenant)]) if tenant else None
        return await anyio.to_thread.run_sync(
            lambda: self._shard.count(CountRequest(exact=True, filter=selector))
        )

    async def optimize(self) -> None:
        await anyio.to_thread.run_sync(self._optimize)

    def _optimize(self) -> None:
        with self._write_lock:
            self._shard.optimize()
            self._shard.flush()

    def export_points(self, *, batch: int = 256) -> Iterator[PortablePoint]:
        """Every point with its payload and vectors, in id order (a consistent read per batch)."""
        offset: PointId | None = None
        while True:
            request = ScrollRequest(offset=offset, limit=batch, with_payload=True, with_vector=True)
            records, offset = self._shard.scroll(request)
            for record in records:
                yield PortablePoint(
                    id=str(record.id),
                    payload=dict(record.payload or {}),
                    vector=vectors_from_store(record.vector),
                )
            if offset is None:
                return

    async def import_points(self, points: Sequence[PortablePoint]) -> None:
        """Write exported points as they are (no re-embedding): restores and migrations."""
        batch = [Point(id=p.id, vector=_edge_vectors(p), payload=p.payload) for p in points]
        await anyio.to_thread.run_sync(self._write, UpdateOperation.upsert_points(batch))

    async def close(self) -> None:
        with self._write_lock:
            self._shard.flush()
            self._shard.close()

    def _write(self, operation: UpdateOperation) -> None:
        with self._write_lock:
            self._shard.update(operation)
            # Flushed per batch: a document reported ready must survive a crash.
            self._shard.flush()


def _config(dimensions: int) -> EdgeConfig:
    return EdgeConfig(
        vectors={
            DENSE: EdgeVectorParams(
                size=dimensions,
                distance=Distance.Cosine,
                multivector_config=MultiVectorConfig(MultiVectorComparator.MaxSim),
            )
        },
        sparse_vectors={SPARSE: EdgeSparseVectorParams(modifier=Modifier.Idf)},
    )


def _edge_vectors(point: PortablePoint) -> dict[str, Any]:
    return {
        name: SparseVector(value.indices, value.values) if isinstance(value, Sparse) else value
        for name, value in point.vector.items()
    }


def _match(key: str, value: str) -> FieldCondition:
    return FieldCondition(key=key, match=MatchValue(value))
