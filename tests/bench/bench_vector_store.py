"""Embedded vector engines on real MiniLM embeddings: Qdrant Edge (HNSW and exact) vs
qdrant-client local mode.

Vectors: the 1,058 SQuAD DEV paragraph embeddings and normalised mixes of random
pairs of them (real directions, realistic clustering), 20,000 in all; queries:
the 300 DEV question embeddings. Recall@10 of HNSW is measured against exact search.

Run: python tests/bench/bench_vector_store.py   (needs the `bench` extra for qdrant-client)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ask import paragraph_vectors, squad  # noqa: E402
from record import record  # noqa: E402

POINTS = 20_000


def corpus_and_queries() -> tuple[np.ndarray, np.ndarray]:
    from ragops_core.adapters.embedder.onnx import OnnxMiniLMEmbedder

    texts, questions = squad()
    base = paragraph_vectors(texts)
    rng = np.random.default_rng(3)
    pairs = rng.integers(0, len(base), size=(POINTS - len(base), 2))
    mixes = base[pairs[:, 0]] + base[pairs[:, 1]]
    mixes /= np.linalg.norm(mixes, axis=1, keepdims=True)
    queries = np.array(
        [w[0] for w in OnnxMiniLMEmbedder().embed_windows_sync(questions, 1)], dtype=np.float32
    )
    return np.vstack([base, mixes]).astype(np.float32), queries


def edge(vectors: np.ndarray, queries: np.ndarray) -> list[dict[str, Any]]:
    from qdrant_edge import (
        Distance,
        EdgeConfig,
        EdgeShard,
        EdgeVectorParams,
        Point,
        Query,
        QueryRequest,
        SearchParams,
        UpdateOperation,
    )

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        shard = EdgeShard.create(
            tmp, EdgeConfig(vectors={"d": EdgeVectorParams(size=384, distance=Distance.Cosine)})
        )
        started = time.perf_counter()
        for start in range(0, len(vectors), 1000):
            shard.update(
                UpdateOperation.upsert_points(
                    [
                        Point(id=i, vector={"d": vectors[i].tolist()})
                        for i in range(start, min(start + 1000, len(vectors)))
                    ]
                )
            )
        load = time.perf_counter() - started
        started = time.perf_counter()
        shard.optimize()
        build = time.perf_counter() - started

        def run(exact: bool) -> tuple[list[list[int]], float]:
            results, started = [], time.perf_counter()
            for q in queries:
                request = QueryRequest(
                    limit=10,
                    query=Query.Nearest(q.tolist(), using="d"),
                    params=SearchParams(exact=exact),
                )
                results.append([int(p.id) for p in shard.query(request)])
            return results, (time.perf_counter() - started) / len(queries) * 1000

        exact, exact_ms = run(True)
        approx, approx_ms = run(False)
        shard.close()
    recall = float(np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact, strict=True)]))
    rows.append(
        {
            "engine": "qdrant-edge exact",
            "load s": load,
            "index build s": 0.0,
            "ms/query": exact_ms,
            "recall@10 vs exact": 1.0,
        }
    )
    rows.append(
        {
            "engine": "qdrant-edge HNSW",
            "load s": load,
            "index build s": build,
            "ms/query": approx_ms,
            "recall@10 vs exact": recall,
        }
    )
    return rows


def client_local(vectors: np.ndarray, queries: np.ndarray) -> dict[str, Any]:
    from qdrant_client import QdrantClient, models

    client = QdrantClient(":memory:")
    client.create_collection(
        "b", vectors_config=models.VectorParams(size=384, distance=models.Distance.COSINE)
    )
    started = time.perf_counter()
    client.upload_points(
        "b", [models.PointStruct(id=i, vector=v.tolist()) for i, v in enumerate(vectors)]
    )
    load = time.perf_counter() - started
    started = time.perf_counter()
    for q in queries[:100]:
        client.query_points("b", query=q.tolist(), limit=10)
    return {
        "engine": "qdrant-client local (:memory:)",
        "load s": load,
        "index build s": 0.0,
        "ms/query": (time.perf_counter() - started) / 100 * 1000,
        "recall@10 vs exact": 1.0,
    }


def main() -> None:
    vectors, queries = corpus_and_queries()
    rows = edge(vectors, queries)
    rows.append(client_local(vectors, queries))
    record(
        "vector-store",
        rows,
        notes=(
            f"{len(vectors):,} real-direction MiniLM vectors "
            "(SQuAD DEV paragraphs and mixes of pairs), 300 real question vectors, top-10, "
            "one thread of queries. RAGOps uses Qdrant Edge and builds HNSW when the "
            "ingestion queue runs dry."
        ),
    )


if __name__ == "__main__":
    main()
