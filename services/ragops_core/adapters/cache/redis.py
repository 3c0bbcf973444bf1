"""Cache on Redis (ElastiCache in production): answers and embeddings shared by every API pod.

Tags are Redis sets holding the keys that carry them, so invalidation drops exactly
the tagged answers, never the whole cache. Redis is an accelerator, never a
dependency: every call has a short timeout, and when Redis fails the cache is
bypassed (a miss on read, nothing on write) for a short pause before it is tried
again. Each incident is logged once when it starts and once when it ends, and
every bypassed call is counted in `ragops_cache_bypass_total`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

from ragops_core.metrics import Metrics
from ragops_core.outages import Outage

log = logging.getLogger(__name__)

_TAG_PREFIX = "ragops:tag:"
# Drops every key of the given tags and the tag sets themselves, atomically.
_INVALIDATE = """
local dropped = 0
for _, tag in ipairs(KEYS) do
  local members = redis.call('SMEMBERS', tag)
  for _, key in ipairs(members) do
    dropped = dropped + redis.call('DEL', key)
  end
  redis.call('DEL', tag)
end
return dropped
"""


class RedisCache:
    def __init__(
        self,
        url: str,
        *,
        metrics: Metrics,
        timeout_seconds: float = 0.25,
        retry_after_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # TLS (rediss://) and AUTH (redis://user:password@host) come with the URL, as ElastiCache
        # hands them out.
        self._redis = Redis.from_url(
            url,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
            health_check_interval=30,
        )
        self._metrics = metrics
        self._outage = Outage(
            log,
            started="Redis unavailable; bypassing the cache",
            ended="Redis available again; cache restored",
            retry_after_seconds=retry_after_seconds,
            clock=clock,
        )
        self._invalidate = self._redis.register_script(_INVALIDATE)

    async def get(self, key: str) -> bytes | None:
        if self._bypassing("get"):
            return None
        try:
            value = await self._redis.get(key)
        except (RedisError, OSError) as exc:
            self._failed("get", exc)
            return None
        self._recovered()
        return value.encode() if isinstance(value, str) else value

    async def set(
        self, key: str, value: bytes, *, ttl_seconds: int, tags: Sequence[str] = ()
    ) -> None:
        if ttl_seconds <= 0 or self._bypassing("set"):
            return
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(key, value, ex=ttl_seconds)
                for tag in tags:
                    pipe.sadd(_TAG_PREFIX + tag, key)
                    # A tag set lives as long as its longest-lived member (GT never shortens it).
                    pipe.expire(_TAG_PREFIX + tag, ttl_seconds, gt=True)
                    pipe.expire(_TAG_PREFIX + tag, ttl_seconds, nx=True)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            self._failed("set", exc)
            return
        self._recovered()

    async def invalidate_tags(self, tags: Sequence[str]) -> int:
        if not tags:
            return 0
        try:
            dropped = await self._invalidate(keys=[_TAG_PREFIX + tag for tag in tags])
        except (RedisError, OSError) as exc:
            # Answers that should be dropped may now outlive their truth until their TTL;
            # say so loudly rather than fail the ingestion that triggered this.
            log.error(
                "Failed to invalidate cached answers; they expire by TTL",
                extra={"tags": list(tags), "error": repr(exc)},
            )
            self._failed("invalidate", exc)
            return 0
        self._recovered()
        return int(dropped)

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        await self._redis.aclose()

    def _bypassing(self, operation: str) -> bool:
        if self._outage.skipping():
            self._metrics.cache_bypass.labels(operation).inc()
            return True
        return False

    def _failed(self, operation: str, exc: BaseException) -> None:
        self._metrics.cache_bypass.labels(operation).inc()
        self._outage.failed(exc, operation=operation)

    def _recovered(self) -> None:
        self._outage.succeeded()
