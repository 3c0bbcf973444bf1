"""One contract for every Cache adapter: the in-process cache and Redis behave alike."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis

from ragops_core.adapters.cache.memory import MemoryCache
from ragops_core.adapters.cache.redis import RedisCache
from ragops_core.metrics import Metrics
from ragops_core.ports import Cache
from tests.support.redis_server import RedisServer


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest, redis_server: RedisServer) -> AsyncIterator[Cache]:
    if request.param == "memory":
        yield MemoryCache()
        return
    redis.Redis.from_url(redis_server.url).flushdb()
    adapter = RedisCache(redis_server.url, metrics=Metrics())
    yield adapter
    await adapter.close()


async def test_set_then_get(cache: Cache) -> None:
    assert await cache.get("k") is None
    await cache.set("k", b"\x00value", ttl_seconds=60)
    assert await cache.get("k") == b"\x00value"


async def test_entries_expire(cache: Cache) -> None:
    await cache.set("short", b"1", ttl_seconds=1)
    await cache.set("zero", b"1", ttl_seconds=0)
    assert await cache.get("zero") is None
    await asyncio.sleep(1.2)
    assert await cache.get("short") is None


async def test_tag_invalidation_is_exact(cache: Cache) -> None:
    await cache.set("a1", b"1", ttl_seconds=60, tags=["tenant:a", "document:a:d1"])
    await cache.set("a2", b"2", ttl_seconds=60, tags=["tenant:a", "document:a:d2"])
    await cache.set("b1", b"3", ttl_seconds=60, tags=["tenant:b", "document:b:d1"])
    assert await cache.invalidate_tags(["document:a:d1"]) == 1
    assert [await cache.get(k) for k in ("a1", "a2", "b1")] == [None, b"2", b"3"]
    assert await cache.invalidate_tags(["tenant:a"]) == 1
    assert [await cache.get(k) for k in ("a2", "b1")] == [None, b"3"]
    assert await cache.invalidate_tags(["tenant:unknown"]) == 0


async def test_redis_outage_degrades_to_misses_and_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = RedisServer(tmp_path)
    now = [0.0]
    metrics = Metrics()
    cache = RedisCache(
        server.url,
        metrics=metrics,
        timeout_seconds=0.2,
        retry_after_seconds=5,
        clock=lambda: now[0],
    )
    await cache.set("k", b"v", ttl_seconds=60, tags=["tenant:t"])
    assert await cache.get("k") == b"v"
    server.stop()
    caplog.set_level(logging.WARNING, logger="ragops_core.adapters.cache.redis")
    for _ in range(5):
        assert await cache.get("k") is None
        await cache.set("k2", b"v", ttl_seconds=60)
    assert await cache.invalidate_tags(["tenant:t"]) == 0
    assert sum("Redis unavailable" in r.getMessage() for r in caplog.records) == 1, (
        "one log line per incident"
    )
    bypassed = sum(
        s.value
        for m in metrics.registry.collect()
        if m.name == "ragops_cache_bypass"
        for s in m.samples
        if s.name.endswith("_total")
    )
    assert bypassed >= 11

    restarted = RedisServer(tmp_path, port=server.port)
    try:
        assert await cache.get("k") is None, "still within the pause: bypassed"
        now[0] += 6
        await cache.set("k", b"back", ttl_seconds=60)
        assert await cache.get("k") == b"back"
        assert any("available again" in r.getMessage() for r in caplog.records)
    finally:
        await cache.close()
        restarted.stop()
