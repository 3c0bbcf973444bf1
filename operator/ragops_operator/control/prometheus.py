"""The rollout gate's view of Prometheus: each color's API error rate and p95 latency.

The queries are the PrometheusRule's own (one definition, builders/monitoring.py), narrowed to
one color by the `ragops_dev_color` label that the API's ServiceMonitor copies from the pods,
and over the rollout's own window. A color that served no requests in the window has no error
rate and no p95: that is "unknown", and the gate then decides on readiness alone. An
unreachable Prometheus is unknown too: an outage of monitoring must not stop a rollout, nor
roll one back; it is logged.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from ragops_operator.builders.monitoring import (
    COLOR_TARGET_LABEL,
    Jobs,
    api_error_percent,
    api_p95_seconds,
)
from ragops_operator.planning.rollout import Color, Signals

_log = logging.getLogger("ragops.operator.prometheus")


@dataclass(frozen=True)
class ColorQueries:
    error_rate_percent: str
    p95_seconds: str


def color_queries(jobs: Jobs, color: Color, window_seconds: int) -> ColorQueries:
    matcher, window = f'{COLOR_TARGET_LABEL}="{color}"', f"{window_seconds}s"
    return ColorQueries(
        error_rate_percent=api_error_percent(jobs, matcher, window=window),
        p95_seconds=api_p95_seconds(jobs, matcher, window=window),
    )


class UnusableAnswer(ValueError):
    """Prometheus answered, but not with an instant vector."""


def scalar_of(answer: dict[str, Any]) -> float | None:
    """The one value of an instant-vector answer; None when there is no sample or it is NaN
    (no requests in the window: 0/0), which is not a failure."""
    if answer.get("status") != "success":
        raise UnusableAnswer(str(answer.get("error") or answer.get("status")))
    data = answer.get("data") or {}
    if data.get("resultType") != "vector":
        raise UnusableAnswer(f"expected a vector, got {data.get('resultType')!r}")
    values = [float(sample["value"][1]) for sample in data.get("result") or []]
    finite = [v for v in values if not math.isnan(v)]
    return max(finite) if finite else None


class SignalSource(Protocol):
    async def read(
        self, url: str, jobs: Jobs, colors: Iterable[Color], window_seconds: int
    ) -> dict[Color, Signals]: ...

    async def close(self) -> None: ...


class PrometheusSignals:
    """Reads the signals over Prometheus' HTTP API (`/api/v1/query`)."""

    def __init__(self, *, timeout_seconds: float = 5.0) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None
        self._failing: set[str] = set()  # URLs whose outage was logged: one line per outage

    async def read(
        self, url: str, jobs: Jobs, colors: Iterable[Color], window_seconds: int
    ) -> dict[Color, Signals]:
        wanted = list(dict.fromkeys(colors))
        queries = [color_queries(jobs, color, window_seconds) for color in wanted]
        texts = [text for q in queries for text in (q.error_rate_percent, q.p95_seconds)]
        try:
            values = await asyncio.gather(*(self._query(url, text) for text in texts))
        except (aiohttp.ClientError, TimeoutError, UnusableAnswer) as error:
            if url not in self._failing:
                self._failing.add(url)
                _log.warning(
                    "Prometheus at %s cannot be read (%s): rollouts are gated by readiness alone",
                    url,
                    error,
                )
            return {}
        if url in self._failing:
            self._failing.discard(url)
            _log.info("Prometheus at %s answers again", url)
        return {
            color: Signals(error_rate_percent=values[2 * i], p95_seconds=values[2 * i + 1])
            for i, color in enumerate(wanted)
        }

    async def _query(self, url: str, query: str) -> float | None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        async with self._session.get(
            f"{url.rstrip('/')}/api/v1/query", params={"query": query}
        ) as response:
            if response.status >= 500 or response.status in (401, 403, 404):
                raise aiohttp.ClientResponseError(
                    response.request_info,
                    response.history,
                    status=response.status,
                    message=await response.text(),
                )
            answer: dict[str, Any] = await response.json(content_type=None)
        return scalar_of(answer)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
