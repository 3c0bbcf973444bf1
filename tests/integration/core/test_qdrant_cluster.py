"""Distributed Qdrant as production runs it: three peers started with exactly what the operator's
StatefulSet passes them (tests/support/qdrant_cluster.py), a collection created by our server
adapter with the shard count and replication factor the operator's config gives the pods.

One peer is SIGKILLed while documents are being written and searched, and restarted later on its
own storage: no write or search may fail, and once its replicas are active again every point is
there, on every replica.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from qdrant_client import AsyncQdrantClient
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from ragops_core.adapters.vector_store.qdrant_server import (
    RETRY_DELAYS_SECONDS,
    QdrantServerStore,
    transient,
)
from ragops_core.domain import StoredChunk, point_id_for
from ragops_core.ports import SearchRequest
from ragops_core.settings import Settings
from ragops_operator.builders import config, qdrant
from ragops_wiring import adapters
from tests.support.builder_specs import OWNER, make_spec, one
from tests.support.net import free_port
from tests.support.qdrant_cluster import QdrantCluster, ServiceProxy, localize_args

SPEC = make_spec(
    **{
        "vectorStore": {"qdrant": {"replicas": 3, "replicationFactor": 2, "shards": 3}},
        "tenant": "acme",
    }
)
DIMENSIONS = 16
DOCUMENTS = 24
CHUNKS_PER_DOCUMENT = 8
KILL_AFTER, RESTART_AFTER = 6, 14  # documents written before the kill and before the restart
ACTIVE_DEADLINE_SECONDS = 180.0
WORDS = ["valve", "pump", "cooling", "revenue", "quarter", "cat", "window", "part"]


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[QdrantCluster]:
    statefulset = one(qdrant.build(SPEC, OWNER), "StatefulSet")
    peers = QdrantCluster(statefulset, tmp_path / "peers")
    yield peers
    peers.stop()


@pytest.fixture
def service(cluster: QdrantCluster) -> Iterator[ServiceProxy]:
    """The client Service's REST port, in front of every peer. (A gRPC client keeps a single
    connection; gRPC's own transparent retries and reconnection carried it through a kill in the
    trials made, so the retry's gRPC branch is tested on its own, in
    test_transient_failures_are_those_without_an_answer_from_a_live_peer.)"""
    proxy = ServiceProxy([peer.ports["http"] for peer in cluster.peers])
    yield proxy
    proxy.stop()


def pod_settings(
    service: ServiceProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """The Settings the API and worker pods get from the operator's ConfigMap, with the client
    Service's address mapped to the local one."""
    host = config.qdrant_url(OWNER).removeprefix("http://")
    (url,) = localize_args([config.qdrant_url(OWNER)], {host: f"127.0.0.1:{service.port}"})
    for name, value in config.config_data(SPEC, OWNER).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(config.env_name("qdrant_url"), url)
    monkeypatch.setenv(config.env_name("data_dir"), str(tmp_path / "data"))
    return Settings()


def document(number: int) -> list[StoredChunk]:
    rng = random.Random(number)
    return [
        StoredChunk(
            "acme",
            f"doc-{number}",
            f"doc-{number}.pdf",
            i,
            " ".join(rng.choice(WORDS) for _ in range(12)),
            ((0, 1),),
        )
        for i in range(CHUNKS_PER_DOCUMENT)
    ]


def vector(rng: random.Random) -> list[float]:
    return [rng.uniform(-1, 1) for _ in range(DIMENSIONS)]


def replica_states(cluster: QdrantCluster, collection: str) -> list[tuple[str, int, str]]:
    """(pod, shard, state) of every replica, as each live peer reports its own."""
    states = []
    for peer in cluster.peers:
        for shard in cluster.shards(peer, collection)["local_shards"]:
            states.append((peer.pod, shard["shard_id"], shard["state"]))
    return states


async def wait_all_active(cluster: QdrantCluster, collection: str) -> list[tuple[str, int, str]]:
    deadline = time.monotonic() + ACTIVE_DEADLINE_SECONDS
    states: list[tuple[str, int, str]] = []
    while time.monotonic() < deadline:
        states = await asyncio.to_thread(replica_states, cluster, collection)
        if len(states) == 3 * 2 and all(state == "Active" for _, _, state in states):
            return states
        await asyncio.sleep(1.0)
    raise AssertionError(f"replicas not all active after {ACTIVE_DEADLINE_SECONDS}s: {states}")


