"""Vector store on a Qdrant server (the StatefulSet in production), through qdrant-client.

Layout: one collection per deployment and index version, `{name}-{version}`
(each embedding model has its own version); every tenant shares it, separated by the
`tenant` payload (keyword index with `is_tenant`, Qdrant's multitenancy layout,
which co-locates a tenant's points) and by a tenant filter on every query and
delete. Points, payloads and BM25 vectors are exactly those of the embedded store
(`qdrant_payload`, Qdrant Edge's BM25), so snapshots move between the two.

Searches, counts, upserts, exports and imports use the store's own version,
`{name}-{version}`, never the alias: during a change of embedding model a pod on
the old model and one on the new each read the index built with their own model,
and a version being built is read by nobody until pods configured for it start
(`ragops reindex` builds it first, see docs/reindex.md). The alias `{name}` names
the version being served: `ensure()` creates it for a brand-new stack (pointing at
the first version) and `switch_version` moves it atomically once a re-index is
complete. Deleting a document reaches every version (see `delete_document`).

A peer of a distributed Qdrant that dies (or restarts) fails the requests that reached it, until
the Service stops sending it new ones; the same request on a new connection reaches a live peer,
which serves it from the other replicas. So searches, counts, reads and writes are retried a
bounded number of times on such transport failures (see `_retrying`); each is idempotent (points
have fixed ids, deletes are by filter).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar

import grpc
from qdrant_client import AsyncQdrantClient, models
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse
from qdrant_edge import Bm25, Bm25Config

from ragops_core.adapters.vector_store.qdrant_payload import DENSE, SPARSE, check_mode, payload
from ragops_core.adapters.vector_store.qdrant_payload import chunk as to_chunk
from ragops_core.domain import SearchHit, StoredChunk, point_id_for
from ragops_core.portable import PortablePoint, Sparse, vectors_from_store
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
        self.version = version
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
            # Each step checks before it creates, so a retry after a lost response is safe.
            await _retrying(self._create)
            self._ready = True

    async def _create(self) -> None:
        if not await self._client.collection_exists(self.collection):
            await self._client.create_collection(
                self.collection,
                vectors_config={
                    DENSE: models.VectorParams(
                        size=self._dimensions,
                        distance=models.Distance.COSINE,
                        multivector_config=models.MultiVectorConfig(
                            comparator=models.MultiVectorComparator.MAX_SIM
                        ),
                    )
                },
                sparse_vectors_config={
                    SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)
                },
                # Fixed at creation: more shards than peers is what lets later peers take some
                # over.
                shard_number=self._shards,
                replication_factor=self._replication_factor,
            )
        # Outside the `if`: a retry after the collection was created (its response lost) must still
        # create them; creating an index that exists changes nothing.
        await self._client.create_payload_index(
            self.collection,
            "tenant",
            models.KeywordIndexParams(type=models.KeywordIndexType.KEYWORD, is_tenant=True),
        )
        await self._client.create_payload_index(
            self.collection, "document_id", models.PayloadSchemaType.KEYWORD
        )
        await self._client.create_payload_index(
            self.collection, "chunk_index", models.PayloadSchemaType.INTEGER
        )
        if not await self._alias_exists():
            await self._switch_alias_to(self.collection)

    async def switch_version(self, version: str) -> None:
        """Point the alias at `{name}-{version}` atomically (after a full re-embed into it).

        Reads and writes do not follow the alias (they use the store's own version): it names
        the version being served, for people and tools (the Qdrant UI, `ragops reindex --drop`)."""
        await self._switch_alias_to(f"{self.alias}-{version}")

    async def alias_target(self) -> str | None:
        """The collection the alias points at, or None without an alias."""
        for alias in (await self._client.get_aliases()).aliases:
            if alias.alias_name == self.alias:
                return alias.collection_name
        return None

    async def exists(self) -> bool:
        """Whether this version's collection exists (never creates it)."""
        return bool(await self._client.collection_exists(self.collection))

    async def dense_size(self) -> int | None:
        """Size of this version's dense vectors (its embedding model's), None if it does not
        exist."""
        if not await self.exists():
            return None
        vectors = (await self._client.get_collection(self.collection)).config.params.vectors
        params = vectors.get(DENSE) if isinstance(vectors, dict) else vectors
        return params.size if params is not None else None

    async def family(self) -> list[str]:
        """Every collection of this deployment, one per index version: `{name}-*`, and always
        this version's own. A collection under another alias that extends the name (`{name}-eu`,
        another deployment sharing the server) belongs to that alias, not to this family."""
        prefix = f"{self.alias}-"
        others = [
            a.alias_name
            for a in (await self._client.get_aliases()).aliases
            if a.alias_name.startswith(prefix)
        ]
        names = {
            c.name
            for c in (await self._client.get_collections()).collections
            if c.name.startswith(prefix)
            and not any(c.name.startswith(f"{other}-") for other in others)
        }
        return sorted(names | {self.collection})

    async def drop(self) -> None:
        """Delete this version's collection (`ragops reindex --drop`)."""
        if await self.exists():
            await self._client.delete_collection(self.collection)

    async def _switch_alias_to(self, collection: str) -> None:
        operations: list[models.AliasOperations] = []
        if await self._alias_exists():
            operations.append(
                models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=self.alias))
            )
        operations.append(
            models.CreateAliasOperation(
                create_alias=models.CreateAlias(collection_name=collection, alias_name=self.alias)
            )
        )
        # One request: Qdrant applies the whole list atomically.
        await self._client.update_collection_aliases(change_aliases_operations=operations)

    async def _alias_exists(self) -> bool:
        return any(a.alias_name == self.alias for a in (await self._client.get_aliases()).aliases)

    async def upsert(
        self,
        chunks: Sequence[StoredChunk],
        vectors: Sequence[list[list[float]]],
        *,
        insert_only: bool = False,
    ) -> None:
        """Write the chunks into this version. `insert_only`: points that already exist are left
        as they are, atomically per point (Qdrant's conditional update, v1.16+): a re-index never
        overwrites a point a worker on the new model wrote meanwhile."""
        await self.ensure()
        points = []
        for item, windows in zip(chunks, vectors, strict=True):
            sparse = self._bm25.embed_document(item.text)
            points.append(
                models.PointStruct(
                    id=point_id_for(item.document_id, item.index),
                    vector={
                        DENSE: windows,
                        SPARSE: models.SparseVector(indices=sparse.indices, values=sparse.values),
                    },
                    payload=payload(item),
                )
            )
        await _retrying(
            lambda: self._client.upsert(
                self.collection,
                points=points,
                wait=True,
                update_filter=_NO_EXISTING_POINT if insert_only else None,
            )
        )

    async def delete_document(self, tenant: str, document_id: str, *, from_chunk: int = 0) -> None:
        """A whole document goes from every version of the deployment; `from_chunk` only from this
        one.

        Whole: a document deleted while a re-index copies it must not come back in the new version.
        The family is listed again after deleting, until no new version appeared: a version created
        meanwhile (a re-index creates its target before reading the source) either is in the last
        listing, or was created after the document had left the others, so it never gets a copy
        that outlives this call (the re-index's re-check catches a copy read before the delete).

        `from_chunk` (after a (re-)ingestion, the tail of a document that got shorter) stays in this
        version: the chunk count is that of this writer's run; another version's chunks of the
        document were written by someone else (the re-index, or a worker on the other model,
        possibly with a newer and longer text) and are theirs to trim."""
        await self.ensure()
        conditions: list[models.Condition] = [
            _match("tenant", tenant),
            _match("document_id", document_id),
        ]
        if from_chunk:
            conditions.append(
                models.FieldCondition(key="chunk_index", range=models.Range(gte=from_chunk))
            )
            await self._delete_in(self.collection, models.Filter(must=conditions))
            return
        done: set[str] = set()
        while pending := [name for name in await self.family() if name not in done]:
            for name in pending:
                await self._delete_in(name, models.Filter(must=conditions))
                done.add(name)

    async def _delete_in(self, collection: str, selector: models.Filter) -> None:
        try:
            await _retrying(
                lambda: self._client.delete(
                    collection, points_selector=models.FilterSelector(filter=selector), wait=True
                )
            )
        except Exception:
            # Another version dropped since it was listed (`ragops reindex --drop`) has nothing left
            # to delete.
            if collection == self.collection or await self._client.collection_exists(collection):
                raise

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
        query: dict[str, Any]
        if request.mode == "hybrid":
            query = dict(
                prefetch=[
                    models.Prefetch(query=dense_query, using=DENSE, limit=self._prefetch_limit),
                    models.Prefetch(
                        query=sparse_query,
                        using=SPARSE,
                        limit=self._prefetch_limit,
                        params=tenant_idf,
                    ),
                ],
                query=models.FusionQuery(fusion=self._fusion),
            )
        else:
            query = dict(
                query=dense_query if request.mode == "dense" else sparse_query,
                using=DENSE if request.mode == "dense" else SPARSE,
                search_params=tenant_idf if request.mode == "bm25" else None,
            )
        response = await _retrying(
            lambda: self._client.query_points(
                self.collection,
                query_filter=tenant_only,
                limit=request.limit,
                with_payload=True,
                **query,
            )
        )
        return [
            SearchHit(chunk=to_chunk(p.payload or {}), score=float(p.score))
            for p in response.points
        ]

    async def count(self, tenant: str | None = None) -> int:
        await self.ensure()
        selector = models.Filter(must=[_match("tenant", tenant)]) if tenant else None
        counted = await _retrying(
            lambda: self._client.count(self.collection, count_filter=selector, exact=True)
        )
        return counted.count

    async def export_points(self, *, batch: int = 256) -> AsyncIterator[list[PortablePoint]]:
        """Every point of this version, with payloads and vectors.

        No `ensure()`: reading must never create a collection."""
        offset: models.ExtendedPointId | None = None
        while True:
            records, next_offset = await _retrying(
                partial(
                    self._client.scroll,
                    self.collection,
                    limit=batch,
                    offset=offset,
                    with_payload=True,
                    with_vectors=True,
                )
            )
            yield [
                PortablePoint(
                    id=str(r.id), payload=dict(r.payload or {}), vector=vectors_from_store(r.vector)
                )
                for r in records
            ]
            if next_offset is None:
                return
            offset = next_offset

    async def import_points(self, points: Sequence[PortablePoint]) -> None:
        """Write exported points as they are (no re-embedding): restores and migrations."""
        await self.ensure()
        structs = [
            models.PointStruct(id=p.id, payload=p.payload, vector=_server_vectors(p))
            for p in points
        ]
        await _retrying(lambda: self._client.upsert(self.collection, points=structs, wait=True))

    async def chunks(self, *, batch: int = 128) -> AsyncIterator[list[tuple[str, StoredChunk]]]:
        """Every point of this version as (point id, chunk), payloads only, in batches.

        No `ensure()`: reading must never create a collection."""
        offset: models.ExtendedPointId | None = None
        while True:
            records, next_offset = await _retrying(
                partial(
                    self._client.scroll,
                    self.collection,
                    limit=batch,
                    offset=offset,
                    with_payload=True,
                    with_vectors=False,
                )
            )
            yield [(str(r.id), to_chunk(r.payload or {})) for r in records]
            if next_offset is None:
                return
            offset = next_offset

    async def present(self, ids: Sequence[str]) -> set[str]:
        """Those of `ids` this version holds."""
        if not ids:
            return set()
        records = await _retrying(
            lambda: self._client.retrieve(
                self.collection, ids=list(ids), with_payload=False, with_vectors=False
            )
        )
        return {str(r.id) for r in records}

    async def texts(self, ids: Sequence[str]) -> dict[str, str]:
        """Point id -> chunk text, for those of `ids` this version holds."""
        if not ids:
            return {}
        records = await _retrying(
            lambda: self._client.retrieve(
                self.collection, ids=list(ids), with_payload=["text"], with_vectors=False
            )
        )
        return {str(r.id): str((r.payload or {}).get("text", "")) for r in records}

    async def delete_copies(self, expected: Mapping[str, str]) -> None:
        """Delete each point of `expected` (id -> text) only if it still holds that text: a point
        rewritten since (a worker on this version's model) is left alone, atomically per point."""
        if not expected:
            return
        selector = models.Filter(
            should=[
                models.Filter(must=[models.HasIdCondition(has_id=[point]), _match("text", text)])
                for point, text in expected.items()
            ]
        )
        await self._delete_in(self.collection, selector)

    async def optimize(self) -> None:
        """Nothing to do: the server builds its indexes itself."""

    async def close(self) -> None:
        await self._client.close()


