"""End to end on SQuAD DEV: how often the extractive answer (top-3 hybrid retrieval) contains a
gold answer.

Run: python tests/bench/bench_answers.py
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ask import SQUAD, paragraph_vectors  # noqa: E402
from record import record  # noqa: E402


async def run() -> list[dict[str, object]]:
    from ragops_core.adapters.embedder.onnx import OnnxMiniLMEmbedder
    from ragops_core.adapters.vector_store.edge import EdgeVectorStore
    from ragops_core.answering import extractive_answer, select_sentences
    from ragops_core.domain import StoredChunk
    from ragops_core.ports import SearchRequest

    corpus = [
        json.loads(line)
        for line in (SQUAD / "corpus.jsonl").read_text().splitlines()
        if line.strip()
    ]
    queries = [
        json.loads(line)
        for line in (SQUAD / "queries.jsonl").read_text().splitlines()
        if line.strip()
    ]
    texts = [f"{d['title']}\n{d['text']}" for d in corpus]
    vectors = paragraph_vectors(texts)
    embedder = OnnxMiniLMEmbedder()
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = EdgeVectorStore(Path(tmp) / "q", dimensions=384, bm25_avg_words=130)
        await store.upsert(
            [
                StoredChunk("t", d["id"], d["id"], 0, t, ((0, 1),))
                for d, t in zip(corpus, texts, strict=True)
            ],
            [[v.tolist()] for v in vectors],
        )
        await store.optimize()
        for top_k in (1, 3):
            in_answer = in_sources = 0
            started = time.perf_counter()
            for q in queries:
                vector = await embedder.embed_query(q["text"])
                hits = await store.search(SearchRequest("t", q["text"], vector, top_k, "hybrid"))
                ranked = select_sentences(q["text"], hits)
                answer = " ".join(extractive_answer(ranked)).lower()
                gold = [a.lower() for a in q["answers"]]
                in_answer += any(g in answer for g in gold)
                in_sources += any(g in h.chunk.text.lower() for h in hits for g in gold)
            rows.append(
                {
                    "top_k": top_k,
                    "questions": len(queries),
                    "gold answer in retrieved chunks": in_sources / len(queries),
                    "gold answer in extractive answer": in_answer / len(queries),
                    "ms/question": (time.perf_counter() - started) / len(queries) * 1000,
                }
            )
        await store.close()
    return rows


def main() -> None:
    record(
        "answers",
        asyncio.run(run()),
        notes=(
            "SQuAD DEV questions with their gold answer spans; hybrid retrieval over the 1,058 "
            "paragraphs; the extractive answerer (up to 3 sentences). A hit is a gold span found "
            "verbatim (case-insensitive)."
        ),
    )


if __name__ == "__main__":
    main()
