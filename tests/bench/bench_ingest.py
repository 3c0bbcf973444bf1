"""Ingestion of the 104-page VA handbook: RAGOps vs LangChain's standard pipeline, same embedder.

Each variant runs in a fresh subprocess (so peak RSS is its own) after the model
is loaded; the clock covers extraction, chunking, embedding and indexing.
- ragops-full: every word of every 500-word chunk embedded (256-piece windows, MaxSim) + BM25.
- ragops-head: only each chunk's first window embedded (what truncation keeps) + BM25 of every word.
- langchain: PyPDFLoader -> RecursiveCharacterTextSplitter(3000, 300) -> QdrantVectorStore
  (in memory).
Quality: 40 sentences sampled from the handbook are asked as queries (dense only, and
hybrid for RAGOps); a hit is a top-3 result containing the sentence. Sentences that
sit past a chunk's first 256 word pieces are unreachable for a truncating pipeline.

Run: python tests/bench/bench_ingest.py   (needs the `bench` extra)
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
HANDBOOK = (
    REPO.parent / "shared/datasets/pdfs/format-corpus/govdocs1-error-pdfs/error_set_1/316267.pdf"
)
QUERIES = 40
VARIANTS = ("ragops-full", "ragops-head", "langchain")


def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def sample_sentences(text: str) -> list[str]:
    candidates = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if 12 <= len(s.split()) <= 40]
    return random.Random(20261128).sample(candidates, QUERIES)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run_ragops(max_windows: int) -> dict[str, Any]:
    from ragops_core.adapters.embedder.onnx import OnnxMiniLMEmbedder
    from ragops_core.metrics import Metrics
    from ragops_core.ports import SearchRequest
    from ragops_core.settings import Settings
    from ragops_wiring.adapters import build_adapters
    from ragops_wiring.services import build_document_service
    from ragops_worker.extraction import extract
    from ragops_worker.service import build_worker

    embedder = OnnxMiniLMEmbedder(max_windows=max_windows)
    embedder.embed_windows_sync(["warm-up"])
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), dense_max_windows=max_windows)
        metrics = Metrics()
        adapters = build_adapters(settings, metrics=metrics, embedder=embedder)
        documents = build_document_service(settings, adapters)
        worker = build_worker(settings, adapters, metrics)
        started = time.perf_counter()
        submitted = await documents.submit("bench", HANDBOOK.name, HANDBOOK.read_bytes())
        message = await adapters.queue.receive(wait_seconds=0, visibility_seconds=600)
        assert message is not None
        await worker.handle(message)
        ready = time.perf_counter() - started
        await adapters.store.optimize()
        indexed = time.perf_counter() - started
        job = await adapters.jobs.get("bench", submitted.job_id)
        assert job is not None and job.state.value == "ready", job
        text = " ".join(p.text for p in extract(HANDBOOK.name, HANDBOOK.read_bytes()).pages)
        quality: dict[str, float] = {}
        for mode in ("dense", "hybrid"):
            hits = 0
            for sentence in sample_sentences(text):
                vector = await embedder.embed_query(sentence)
                found = await adapters.store.search(
                    SearchRequest("bench", sentence, vector, 3, mode)
                )
                hits += any(_norm(sentence) in _norm(h.chunk.text) for h in found)
            quality[f"hit@3 {mode}"] = hits / QUERIES
        await adapters.close()
    return {
        "seconds to ready": ready,
        "seconds incl. HNSW": indexed,
        "pages": job.progress["pages_total"],
        "chunks": job.progress["chunks_total"],
        **quality,
    }


def run_langchain() -> dict[str, Any]:
    from langchain_community.document_loaders import PyPDFLoader
    from langchain_core.embeddings import Embeddings
    from langchain_qdrant import QdrantVectorStore
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from ragops_core.adapters.embedder.onnx import OnnxMiniLMEmbedder

    class SameEmbedder(Embeddings):
        """Our model behind LangChain's interface, truncating at 256 pieces as
        sentence-transformers does."""

        def __init__(self) -> None:
            self.model = OnnxMiniLMEmbedder()

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [windows[0] for windows in self.model.embed_windows_sync(texts, 1)]

        def embed_query(self, text: str) -> list[float]:
            return self.model.embed_windows_sync([text], 1)[0][0]

    embeddings = SameEmbedder()
    embeddings.embed_query("warm-up")
    started = time.perf_counter()
    pages = PyPDFLoader(str(HANDBOOK)).load()
    chunks = RecursiveCharacterTextSplitter(chunk_size=3000, chunk_overlap=300).split_documents(
        pages
    )
    store = QdrantVectorStore.from_documents(
        chunks, embeddings, location=":memory:", collection_name="bench"
    )
    seconds = time.perf_counter() - started
    text = " ".join(p.page_content for p in pages)
    hits = 0
    for sentence in sample_sentences(text):
        found = store.similarity_search(sentence, k=3)
        hits += any(_norm(sentence) in _norm(d.page_content) for d in found)
    return {
        "seconds to ready": seconds,
        "seconds incl. HNSW": seconds,
        "pages": len(pages),
        "chunks": len(chunks),
        "hit@3 dense": hits / QUERIES,
        "hit@3 hybrid": "n/a",
    }


def child(variant: str) -> None:
    import logging

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    if variant == "langchain":
        result = run_langchain()
    else:
        result = asyncio.run(run_ragops(0 if variant == "ragops-full" else 1))
    result["peak RSS MB"] = peak_rss_mb()
    print(json.dumps(result))


def main() -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from record import record

    rows = []
    for variant in VARIANTS:
        out = subprocess.run(
            [sys.executable, __file__, "--child", variant],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            raise SystemExit(f"{variant} failed:\n{out.stderr[-3000:]}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        result["pages/s"] = result["pages"] / result["seconds to ready"]
        rows.append({"pipeline": variant, **result})
        print(variant, result, flush=True)
    langchain = next(r for r in rows if r["pipeline"] == "langchain")["seconds to ready"]
    for row in rows:
        row["time vs LangChain"] = f"{row['seconds to ready'] / langchain:.2f}x"
    record(
        "ingest",
        rows,
        notes=(
            f"Document: `{HANDBOOK.name}` (VA coding handbook, 104 pages). "
            "Same MiniLM ONNX model in every row, loaded before the clock starts. "
            "`hit@3`: 40 sentences sampled from the handbook, asked verbatim; "
            "a hit is a top-3 chunk containing the sentence."
        ),
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
    else:
        main()
