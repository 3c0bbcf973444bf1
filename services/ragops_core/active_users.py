"""Distinct users seen in the last 5 minutes, hour and day, as one bounded gauge.

A user id as a Prometheus label would make one series per user; instead this process
remembers when it last saw each user (in memory only, never exported) and reports how
many it saw within each window: `ragops_active_users{window="5m"|"1h"|"24h"}`.

The count is per process. With several API replicas behind a load balancer, a user's
requests reach several of them: `max` over replicas is the best lower bound (exact
with one replica, and close for users who send more than a few requests), `sum`
over-counts. docs/observability.md has the queries.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

WINDOWS: dict[str, float] = {"5m": 300.0, "1h": 3600.0, "24h": 86400.0}
_LONGEST = max(WINDOWS.values())
# Forgetting users older than the longest window costs a pass over the table: at most this often.
_PRUNE_EVERY_SECONDS = 60.0
# A bound on memory whatever happens (ids are ~40 bytes): the least recently seen go first.
MAX_USERS = 1_000_000


class ActiveUsers(Collector):
    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_users: int = MAX_USERS,
    ) -> None:
        self._clock = clock
        self._max = max_users
        self._last_seen: dict[str, float] = {}  # insertion order = order of last sight
        self._pruned = clock()
        if registry is not None:
            registry.register(self)

    def seen(self, user: str) -> None:
        now = self._clock()
        # Re-inserting keeps the dict ordered by last sight, so pruning stops at the first recent
        # user.
        self._last_seen.pop(user, None)
        self._last_seen[user] = now
        if len(self._last_seen) > self._max or now - self._pruned > _PRUNE_EVERY_SECONDS:
            self._prune(now)

    def counts(self) -> dict[str, int]:
        now = self._clock()
        self._prune(now)
        counts = dict.fromkeys(WINDOWS, 0)
        for last in reversed(self._last_seen.values()):
            age = now - last
            for window, seconds in WINDOWS.items():
                if age <= seconds:
                    counts[window] += 1
        return counts

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "ragops_active_users",
            "Distinct users (token subject; client address without "
            "authentication) this process served within the window.",
            labels=["window"],
        )
        for window, count in self.counts().items():
            family.add_metric([window], count)
        yield family

    def _prune(self, now: float) -> None:
        self._pruned = now
        while self._last_seen:
            user, last = next(iter(self._last_seen.items()))
            if now - last <= _LONGEST and len(self._last_seen) <= self._max:
                break
            del self._last_seen[user]
