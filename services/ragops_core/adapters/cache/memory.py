"""In-process cache with per-entry TTLs, LRU eviction and tag-based invalidation."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence


class MemoryCache:
    def __init__(
        self, *, max_entries: int = 10000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._entries: OrderedDict[str, tuple[float, bytes, tuple[str, ...]]] = OrderedDict()
        self._tags: dict[str, set[str]] = {}
        self._max = max_entries
        self._clock = clock
        self._lock = threading.Lock()

    async def get(self, key: str) -> bytes | None:
        return self.get_sync(key)

    def get_sync(self, key: str) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, value, _ = entry
            if expires <= self._clock():
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return value

    async def set(
        self, key: str, value: bytes, *, ttl_seconds: int, tags: Sequence[str] = ()
    ) -> None:
        if ttl_seconds <= 0:
            return
        with self._lock:
            self._drop(key)
            self._entries[key] = (self._clock() + ttl_seconds, value, tuple(tags))
            for tag in tags:
                self._tags.setdefault(tag, set()).add(key)
            while len(self._entries) > self._max:
                self._drop(next(iter(self._entries)))

    async def invalidate_tags(self, tags: Sequence[str]) -> int:
        with self._lock:
            keys = set().union(*(self._tags.get(tag, set()) for tag in tags)) if tags else set()
            for key in keys:
                self._drop(key)
            return len(keys)

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        for tag in entry[2]:
            members = self._tags.get(tag)
            if members is not None:
                members.discard(key)
                if not members:
                    del self._tags[tag]
