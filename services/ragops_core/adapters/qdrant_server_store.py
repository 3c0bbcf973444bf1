"""Vector store on a Qdrant server (the StatefulSet in production), through qdrant-client.

Layout: one collection per deployment and index version, `{name}-{version}`,
reached through the alias `{name}`; every tenant shares it, separated by the
`tenant` payload (keyword index with `is_tenant`, Qdrant's multitenancy layout,
which co-locates a tenant's points) and by a tenant filter on every query and
delete. A full re-embed (new model) writes a new version and `switch_version`
moves the alias in one atomic call, so queries never see a half-built index.
Points, payloads and BM25 vectors are exactly those of the embedded store
(`qdrant_payload`, Qdrant Edge's BM25), so snapshots move between the two.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

from qdrant_client import AsyncQdrantClient, models
from qdrant_edge import Bm25, Bm25Config

from ragops_core.adapters.qdrant_payload import DENSE, SPARSE, check_mode, payload
from ragops_core.adapters.qdrant_payload import chunk as to_chunk
from ragops_core.backup.portable import PortablePoint, Sparse, vectors_from_store
from ragops_core.domain import SearchHit, StoredChunk, point_id_for
from ragops_core.ports import SearchRequest


class QdrantServerStore:
    def __init__(
        self,
        client: AsyncQdrantClient,
        *,
        name: str,
        version: str,
        dimensions: int,
        bm25_avg_words: float = 500.0,
        prefetch_limit: int = 40,
        fusion: str = "dbsf",
        shards: int = 1,
        replication_factor: int = 1,
    ) -> None:
        self._client = client
        self._shards = shards
        self._replication_factor = replication_factor
        self.alias = name
        self.collection = f"{name}-{version}"
        self._dimensions = dimensions
        self._bm25 = Bm25(Bm25Config(avg_len=bm25_avg_words, language="english"))
        self._prefetch_limit = prefetch_limit
        self._fusion = models.Fusion.DBSF if fusion == "dbsf" else models.Fusion.RRF
        self._ready = False
        self._lock = asyncio.Lock()

    async def ensure(self) -> None:
        """Create the versioned collection, its payload indexes and the alias, if missing."""
        async with self._lock:
            if self._ready:
                return
            if not await self._client.collection_exists(self.collection):
                await self._client.create_collection(
                    self.collection,
                    vectors_config={DENSE: models.VectorParams(
                        size=self._dimensions, distance=models.Distance.COSINE,
                        multivector_config=models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM),
                    )},
                    sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
                    # Fixed at creation: more shards than peers is what lets later peers take some over.
                    shard_number=self._shards,
                    replication_factor=self._replication_factor,
                )
                await self._client.create_payload_index(
                    self.collection, "tenant", models.KeywordIndexParams(type=models.KeywordIndexType.KEYWORD,
                                                                         is_tenant=True))
                await self._client.create_payload_index(self.collection, "document_id",
                                                        models.PayloadSchemaType.KEYWORD)
                await self._client.create_payload_index(self.collection, "chunk_index",
                                                        models.PayloadSchemaType.INTEGER)
            if not await self._alias_exists():
                await self._switch_alias_to(self.collection)
            self._ready = True

    async def switch_version(self, version: str) -> None:
        """Point the alias at `{name}-{version}` atomically (after a full re-embed into it)."""
        await self._switch_alias_to(f"{self.alias}-{version}")

    async def _switch_alias_to(self, collection: str) -> None:
        operations: list[models.AliasOperations] = []
        if await self._alias_exists():
            operations.append(models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=self.alias)))
        operations.append(models.CreateAliasOperation(
            create_alias=models.CreateAlias(collection_name=collection, alias_name=self.alias)))
        # One request: Qdrant applies the whole list atomically.
        await self._client.update_collection_aliases(change_aliases_operations=operations)

    async def _alias_exists(self) -> bool:
        return any(a.alias_name == self.alias for a in (await self._client.get_aliases()).aliases)

    async def upsert(self, chunks: Sequence[StoredChunk], vectors: Sequence[list[list[float]]]) -> None:
        await self.ensure()
        points = []
        for item, windows in zip(chunks, vectors, strict=True):
            sparse = self._bm25.embed_document(item.text)
            points.append(models.PointStruct(
                id=point_id_for(item.document_id, item.index),
                vector={DENSE: windows, SPARSE: models.SparseVector(indices=sparse.indices, values=sparse.values)},
                payload=payload(item),
            ))
        await self._client.upsert(self.alias, points=points, wait=True)

    async def delete_document(self, tenant: str, document_id: str, *, from_chunk: int = 0) -> None:
        await self.ensure()
        conditions: list[models.Condition] = [_match("tenant", tenant), _match("document_id", document_id)]
        if from_chunk:
            conditions.append(models.FieldCondition(key="chunk_index", range=models.Range(gte=from_chunk)))
        await self._client.delete(self.alias, points_selector=models.FilterSelector(
            filter=models.Filter(must=conditions)), wait=True)

    async def search(self, request: SearchRequest) -> list[SearchHit]:
        check_mode(request.mode)
        await self.ensure()
        tenant_only = models.Filter(must=[_match("tenant", request.tenant)])
        # IDF from the caller's tenant only: one tenant's vocabulary never shapes another's scores.
        tenant_idf = models.SearchParams(idf=models.IdfCorpusParams(corpus=tenant_only))
        dense_query = [request.vector] if request.vector is not None else None
        sparse_query = None
        if request.mode in ("bm25", "hybrid"):
            sparse = self._bm25.embed_query(request.text)
            sparse_query = models.SparseVector(indices=sparse.indices, values=sparse.values)
        if request.mode in ("dense", "hybrid") and dense_query is None:
            raise ValueError("dense retrieval needs a query vector")
        if request.mode == "hybrid":
            response = await self._client.query_points(
                self.alias,
                prefetch=[models.Prefetch(query=dense_query, using=DENSE, limit=self._prefetch_limit),
                          models.Prefetch(query=sparse_query, using=SPARSE, limit=self._prefetch_limit,
                                          params=tenant_idf)],
                query=models.FusionQuery(fusion=self._fusion), query_filter=tenant_only, limit=request.limit,
                with_payload=True,
            )
        else:
            response = await self._client.query_points(
                self.alias, query=dense_query if request.mode == "dense" else sparse_query,
                using=DENSE if request.mode == "dense" else SPARSE, query_filter=tenant_only, limit=request.limit,
                search_params=tenant_idf if request.mode == "bm25" else None, with_payload=True,
            )
        return [SearchHit(chunk=to_chunk(p.payload or {}), score=float(p.score)) for p in response.points]

    async def count(self, tenant: str | None = None) -> int:
        await self.ensure()
        selector = models.Filter(must=[_match("tenant", tenant)]) if tenant else None
        return (await self._client.count(self.alias, count_filter=selector, exact=True)).count

    async def export_points(self, *, batch: int = 256) -> AsyncIterator[list[PortablePoint]]:
        """Every point of the live collection (through the alias), with payloads and vectors.

        No `ensure()`: reading must never create a collection."""
        offset: models.ExtendedPointId | None = None
        while True:
            records, next_offset = await self._client.scroll(
                self.alias, limit=batch, offset=offset, with_payload=True, with_vectors=True)
            yield [PortablePoint(id=str(r.id), payload=dict(r.payload or {}), vector=vectors_from_store(r.vector))
                   for r in records]
            if next_offset is None:
                return
            offset = next_offset

    async def import_points(self, points: Sequence[PortablePoint]) -> None:
        """Write exported points as they are (no re-embedding): restores and migrations."""
        await self.ensure()
        structs = [models.PointStruct(id=p.id, payload=p.payload, vector=_server_vectors(p)) for p in points]
        await self._client.upsert(self.alias, points=structs, wait=True)

    async def optimize(self) -> None:
        """Nothing to do: the server builds its indexes itself."""

    async def close(self) -> None:
        await self._client.close()


def _server_vectors(point: PortablePoint) -> dict[str, Any]:
    return {name: models.SparseVector(indices=v.indices, values=v.values) if isinstance(v, Sparse) else v
            for name, v in point.vector.items()}


def _match(key: str, value: str) -> models.FieldCondition:
    return models.FieldCondition(key=key, match=models.MatchValue(value=value))
