"""`ragops eval`: index a BEIR-style corpus into a throw-away store and score retrieval.

Each corpus entry is indexed as one passage (title, newline, text), not re-chunked,
so the figures measure the retriever, not the chunker.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from ragops_cli.progress import counted
from ragops_core.adapters.vector_store.edge import EdgeVectorStore
from ragops_core.domain import StoredChunk
from ragops_core.evaluation import load_dataset, summarise
from ragops_core.ports import Embedder, SearchRequest

BATCH = 32


async def evaluate(
    dataset_dir: Path, mode: str, embedder: Embedder, console: Console, *, k: int = 10
) -> dict[str, Any]:
    dataset = load_dataset(dataset_dir)
    ids = list(dataset.corpus)
    texts = [f"{dataset.corpus[i][0]}\n{dataset.corpus[i][1]}".strip() for i in ids]
    words = sum(len(t.split()) for t in texts) / max(len(texts), 1)
    with tempfile.TemporaryDirectory(prefix="ragops-eval-") as tmp:
        store = EdgeVectorStore(
            Path(tmp) / "qdrant", dimensions=embedder.dimensions, bm25_avg_words=words
        )
        started = time.perf_counter()
        with counted(console, "indexing corpus", len(ids)) as advance:
            for start in range(0, len(ids), BATCH):
                batch_ids = ids[start : start + BATCH]
                batch_texts = texts[start : start + BATCH]
                chunks = [
                    StoredChunk("eval", doc, doc, 0, text, ((0, 1),))
                    for doc, text in zip(batch_ids, batch_texts, strict=True)
                ]
                if mode == "bm25":
                    vectors: list[list[list[float]]] = [
                        [[0.0] * embedder.dimensions] for _ in chunks
                    ]
                else:
                    vectors = await embedder.embed_documents(batch_texts)
                await store.upsert(chunks, vectors)
                advance(len(batch_ids))
        await store.optimize()
        index_seconds = time.perf_counter() - started
        runs: dict[str, list[str]] = {}
        started = time.perf_counter()
        with counted(console, "asking queries", len(dataset.queries)) as advance:
            for qid, text in dataset.queries.items():
                vector = await embedder.embed_query(text) if mode != "bm25" else None
                hits = await store.search(
                    SearchRequest(tenant="eval", text=text, vector=vector, limit=k, mode=mode)
                )
                runs[qid] = [hit.chunk.document_id for hit in hits]
                advance(1)
        query_seconds = time.perf_counter() - started
        await store.close()
    result: dict[str, Any] = {
        "mode": mode,
        "embedder": embedder.model_id,
        "documents": len(ids),
        "queries": len(dataset.queries),
    }
    result.update(summarise(runs, dataset.qrels, k))
    result.update(
        index_seconds=round(index_seconds, 2),
        query_ms=round(1000 * query_seconds / max(len(runs), 1), 2),
    )
    return result
