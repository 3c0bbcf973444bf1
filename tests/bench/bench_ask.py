"""`/api/ask` latency and throughput on a 10k-chunk index, cache hits and misses, concurrency 1
and 32.

The index: 10,000 chunks of ~500 words, each four SQuAD DEV paragraphs (real text
for BM25, real MiniLM vectors for dense search), HNSW-built, served by a real
`ragops serve` process. Misses use the 300 DEV questions (unique, so both the
answer and the embedding cache miss); hits repeat one warmed question with wrk.
The bare row is a FastAPI endpoint returning stored bytes, under the same uvicorn.

Run: python tests/bench/bench_ask.py   (needs `wrk` from Debian)
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests.support

from record import record  # noqa: E402

from tests.support.net import free_port  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SQUAD = REPO.parent / "shared/datasets/squad11-dev"
CHUNKS = 10_000
DOCUMENTS = 100
WRK_SECONDS = 10
# One client asks thousands of times: the per-user rate limit is off, so the figures are the
# answer paths'.
UNLIMITED = {"RAGOPS_RATE_LIMIT_QUESTIONS": "0", "RAGOPS_RATE_LIMIT_OTHER": "0"}


def squad() -> tuple[list[str], list[str]]:
    corpus = [
        json.loads(line)
        for line in (SQUAD / "corpus.jsonl").read_text().splitlines()
        if line.strip()
    ]
    queries = [
        json.loads(line)["text"]
        for line in (SQUAD / "queries.jsonl").read_text().splitlines()
        if line.strip()
    ]
    return [f"{d['title']}\n{d['text']}" for d in corpus], queries


def paragraph_vectors(texts: list[str]) -> np.ndarray:
    from ragops_core.adapters.embedder.onnx import MODEL_ID, OnnxMiniLMEmbedder

    cache = Path(os.path.expanduser("~/.cache/ragops/bench")) / f"squad-dev-{MODEL_ID}.npy"
    if cache.exists():
        return np.load(cache)
    vectors = np.array(
        [w[0] for w in OnnxMiniLMEmbedder().embed_windows_sync(texts, 1)], dtype=np.float32
    )
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, vectors)
    return vectors


async def build_index(data_dir: Path) -> None:
    from ragops_core.adapters.catalog.sqlite import SqliteCatalog
    from ragops_core.adapters.vector_store.edge import EdgeVectorStore
    from ragops_core.domain import DocumentRecord, StoredChunk, document_id_for

    texts, _ = squad()
    vectors = paragraph_vectors(texts)
    rng = random.Random(7)
    store = EdgeVectorStore(data_dir / "qdrant", dimensions=384)
    catalog = SqliteCatalog(data_dir / "catalog.sqlite3")
    per_doc = CHUNKS // DOCUMENTS
    for d in range(DOCUMENTS):
        name = f"corpus-{d:03d}.pdf"
        doc_id = document_id_for("default", name)
        chunks, windows = [], []
        for i in range(per_doc):
            picks = rng.sample(range(len(texts)), 4)
            chunks.append(
                StoredChunk(
                    "default", doc_id, name, i, " ".join(texts[p] for p in picks), ((0, i + 1),)
                )
            )
            windows.append([vectors[picks[0]].tolist()])  # the default: one dense window per chunk
        await store.upsert(chunks, windows)
        await catalog.documents.put(
            DocumentRecord(doc_id, "default", name, per_doc, per_doc, 0, time.time(), "bench")
        )
    await store.optimize()
    await store.close()
    await catalog.close()


def start(
    args: list[str], port: int, log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(args, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit(f"server did not start: {log.read_text()[-2000:]}")


def wrk(port: int, connections: int) -> dict[str, Any]:
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{WRK_SECONDS}s",
            "-s",
            str(Path(__file__).parent / "wrk_post.lua"),
            f"http://127.0.0.1:{port}/api/ask",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(row for row in out.splitlines() if row.startswith("WRKJSON "))
    return json.loads(line[len("WRKJSON ") :])


async def misses(port: int, queries: list[str], concurrency: int) -> dict[str, Any]:
    latencies: list[float] = []
    pending = list(queries)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:

        async def worker() -> None:
            while pending:
                query = pending.pop()
                started = time.perf_counter()
                response = await client.post("/api/ask", json={"query": query})
                latencies.append(time.perf_counter() - started)
                assert response.status_code == 200 and not response.json()["cached"], response.text

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    ms = np.array(latencies) * 1000
    return {
        "requests": len(ms),
        "errors": 0,
        "rps": len(ms) / elapsed,
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "p99_ms": float(np.percentile(ms, 99)),
    }


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    _, queries = squad()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ragops-bench-") as tmp:
        data = Path(tmp) / "data"
        started = time.perf_counter()
        asyncio.run(build_index(data))
        print(f"built {CHUNKS}-chunk index in {time.perf_counter() - started:.1f}s", flush=True)

        port = free_port()
        server = start(
            [
                sys.executable,
                "-m",
                "ragops_cli",
                "serve",
                "--port",
                str(port),
                "--data-dir",
                str(data),
                "--log-level",
                "warning",
            ],
            port,
            Path(tmp) / "serve.log",
            env={**os.environ, **UNLIMITED},
        )
        try:
            rows.append(
                {
                    "case": "miss (embed+search+answer), c=1",
                    **asyncio.run(misses(port, queries[:150], 1)),
                }
            )
            # Differently worded copies of the questions: still unique, still misses.
            variants = [re.sub(r"\?$", "", q) + " please?" for q in queries]
            rows.append(
                {
                    "case": "miss (embed+search+answer), c=32",
                    **asyncio.run(misses(port, variants, 32)),
                }
            )
            httpx.post(
                f"http://127.0.0.1:{port}/api/ask",
                json={"query": "When did the Apollo program start?"},
            )
            rows.append({"case": "hit, c=1", **wrk(port, 1)})
            rows.append({"case": "hit, c=32", **wrk(port, 32)})
        finally:
            server.terminate()
            server.wait(30)

        port = free_port()
        bare = start(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                str(Path(__file__).parent),
                "bare_app:app",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            port,
            Path(tmp) / "bare.log",
        )
        try:
            rows.append({"case": "bare FastAPI stored answer, c=1", **wrk(port, 1)})
            rows.append({"case": "bare FastAPI stored answer, c=32", **wrk(port, 32)})
        finally:
            bare.terminate()
            bare.wait(30)
    hit, base = rows[3]["rps"], rows[5]["rps"]
    record(
        "ask",
        rows,
        notes=(
            f"Index: {CHUNKS:,} chunks (~500 words each) from SQuAD DEV paragraphs, one dense "
            "window per chunk, HNSW. "
            f"Cache-hit throughput at c=32 is **{hit / base:.2f}x** the bare endpoint's. "
            "Hits measured with wrk "
            f"({WRK_SECONDS} s, 1 thread); misses with an httpx client, each question unique."
        ),
    )


if __name__ == "__main__":
    main()
