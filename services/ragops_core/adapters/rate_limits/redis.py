"""Rate-limit counters in Redis, shared by every API replica (the rules:
ragops_core/rate_limits.py).

`limits`' own Redis storage, run by redis-py's asyncio client over a connection pool of
ours: no retry (a failed check is let through at once) and the cache's short timeouts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from limits.aio.storage import RedisStorage
from redis.asyncio import ConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

_KEY_PREFIX = "ragops:ratelimit"

# What the storage raises when Redis is unreachable or fails: the limiter lets the request through.
FAILURES: tuple[type[BaseException], ...] = (RedisError,)


def redis_storage(
    url: str, *, timeout_seconds: float
) -> tuple[RedisStorage, Callable[[], Awaitable[None]]]:
    """Counters in Redis, and how to close its connections.

    No retry (a failed check is let through at once) and the cache's short timeouts.
    """
    pool = ConnectionPool.from_url(
        url,
        socket_timeout=timeout_seconds,
        socket_connect_timeout=timeout_seconds,
        health_check_interval=30,
        retry=Retry(NoBackoff(), 0),
    )
    # limits documents `connection_pool` but types its pass-through options as scalars.
    storage = RedisStorage(
        f"async+{url}",
        implementation="redispy",
        key_prefix=_KEY_PREFIX,
        connection_pool=pool,  # type: ignore[arg-type]
    )
    return storage, pool.aclose