def _server_vectors(point: PortablePoint) -> dict[str, Any]:
    return {
        name: models.SparseVector(indices=v.indices, values=v.values)
        if isinstance(v, Sparse)
        else v
        for name, v in point.vector.items()
    }


# An upsert's `update_filter` that no stored point matches (every point has a tenant): existing
# points are then left untouched and only new ones are inserted.
_NO_EXISTING_POINT = models.Filter(
    must=[models.IsEmptyCondition(is_empty=models.PayloadField(key="tenant"))]
)


def _match(key: str, value: str) -> models.FieldCondition:
    return models.FieldCondition(key=key, match=models.MatchValue(value=value))


T = TypeVar("T")
# Waits before each retry: about 4 s in all, longer than a peer's connections take to fail over,
# short enough that a caller (a question, an ingestion job) still gets its answer or its error.
RETRY_DELAYS_SECONDS = (0.2, 0.4, 0.8, 1.2, 1.6)


def transient(error: BaseException) -> bool:
    """A failure a new connection to another peer may not have: no response at all (the peer
    died mid-request or refused it), or a gateway/unavailable status."""
    if isinstance(error, ResponseHandlingException):  # REST: the request got no HTTP response
        return True
    if isinstance(error, UnexpectedResponse):
        return error.status_code in (502, 503, 504)
    if isinstance(error, grpc.aio.AioRpcError):
        return bool(error.code() == grpc.StatusCode.UNAVAILABLE)
    return False


async def _retrying(call: Callable[[], Awaitable[T]]) -> T:
    """`call()`, again after each transient failure while delays remain; the last failure is
    raised as it is."""
    for delay in RETRY_DELAYS_SECONDS:
        try:
            return await call()
        except Exception as error:
            if not transient(error):
                raise
        await asyncio.sleep(delay)
    return await call()