# Peer 0 founded the cluster and restarts without `--bootstrap`; peer 2 restarts with it.
@pytest.mark.parametrize("victim", [0, 2], ids=["founding-peer", "joined-peer"])
async def test_a_killed_peer_loses_no_search_and_no_point(
    victim: int,
    cluster: QdrantCluster,
    service: ServiceProxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = pod_settings(service, tmp_path, monkeypatch)
    assert (settings.qdrant_shards, settings.qdrant_replication_factor) == (3, 2)
    store = adapters.qdrant_server_store(
        settings,
        adapters.qdrant_client(settings),
        version=settings.index_version,
        dimensions=DIMENSIONS,
    )
    assert isinstance(store, QdrantServerStore)
    await store.ensure()
    peer = cluster.peers[victim]
    writing = True
    searches: list[int] = []
    failures: list[BaseException] = []

    async def search_continuously() -> None:
        rng = random.Random(7)
        while writing:
            for mode in ("dense", "hybrid"):
                request = SearchRequest("acme", "cooling pump valve", vector(rng), 5, mode)
                try:
                    await store.search(request)
                    searches.append(1)
                except Exception as error:  # every failure is reported, not only the first
                    failures.append(error)
            await asyncio.sleep(0.05)

    searcher = asyncio.create_task(search_continuously())
    rng = random.Random(3)
    expected: set[str] = set()
    searches_while_down = 0
    try:
        for number in range(DOCUMENTS):
            if number == KILL_AFTER:
                cluster.kill(peer)
                down_from = len(searches)
            if number == RESTART_AFTER:
                searches_while_down = len(searches) - down_from
                cluster.start(peer)
                await asyncio.to_thread(cluster.wait_ready, peer)
            items = document(number)
            await store.upsert(items, [[vector(rng)] for _ in items])
            expected |= {point_id_for(c.document_id, c.index) for c in items}
            await asyncio.sleep(0.2)  # searches interleave with every write
        states = await wait_all_active(cluster, store.collection)
    finally:
        writing = False
        await searcher
    assert failures == []
    assert searches_while_down > 0
    # The peer came back as itself (its Raft state on its volume), not as a fourth, new peer.
    assert len(cluster.cluster_info(cluster.peers[1])["peers"]) == 3

    assert await store.count("acme") == len(expected) == DOCUMENTS * CHUNKS_PER_DOCUMENT
    stored: set[str] = set()
    async for batch in store.chunks():
        stored |= {point for point, _ in batch}
    assert stored == expected
    # Every replica of every shard, the restarted peer's included, holds the same points.
    counts: dict[int, set[int]] = {}
    for each in cluster.peers:
        for shard in (await asyncio.to_thread(cluster.shards, each, store.collection))[
            "local_shards"
        ]:
            counts.setdefault(shard["shard_id"], set()).add(shard["points_count"])
    assert len(states) == 6 and all(len(c) == 1 for c in counts.values()), counts
    assert sum(c.pop() for c in counts.values()) == len(expected)
    await store.close()


async def test_with_no_peer_left_the_error_comes_after_bounded_retries() -> None:
    store = QdrantServerStore(
        AsyncQdrantClient(url=f"http://127.0.0.1:{free_port()}"),
        name="gone",
        version="v1",
        dimensions=DIMENSIONS,
    )
    started = time.monotonic()
    with pytest.raises(ResponseHandlingException):
        await store.search(SearchRequest("acme", "valve", vector(random.Random(1)), 5, "dense"))
    waited = time.monotonic() - started
    # Retried for about 4 s (a peer may be back by then), not forever: the caller gets its error.
    assert sum(RETRY_DELAYS_SECONDS) == pytest.approx(4.2)
    assert 4.2 <= waited < 10
    await store.close()


def test_transient_failures_are_those_without_an_answer_from_a_live_peer() -> None:
    def rpc_error(code: grpc.StatusCode) -> grpc.aio.AioRpcError:
        return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata())

    assert transient(ResponseHandlingException(ConnectionResetError()))
    assert transient(rpc_error(grpc.StatusCode.UNAVAILABLE))
    assert transient(UnexpectedResponse(503, "Service Unavailable", b"", httpx.Headers()))
    # A real answer is final: retrying a bad request or a missing collection changes nothing.
    assert not transient(rpc_error(grpc.StatusCode.INVALID_ARGUMENT))
    assert not transient(UnexpectedResponse(404, "Not Found", b"", httpx.Headers()))
    assert not transient(ValueError("dense retrieval needs a query vector"))
