"""Per-user rate limits, shared by every API replica through Redis.

The counting is the `limits` library's (the engine of slowapi and Flask-Limiter),
not ours: its sliding window counter keeps two counters per user and limit, this
window's and the previous one's weighted by how much of it the sliding window still
covers. Unlike a fixed window it allows no burst of twice the limit across a window
boundary, and unlike a moving window (one timestamp per request) it needs O(1)
memory per user. On Redis each check is one Lua script (one round trip) run by
redis-py's asyncio client (`implementation="redispy"`, so no second Redis client
library), and Redis' own key expiry is the clock, so replicas with skewed clocks
still agree. Without Redis the counters live in the process.

Redis is not allowed to stop questions: a rate limit protects the service, it is not
worth an outage. Its client makes no retries and has the cache's short timeouts
(`RAGOPS_REDIS_TIMEOUT_SECONDS`); a failed check lets the request through, and for a
second after it checks are skipped (every request let through), as the Redis cache
does. Each outage is logged once when it starts and once when it ends, and every
request let through unchecked is counted in `ragops_rate_limit_bypass_total`.

Here: the rules (kinds, the notation, what an unreachable storage means). The Redis
storage and its client are an adapter (adapters/rate_limits/redis.py), chosen by
ragops_wiring; without it the counters are `limits`' in-process storage.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from urllib.parse import quote

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError

from ragops_core.metrics import Metrics
from ragops_core.outages import Outage

log = logging.getLogger(__name__)

QUESTIONS = "questions"
OTHER = "other"
DISABLED = frozenset({"", "0", "off", "none"})
_FAILURES: tuple[type[BaseException], ...] = (OSError, StorageError)


def parse_rates(value: str) -> list[RateLimitItem]:
    """The limits of a setting ("60/minute", "10/second;60/minute"); empty for "0" (no limit).

    Raises ValueError, naming the notation, for anything else.
    """
    if value.strip().lower() in DISABLED:
        return []
    try:
        return parse_many(value)
    except ValueError as exc:
        raise ValueError(
            f"{value!r} is not a rate limit: write it like '60/minute', '5 per 10 seconds' or "
            "'10/second;60/minute' (several, all enforced), or 0 for no limit"
        ) from exc


class RateLimiter:
    """`check` one request of a user against the limits of its kind (questions, other)."""

    def __init__(
        self,
        rates: Mapping[str, Sequence[RateLimitItem]],
        *,
        storage: Storage | None,
        metrics: Metrics,
        on_close: Callable[[], Awaitable[None]] | None = None,
        failures: tuple[type[BaseException], ...] = (),
        retry_after_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rates = {kind: list(items) for kind, items in rates.items() if items}
        self._storage = storage or MemoryStorage()
        self._strategy = SlidingWindowCounterRateLimiter(self._storage)
        self._metrics = metrics
        self._on_close = on_close
        # What a storage raises when it is unreachable (its client library's errors): let through.
        self._failures = (*failures, *_FAILURES)
        self._outage = Outage(
            log,
            started="Redis unavailable; rate limits not enforced",
            ended="Redis available again; rate limits enforced",
            retry_after_seconds=retry_after_seconds,
            clock=clock,
        )

    def limits(self, kind: str) -> bool:
        """Whether requests of this kind are limited at all."""
        return kind in self._rates

    async def check(self, kind: str, tenant: str, user: str) -> int | None:
        """Count one request; None when it may go on, else the whole seconds after which to retry
        (>= 1).

        Several limits of a kind are all counted, in order, until one refuses.
        """
        items = self._rates.get(kind)
        if not items:
            return None
        if self._outage.skipping():
            self._metrics.rate_limit_bypass.inc()
            return None
        # Escaped so that no tenant/user pair can be spelled as another ("a/b" + "c" vs "a" +
        # "b/c").
        identity = (kind, quote(tenant, safe=""), quote(user, safe=""))
        try:
            for item in items:
                if not await self._strategy.hit(item, *identity):
                    stats = await self._strategy.get_window_stats(item, *identity)
                    self._recovered()
                    self._metrics.rate_limited.labels(kind).inc()
                    return max(1, math.ceil(stats.reset_time - time.time()))
        except self._failures as exc:
            self._failed(exc)
            return None
        self._recovered()
        return None

    def describe(self, kind: str) -> str:
        """The limits of a kind in words: "60 per 1 minute"."""
        return "; ".join(str(item) for item in self._rates.get(kind, ()))

    async def close(self) -> None:
        if self._on_close is not None:
            await self._on_close()

    def _failed(self, exc: BaseException) -> None:
        self._metrics.rate_limit_bypass.inc()
        self._outage.failed(exc)

    def _recovered(self) -> None:
        self._outage.succeeded()
