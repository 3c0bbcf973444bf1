"""One contract for every VectorStore: Qdrant Edge (embedded) and the Qdrant server adapter.

The server adapter runs against a real Qdrant server (built from source by `ragops dev-cluster
build`), over REST and over gRPC, and against qdrant-client's local mode, which `ragops reindex`
tests and quick local runs use.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from qdrant_client import AsyncQdrantClient

from ragops_core.adapters.embedder.onnx import OnnxMiniLMEmbedder
from ragops_core.adapters.vector_store.edge import EdgeVectorStore
from ragops_core.adapters.vector_store.qdrant_server import QdrantServerStore
from ragops_core.domain import StoredChunk
from ragops_core.errors import StoreBusyError
from ragops_core.ports import SearchRequest, VectorStore
from tests.support.qdrant_server import QdrantServer

TEXTS = [
    "The quarterly revenue of the company grew by twelve percent.",
    "Part number XJ-4417 is the replacement valve for the cooling pump.",
    "Our cats sleep most of the day on the sunny windowsill.",
]


def chunks(tenant: str, doc: str = "d1") -> list[StoredChunk]:
    return [
        StoredChunk(tenant, doc, f"{doc}.txt", i, t, ((0, i + 1),)) for i, t in enumerate(TEXTS)
    ]


@pytest.fixture(params=["edge", "qdrant-local", "qdrant-rest", "qdrant-grpc"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[VectorStore]:
    if request.param == "edge":
        adapter: VectorStore = EdgeVectorStore(tmp_path / "q", dimensions=384)
    else:
        if request.param == "qdrant-local":
            client = AsyncQdrantClient(location=":memory:")
        else:
            server: QdrantServer = request.getfixturevalue("qdrant_server")
            client = AsyncQdrantClient(
                url=server.url,
                grpc_port=server.grpc_port,
                prefer_grpc=request.param == "qdrant-grpc",
            )
        adapter = QdrantServerStore(
            client, name=f"test-{uuid.uuid4().hex[:8]}", version="v1", dimensions=384
        )
    yield adapter
    await adapter.close()


async def index(store: VectorStore, embedder: OnnxMiniLMEmbedder, items: list[StoredChunk]) -> None:
    await store.upsert(items, embedder.embed_windows_sync([c.text for c in items]))


async def search(
    store: VectorStore, embedder: OnnxMiniLMEmbedder, tenant: str, text: str, mode: str
) -> list[str]:
    vector = embedder.embed_windows_sync([text], 1)[0][0]
    hits = await store.search(
        SearchRequest(tenant=tenant, text=text, vector=vector, limit=3, mode=mode)
    )
    return [h.chunk.text for h in hits]


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
async def test_each_mode_finds_the_relevant_chunk(
    store: VectorStore, embedder: OnnxMiniLMEmbedder, mode: str
) -> None:
    await index(store, embedder, chunks("t"))
    query = "quarterly revenue" if mode == "bm25" else "How much did sales increase this quarter?"
    assert (await search(store, embedder, "t", query, mode))[0] == TEXTS[0]


async def test_hybrid_finds_exact_codes_that_embeddings_blur(
    store: VectorStore, embedder: OnnxMiniLMEmbedder
) -> None:
    await index(store, embedder, chunks("t"))
    assert (await search(store, embedder, "t", "XJ-4417", "hybrid"))[0] == TEXTS[1]


async def test_a_tenant_never_sees_another_tenants_chunks(
    store: VectorStore, embedder: OnnxMiniLMEmbedder
) -> None:
    await index(store, embedder, chunks("alpha"))
    for mode in ("dense", "bm25", "hybrid"):
        assert await search(store, embedder, "beta", "quarterly revenue", mode) == []
    assert await store.count("beta") == 0


async def test_upsert_replaces_and_delete_from_a_chunk_keeps_earlier(
    store: VectorStore, embedder: OnnxMiniLMEmbedder
) -> None:
    await index(store, embedder, chunks("t") + chunks("t", "d2"))
    await index(store, embedder, chunks("t"))
    assert await store.count("t") == 6, "same ids overwrite"
    await store.delete_document("t", "d1", from_chunk=1)
    assert await store.count("t") == 4
    await store.delete_document("t", "d1")
    assert await store.count("t") == 3
    await store.optimize()


async def test_long_chunk_tail_is_searchable_by_meaning(
    store: VectorStore, embedder: OnnxMiniLMEmbedder
) -> None:
    """With every window embedded, a fact past the model's 256 pieces is found by dense search."""
    filler = " ".join(
        f"Section {i} describes routine administrative procedures of the office." for i in range(40)
    )
    long_text = filler + " Volcanic eruptions release sulfur dioxide into the stratosphere."
    items = [
        StoredChunk("t", "long", "long.txt", 0, long_text, ((0, 1),)),
        *[StoredChunk("t", f"o{i}", "o.txt", 0, t, ((0, 1),)) for i, t in enumerate(TEXTS)],
    ]
    vectors = embedder.embed_windows_sync([c.text for c in items])
    assert len(vectors[0]) > 1, "the long chunk must be embedded as several windows"
    await store.upsert(items, vectors)
    assert (await search(store, embedder, "t", "What gas do volcanoes emit?", "dense"))[
        0
    ] == long_text


