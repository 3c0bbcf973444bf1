"""The Qdrant server against Qdrant Edge, in one run: tenant-filtered dense search latency
(p50/p95/p99) and recall@10 at 100k and 1M points, and `ragops worker` ingestion into the server.

Search: both engines are created and written through our adapters (`QdrantServerStore`,
`EdgeVectorStore`: the collection layout, the tenant keyword index and the dense-only query the
API sends, filtered by tenant), one chunk per point with a short text. 90% of the points belong
to the queried tenant, 10% to another, so the filter really filters. Recall@10 is against exact
search done in numpy over the queried tenant's points (cosine), the same truth for both engines.
- "real": normalised mixes of random pairs of the 1,058 SQuAD DEV paragraph embeddings
  (MiniLM, 384 dimensions, as bench_vector_store.py), queried by the 300 DEV question vectors;
- "random": random unit vectors, queried by random unit vectors (no structure for HNSW to use:
  the hard case for recall).
Points are generated, written and checked batch by batch: the Python side never holds the
whole set (1M x 384 float32 is 1.5 GB). The server's clock for indexing runs from the last
upsert to the collection's status green (it indexes while points arrive, too); Edge's is its
`optimize()`. Searches start only once the server is green.

Ingestion: one and two `ragops worker` processes over the server, moto S3 + SQS and a
redis-server catalog, draining the 35 DEV PDFs (bench_worker.py's machinery).

Run: python tests/bench/bench_qdrant_server.py   (needs `ragops dev-cluster build` for the server)
     --real 20000 --random 0 --no-ingest      a quick check; each size also via RAGOPS_BENCH_*
     --qdrant-profile bench                   the optimised server build (`ragops dev-cluster build
                                              --qdrant-profile bench`); default ci, as the tests
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "integration"), str(Path(__file__).parent)]

from bench_ask import paragraph_vectors, squad  # noqa: E402
from bench_worker import drain  # noqa: E402
from record import record  # noqa: E402

from ragops_core.adapters.catalog.redis import RedisCatalog  # noqa: E402
from ragops_core.adapters.object_store.s3 import S3ObjectStore  # noqa: E402
from ragops_core.adapters.queue.sqs import SqsQueue  # noqa: E402
from ragops_core.domain import StoredChunk  # noqa: E402
from ragops_core.ports import SearchRequest, VectorStore  # noqa: E402
from ragops_devcluster import qdrant  # noqa: E402
from tests.support.aws import REGION, MotoServer  # noqa: E402
from tests.support.processes import Service, clean_env  # noqa: E402
from tests.support.qdrant_server import QdrantServer  # noqa: E402
from tests.support.redis_server import RedisServer  # noqa: E402

DIM = 384
TENANT, OTHER = "bench", "other"
BATCH = 1000
TOP = 10
WARMUP = 10
SERVER_IN_FLIGHT = 4
GREEN_DEADLINE_SECONDS = 4 * 3600.0


@dataclass(frozen=True)
class Dataset:
    """Points generated batch by batch, the same on every pass (seeded per batch)."""

    key: str  # section `qdrant-server-{key}` of docs/benchmarks.md
    name: str
    points: int
    batch: Callable[[int, int], np.ndarray]  # (start, stop) -> unit vectors
    queries: np.ndarray

    def batches(self) -> Iterator[tuple[int, np.ndarray]]:
        for start in range(0, self.points, BATCH):
            yield start, self.batch(start, min(start + BATCH, self.points))


def tenant_of(index: int) -> str:
    return OTHER if index % 10 == 9 else TENANT


def _unit(rows: np.ndarray) -> np.ndarray:
    unit: np.ndarray = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)
    return unit


def real_dataset(points: int, queries: int) -> Dataset:
    from ragops_core.adapters.embedder.onnx import OnnxMiniLMEmbedder

    texts, questions = squad()
    base = paragraph_vectors(texts)
    query_rows = np.array(
        [w[0] for w in OnnxMiniLMEmbedder().embed_windows_sync(questions, 1)], dtype=np.float32
    )

    def batch(start: int, stop: int) -> np.ndarray:
        # The paragraphs themselves first, then mixes of pairs (real directions, real clusters).
        rows = [base[i] for i in range(start, min(stop, len(base)))]
        mixed = stop - max(start, len(base))
        if mixed > 0:
            pairs = np.random.default_rng([3, start]).integers(0, len(base), size=(mixed, 2))
            rows.extend(_unit(base[pairs[:, 0]] + base[pairs[:, 1]]))
        return np.asarray(rows, dtype=np.float32)

    return Dataset("real", "real (DEV mixes)", points, batch, _unit(query_rows)[:queries])


def random_dataset(points: int, queries: int) -> Dataset:
    def batch(start: int, stop: int) -> np.ndarray:
        rng = np.random.default_rng([7, start])
        return _unit(rng.standard_normal((stop - start, DIM), dtype=np.float32))

    query_rows = _unit(np.random.default_rng(11).standard_normal((queries, DIM), dtype=np.float32))
    return Dataset("random", "random unit", points, batch, query_rows)


def exact_top(data: Dataset) -> list[set[int]]:
    """Each query's 10 nearest points of the queried tenant, by a full scan in numpy."""
    best_ids = np.full((len(data.queries), TOP), -1, dtype=np.int64)
    best_scores = np.full((len(data.queries), TOP), -np.inf, dtype=np.float32)
    for start, vectors in data.batches():
        ids = np.arange(start, start + len(vectors))
        mine = ids % 10 != 9  # tenant_of(i) == TENANT
        scores = data.queries @ vectors[mine].T
        all_scores = np.hstack([best_scores, scores])
        all_ids = np.hstack([best_ids, np.broadcast_to(ids[mine], scores.shape)])
        keep = np.argpartition(-all_scores, TOP - 1, axis=1)[:, :TOP]
        best_scores = np.take_along_axis(all_scores, keep, axis=1)
        best_ids = np.take_along_axis(all_ids, keep, axis=1)
    return [set(map(int, row)) for row in best_ids]


