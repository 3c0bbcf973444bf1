"""The embedded Qdrant Edge store: tenancy, replacement, persistence, hybrid retrieval."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ragops_core.adapters.edge_vector_store import EdgeVectorStore
from ragops_core.adapters.onnx_embedder import OnnxMiniLMEmbedder
from ragops_core.domain import StoredChunk
from ragops_core.errors import StoreBusyError
from ragops_core.ports import SearchRequest

TEXTS = [
    "The quarterly revenue of the company grew by twelve percent.",
    "Part number XJ-4417 is the replacement valve for the cooling pump.",
    "Our cats sleep most of the day on the sunny windowsill.",
]


def chunks(tenant: str, doc: str = "d1") -> list[StoredChunk]:
    return [StoredChunk(tenant, doc, f"{doc}.txt", i, t, ((0, i + 1),)) for i, t in enumerate(TEXTS)]


def index(store: EdgeVectorStore, embedder: OnnxMiniLMEmbedder, items: list[StoredChunk]) -> None:
    asyncio.run(store.upsert(items, embedder.embed_windows_sync([c.text for c in items])))


def search(store: EdgeVectorStore, embedder: OnnxMiniLMEmbedder, tenant: str, text: str, mode: str) -> list[str]:
    vector = embedder.embed_windows_sync([text], 1)[0][0]
    hits = store.search_sync(SearchRequest(tenant=tenant, text=text, vector=vector, limit=3, mode=mode))
    return [h.chunk.text for h in hits]


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_each_mode_finds_the_relevant_chunk(tmp_path: Path, embedder: OnnxMiniLMEmbedder, mode: str) -> None:
    store = EdgeVectorStore(tmp_path / "q", dimensions=384)
    index(store, embedder, chunks("t"))
    assert search(store, embedder, "t", "How much did sales increase this quarter?" if mode != "bm25"
                  else "quarterly revenue", mode)[0] == TEXTS[0]


def test_hybrid_finds_exact_codes_that_embeddings_blur(tmp_path: Path, embedder: OnnxMiniLMEmbedder) -> None:
    store = EdgeVectorStore(tmp_path / "q", dimensions=384)
    index(store, embedder, chunks("t"))
    assert search(store, embedder, "t", "XJ-4417", "hybrid")[0] == TEXTS[1]


def test_a_tenant_never_sees_another_tenants_chunks(tmp_path: Path, embedder: OnnxMiniLMEmbedder) -> None:
    store = EdgeVectorStore(tmp_path / "q", dimensions=384)
    index(store, embedder, chunks("alpha"))
    for mode in ("dense", "bm25", "hybrid"):
        assert search(store, embedder, "beta", "quarterly revenue", mode) == []


def test_deleting_from_a_chunk_index_keeps_the_earlier_chunks(tmp_path: Path, embedder: OnnxMiniLMEmbedder) -> None:
    store = EdgeVectorStore(tmp_path / "q", dimensions=384)
    index(store, embedder, chunks("t") + chunks("t", "d2"))
    asyncio.run(store.delete_document("t", "d1", from_chunk=1))
    assert asyncio.run(store.count("t")) == 4
    asyncio.run(store.delete_document("t", "d1"))
    assert asyncio.run(store.count("t")) == 3


def test_points_persist_and_the_directory_is_locked(tmp_path: Path, embedder: OnnxMiniLMEmbedder) -> None:
    store = EdgeVectorStore(tmp_path / "q", dimensions=384)
    index(store, embedder, chunks("t"))
    with pytest.raises(StoreBusyError, match="in use by another RAGOps process"):
        EdgeVectorStore(tmp_path / "q", dimensions=384)
    asyncio.run(store.optimize())
    asyncio.run(store.close())
    reopened = EdgeVectorStore(tmp_path / "q", dimensions=384)
    assert asyncio.run(reopened.count("t")) == 3
    assert search(reopened, embedder, "t", "sleeping cats", "hybrid")[0] == TEXTS[2]


def test_long_chunk_tail_is_searchable_by_meaning(tmp_path: Path, embedder: OnnxMiniLMEmbedder) -> None:
    """A fact placed after the model's 256-piece window is still found by dense search."""
    filler = " ".join(f"Section {i} describes routine administrative procedures of the office." for i in range(40))
    long_text = filler + " Volcanic eruptions release sulfur dioxide into the stratosphere."
    store = EdgeVectorStore(tmp_path / "q", dimensions=384)
    items = [StoredChunk("t", "long", "long.txt", 0, long_text, ((0, 1),)),
             *[StoredChunk("t", f"o{i}", "o.txt", 0, t, ((0, 1),)) for i, t in enumerate(TEXTS)]]
    vectors = embedder.embed_windows_sync([c.text for c in items])
    assert len(vectors[0]) > 1, "the long chunk must be embedded as several windows"
    asyncio.run(store.upsert(items, vectors))
    assert search(store, embedder, "t", "What gas do volcanoes emit?", "dense")[0] == long_text
