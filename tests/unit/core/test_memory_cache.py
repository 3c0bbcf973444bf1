import asyncio

from ragops_core.adapters.cache.memory import MemoryCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_after_their_ttl() -> None:
    clock = Clock()
    cache = MemoryCache(clock=clock)
    asyncio.run(cache.set("k", b"v", ttl_seconds=10))
    clock.now = 9.9
    assert asyncio.run(cache.get("k")) == b"v"
    clock.now = 10.0
    assert asyncio.run(cache.get("k")) is None


def test_invalidating_a_tag_drops_exactly_its_entries() -> None:
    cache = MemoryCache()

    async def scenario() -> tuple[int, list[bytes | None]]:
        await cache.set("a", b"1", ttl_seconds=60, tags=["tenant:x", "document:x:d1"])
        await cache.set("b", b"2", ttl_seconds=60, tags=["tenant:x", "document:x:d2"])
        await cache.set("c", b"3", ttl_seconds=60, tags=["tenant:y"])
        dropped = await cache.invalidate_tags(["document:x:d1"])
        return dropped, [await cache.get(k) for k in "abc"]

    assert asyncio.run(scenario()) == (1, [None, b"2", b"3"])


def test_least_recently_used_entry_is_evicted_first() -> None:
    cache = MemoryCache(max_entries=2)

    async def scenario() -> list[bytes | None]:
        await cache.set("a", b"1", ttl_seconds=60)
        await cache.set("b", b"2", ttl_seconds=60)
        await cache.get("a")
        await cache.set("c", b"3", ttl_seconds=60)
        return [await cache.get(k) for k in "abc"]

    assert asyncio.run(scenario()) == [b"1", None, b"3"]
