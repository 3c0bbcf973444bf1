"""Living with an optional dependency that fails (Redis as cache or as rate-limit counter):
after a failure, calls skip it for a short pause before it is tried again, and each outage is
logged once when it starts and once when it ends, not once per call."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


class Outage:
    def __init__(
        self,
        log: logging.Logger,
        *,
        started: str,
        ended: str,
        retry_after_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = log
        self._started, self._ended = started, ended
        self._retry_after = retry_after_seconds
        self._clock = clock
        self._down_since: float | None = None
        self._retry_at = 0.0

    def skipping(self) -> bool:
        """Whether to skip the dependency now (it failed less than the pause ago)."""
        return self._down_since is not None and self._clock() < self._retry_at

    def failed(self, exc: BaseException, **extra: object) -> None:
        now = self._clock()
        if self._down_since is None:
            self._down_since = now
            self._log.warning(self._started, extra={**extra, "error": repr(exc)})
        self._retry_at = now + self._retry_after

    def succeeded(self) -> None:
        if self._down_since is not None:
            self._log.warning(
                self._ended, extra={"outage_seconds": round(self._clock() - self._down_since, 1)}
            )
            self._down_since = None