async def test_server_reads_its_own_version_and_the_alias_only_names_the_served_one(
    embedder: OnnxMiniLMEmbedder,
) -> None:
    client = AsyncQdrantClient(location=":memory:")
    old = QdrantServerStore(client, name="tenant-x", version="v1", dimensions=384)
    await index(old, embedder, chunks("t"))
    assert await old.alias_target() == "tenant-x-v1", (
        "a new stack's alias points at its first version"
    )
    new = QdrantServerStore(client, name="tenant-x", version="v2", dimensions=384)
    await new.ensure()
    assert new.collection == "tenant-x-v2"
    assert await old.alias_target() == "tenant-x-v1", "a new version does not take the alias"
    assert await new.count("t") == 0, "a pod on v2 reads v2 only, never v1 through the alias"
    await index(new, embedder, chunks("t", "d2")[:1])
    assert await old.count("t") == 3, "a pod on v1 never sees what v2 holds"
    await new.switch_version("v2")
    assert await old.alias_target() == "tenant-x-v2", "the alias moved atomically"
    assert await old.count("t") == 3 and await new.count("t") == 1, (
        "each pod still reads its own version"
    )
    assert (await search(old, embedder, "t", "sleeping cats", "hybrid"))[0] == TEXTS[2]
    await client.close()


async def test_server_deletes_a_document_from_every_version_and_a_tail_from_its_own(
    embedder: OnnxMiniLMEmbedder,
) -> None:
    client = AsyncQdrantClient(location=":memory:")
    v1 = QdrantServerStore(client, name="docs", version="v1", dimensions=384)
    v2 = QdrantServerStore(client, name="docs", version="v2", dimensions=384)
    # Another deployment on the same server whose name extends this one's: not of the family.
    neighbour = QdrantServerStore(client, name="docs-eu", version="v1", dimensions=384)
    for store in (v1, v2, neighbour):
        await index(store, embedder, chunks("t") + chunks("t", "d2"))
    assert await v1.family() == ["docs-v1", "docs-v2"]

    await v2.delete_document("t", "d1", from_chunk=1)
    assert (await v1.count("t"), await v2.count("t")) == (6, 4), (
        "a tail cleanup stays in the writer's version"
    )
    await v1.delete_document("t", "d2")
    assert (await v1.count("t"), await v2.count("t")) == (3, 1), (
        "a whole document leaves every version"
    )
    assert await neighbour.count("t") == 6
    await client.close()


def test_edge_points_persist_and_the_directory_is_locked(
    tmp_path: Path, embedder: OnnxMiniLMEmbedder
) -> None:
    store = EdgeVectorStore(tmp_path / "q", dimensions=384)
    asyncio.run(index(store, embedder, chunks("t")))
    with pytest.raises(StoreBusyError, match="in use by another RAGOps process"):
        EdgeVectorStore(tmp_path / "q", dimensions=384)
    asyncio.run(store.optimize())
    asyncio.run(store.close())
    reopened = EdgeVectorStore(tmp_path / "q", dimensions=384)
    assert asyncio.run(reopened.count("t")) == 3
    assert asyncio.run(search(reopened, embedder, "t", "sleeping cats", "hybrid"))[0] == TEXTS[2]