def chunks_of(start: int, vectors: np.ndarray) -> tuple[list[StoredChunk], list[list[list[float]]]]:
    chunks = [
        StoredChunk(
            tenant=tenant_of(i),
            document_id=str(i),
            filename="bench.txt",
            index=0,
            text=f"point {i}",
            page_breaks=(),
        )
        for i in range(start, start + len(vectors))
    ]
    return chunks, [[v.tolist()] for v in vectors]


async def load(store: VectorStore, data: Dataset, in_flight: int = 1) -> float:
    """Write every point in batches, `in_flight` batches at a time (a server applies them in
    parallel; the embedded store has one writer)."""
    started = time.perf_counter()
    pending: set[asyncio.Task[None]] = set()
    for start, vectors in data.batches():
        if len(pending) >= in_flight:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        pending.add(asyncio.create_task(store.upsert(*chunks_of(start, vectors))))
    for task in pending:
        await task
    return time.perf_counter() - started


async def measure(store: VectorStore, data: Dataset, truth: list[set[int]]) -> dict[str, float]:
    """Latency percentiles and recall@10 of the API's dense search, one query at a time."""

    def request(q: np.ndarray) -> SearchRequest:
        return SearchRequest(tenant=TENANT, text="", vector=q.tolist(), limit=TOP, mode="dense")

    for q in data.queries[:WARMUP]:
        await store.search(request(q))
    latencies, recalls = [], []
    for q, expected in zip(data.queries, truth, strict=True):
        started = time.perf_counter()
        hits = await store.search(request(q))
        latencies.append((time.perf_counter() - started) * 1000)
        found = {int(h.chunk.document_id) for h in hits if h.chunk.tenant == TENANT}
        recalls.append(len(found & expected) / TOP)
    p50, p95, p99 = np.percentile(latencies, [50, 95, 99])
    return {
        "p50 ms": float(p50),
        "p95 ms": float(p95),
        "p99 ms": float(p99),
        "recall@10": float(np.mean(recalls)),
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads): what an index build costs,
    whatever else shares the cores."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def anon_rss_mb(pid: int) -> float:
    """Resident anonymous memory (heap, not the page cache of mmapped segment files)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def wait_green(url: str, collection: str) -> None:
    """Until the server has indexed every segment (the optimizers are idle)."""
    from qdrant_client import AsyncQdrantClient, models

    client = AsyncQdrantClient(url=url, check_compatibility=False)
    try:
        deadline = time.monotonic() + GREEN_DEADLINE_SECONDS
        while time.monotonic() < deadline:
            info = await client.get_collection(collection)
            if info.status == models.CollectionStatus.GREEN:
                return
            await asyncio.sleep(1.0)
        raise SystemExit(f"{collection} not green after {GREEN_DEADLINE_SECONDS:.0f}s")
    finally:
        await client.close()


async def server_rows(
    server: QdrantServer, data: Dataset, truth: list[set[int]]
) -> list[dict[str, Any]]:
    from qdrant_client import AsyncQdrantClient

    from ragops_core.adapters.vector_store.qdrant_server import QdrantServerStore

    name = f"bench{uuid.uuid4().hex[:6]}"
    # Loading over gRPC (binary vectors) keeps the Python side's share of the write small; the
    # searches are measured over both transports, REST being the adapter's default.
    grpc = QdrantServerStore(
        # The client's default 5 s timeout is for queries; a bulk write of 1,000 points with
        # `wait` can take longer while the server indexes on 2 shared cores.
        AsyncQdrantClient(
            url=server.url,
            grpc_port=server.grpc_port,
            prefer_grpc=True,
            timeout=600,
            check_compatibility=False,
        ),
        name=name,
        version="v1",
        dimensions=DIM,
    )
    rest = QdrantServerStore(
        AsyncQdrantClient(url=server.url, check_compatibility=False),
        name=name,
        version="v1",
        dimensions=DIM,
    )
    try:
        seconds = await load(grpc, data, in_flight=SERVER_IN_FLIGHT)
        started, cpu = time.perf_counter(), cpu_seconds(server.process.pid)
        await wait_green(server.url, rest.collection)
        build = time.perf_counter() - started
        build_cpu = cpu_seconds(server.process.pid) - cpu
        rows = []
        for transport, store in (("REST", rest), ("gRPC", grpc)):
            rows.append(
                {
                    "engine": f"Qdrant server v1.18.3 HNSW, {transport}",
                    "load s": seconds,
                    "index build s": build,
                    "index build CPU s": build_cpu,
                    **await measure(store, data, truth),
                    "RSS anon MB": anon_rss_mb(server.process.pid),
                }
            )
        await rest.drop()
        return rows
    finally:
        await grpc.close()
        await rest.close()


async def edge_row(data: Dataset, truth: list[set[int]], tmp: Path) -> dict[str, Any]:
    from ragops_core.adapters.vector_store.edge import EdgeVectorStore

    store = EdgeVectorStore(tmp / f"edge-{data.points}", dimensions=DIM)
    try:
        seconds = await load(store, data)
        started, cpu = time.perf_counter(), time.process_time()
        await store.optimize()
        build, build_cpu = time.perf_counter() - started, time.process_time() - cpu
        return {
            "engine": "Qdrant Edge HNSW (embedded)",
            "load s": seconds,
            "index build s": build,
            "index build CPU s": build_cpu,
            **await measure(store, data, truth),
            # The whole benchmark process: Edge runs inside it.
            "RSS anon MB": anon_rss_mb(os.getpid()),
        }
    finally:
        await store.close()


def search_bench(
    data: Dataset, tmp: Path, engines: list[str], profile: qdrant.BuildProfile
) -> list[dict[str, Any]]:
    """The server's rows and Edge's row for one dataset."""
    started = time.perf_counter()
    truth = exact_top(data)
    print(f"{data.name} {data.points:,}: exact top-10 in {time.perf_counter() - started:.1f}s")
    rows: list[dict[str, Any]] = []
    if "server" in engines:
        server = QdrantServer(tmp / f"qdrant-{data.points}", profile)
        try:
            rows += asyncio.run(server_rows(server, data, truth))
        finally:
            server.stop()
        print(rows, flush=True)
    if "edge" in engines:
        rows.append(asyncio.run(edge_row(data, truth, tmp)))
        print(rows[-1], flush=True)
    label = {"points": f"{data.points:,}", "vectors": data.name, "queries": len(data.queries)}
    return [{**label, **row} for row in rows]


class Workers:
    """Several `ragops worker` processes seen as one by bench_worker.drain (liveness, log)."""

    def __init__(self, services: list[Service]) -> None:
        self.services = services
        self.process = self

    def poll(self) -> int | None:
        codes = [s.process.poll() for s in self.services]
        return next((c for c in codes if c is not None), None)

    def log(self) -> str:
        return "\n".join(s.log() for s in self.services)


async def ingest(count: int, server: QdrantServer, tmp: Path) -> dict[str, Any]:
    moto = MotoServer()
    redis = RedisServer(tmp / f"redis-{count}")
    services: list[Service] = []
    try:
        queue_url = moto.client("sqs").create_queue(QueueName=f"bench-{uuid.uuid4().hex[:8]}")[
            "QueueUrl"
        ]
        bucket = moto.create_bucket()
        env = {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_ENDPOINT_URL_S3": moto.url,
            "AWS_ENDPOINT_URL_SQS": moto.url,
            "RAGOPS_S3_BUCKET": bucket,
            "RAGOPS_SQS_QUEUE_URL": queue_url,
            "RAGOPS_CATALOG_URL": redis.url,
            "RAGOPS_QDRANT_URL": server.url,
            "RAGOPS_QDRANT_COLLECTION": f"ingest{count}{uuid.uuid4().hex[:6]}",
        }
        for n in range(count):
            data_dir = tmp / f"worker-{count}-{n}"
            services.append(
                Service(
                    "worker",
                    clean_env(**env, RAGOPS_DATA_DIR=str(data_dir)),
                    tmp / f"worker-{count}-{n}.log",
                    cwd=tmp,
                )
            )
        catalog = RedisCatalog(redis.url)
        try:
            result = await drain(
                S3ObjectStore(bucket, region=REGION, endpoint_url=moto.url),
                SqsQueue(queue_url, region=REGION, endpoint_url=moto.url),
                catalog.jobs,
                Workers(services),  # type: ignore[arg-type]
            )
        finally:
            await catalog.close()
        return {"workers": count, **result}
    finally:
        for service in services:
            service.stop()
        redis.stop()
        moto.stop()


def ingest_bench(tmp: Path, profile: qdrant.BuildProfile) -> list[dict[str, Any]]:
    # boto3 in this process finds moto's credentials as the workers do: in the environment.
    os.environ.update(
        {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION}
    )
    server = QdrantServer(tmp / "qdrant-ingest", profile)
    rows = []
    try:
        for count in (1, 2):
            rows.append(asyncio.run(ingest(count, server, tmp)))
            print(rows[-1], flush=True)
    finally:
        server.stop()
    return rows


def load_average() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    env = os.environ.get
    parser.add_argument("--real", type=int, default=int(env("RAGOPS_BENCH_REAL", "100000")))
    parser.add_argument("--random", type=int, default=int(env("RAGOPS_BENCH_RANDOM", "1000000")))
    parser.add_argument("--queries", type=int, default=int(env("RAGOPS_BENCH_QUERIES", "300")))
    parser.add_argument(
        "--engines",
        default="server,edge",
        help="comma-separated: server, edge (alone, each records its own section)",
    )
    parser.add_argument("--no-ingest", action="store_true", help="skip the worker throughput")
    parser.add_argument("--no-record", action="store_true", help="print only, docs untouched")
    parser.add_argument("--shared", default="", help="a note on other jobs sharing the machine")
    parser.add_argument(
        "--qdrant-profile",
        choices=sorted(qdrant.PROFILES),
        default=env(qdrant.PROFILE_ENV, qdrant.CI.name),
        help="the server build to run: ci (as the tests) or bench (optimised)",
    )
    args = parser.parse_args()
    profile = qdrant.PROFILES[args.qdrant_profile]
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        # Shortest first, 1M last (its index build is the long part); each part is recorded as
        # it ends, in its own section, so a run cut short keeps what finished and a part can be
        # re-run alone.
        if not args.no_ingest:
            before = load_average()
            rows = ingest_bench(tmp, profile)
            if not args.no_record:
                notes = ingest_notes(args.shared, [before, load_average()], profile)
                record("qdrant-server-ingest", rows, notes=notes)
        if args.real:
            search_part(real_dataset(args.real, args.queries), tmp, args)
        if args.random:
            search_part(random_dataset(args.random, args.queries), tmp, args)


def search_part(data: Dataset, tmp: Path, args: argparse.Namespace) -> None:
    engines = sorted(args.engines.split(","))
    before = load_average()
    profile = qdrant.PROFILES[args.qdrant_profile]
    rows = search_bench(data, tmp, engines, profile)
    if not args.no_record:
        notes = search_notes([before, load_average()], args.shared, profile)
        both = engines == ["edge", "server"]
        record(f"qdrant-server-{data.key}" + ("" if both else f"-{engines[0]}"), rows, notes=notes)


def build_note(profile: qdrant.BuildProfile) -> str:
    if profile is qdrant.CI:
        return "the `ci`-profile build of `ragops dev-cluster build` (opt-level 0, no LTO)"
    overrides = ", ".join(
        f"{k.removeprefix('CARGO_PROFILE_RELEASE_').lower().replace('_', '-')}={v}"
        for k, v in profile.env.items()
    )
    return (
        f"the `{profile.name}`-profile build of `ragops dev-cluster build --qdrant-profile "
        f"{profile.name}` (`cargo build {' '.join(profile.cargo_args)}`, {overrides})"
    )


def search_notes(loads: list[str], shared: str, profile: qdrant.BuildProfile) -> str:
    binary = build_note(profile)
    return (
        "Tenant-filtered dense search (the API's `mode=dense` query through our adapters), "
        "one query at a time after 10 warm-up queries; 90% of the points in the queried tenant. "
        "Recall@10 against exact search in numpy over that tenant. Real: normalised mixes of "
        "SQuAD DEV paragraph MiniLM embeddings, queried by the DEV questions; random: random unit "
        "vectors and queries. Server: " + binary + ", default HNSW (m=16, ef_construct=100), "
        "loaded over gRPC in batches of 1,000 (4 in flight), index build = last write to status "
        "green; latency includes the client round trip over loopback. Edge: in process, "
        "`optimize()` after the load. RSS anon: resident heap after the searches (the server "
        "process; for Edge the benchmark's own, which holds it), without the page cache of "
        "mmapped segments." + load_note(loads) + (f" {shared}" if shared else "")
    )


def load_note(loads: list[str]) -> str:
    return (
        " Load averages (`uptime`: 1, 5, 15 minutes) before and after: "
        + "; ".join(line.split("load average:")[-1].strip() for line in loads)
        + "."
    )


def ingest_notes(shared: str, loads: list[str], profile: qdrant.BuildProfile) -> str:
    return (
        f"`ragops worker` processes over the Qdrant server ({build_note(profile)}), moto S3 + SQS "
        "and a redis-server catalog, draining the 35 DEV PDFs of `shared/datasets/pdfs` "
        "(broken and encrypted ones fail fast and add no pages); clock from the first upload to "
        "the last job ready or failed, workers ready (model loaded) before. The server, moto, "
        "redis-server and the workers share the 2 cores."
        + load_note(loads)
        + (f" {shared}" if shared else "")
    )


if __name__ == "__main__":
    main()
