"""Prometheus series for language models: tokens, dollars, fallbacks, interruptions.

One object implements both hooks the adapters call (`UsageRecorder` and
`FallbackRecorder`), so the adapters stay free of Prometheus.
"""

from __future__ import annotations

from ragops_core import request_context
from ragops_core.metrics import Metrics
from ragops_core.pricing import cost_usd


class LlmMetrics:
    def __init__(self, metrics: Metrics) -> None:
        self._m = metrics

    def record(self, model: str, prompt_tokens: int, completion_tokens: int) -> None:
        self._m.llm_tokens.labels(model, "prompt").inc(prompt_tokens)
        self._m.llm_tokens.labels(model, "completion").inc(completion_tokens)
        cost = cost_usd(model, prompt_tokens, completion_tokens)
        if cost is not None:
            self._m.llm_cost.labels(model).inc(cost)
        # What this request's answer cost: a cache hit of it later saves as much (query.py).
        request_context.add_llm_usage(prompt_tokens + completion_tokens, cost)

    def fallback(self, from_model: str, to_model: str, reason: str) -> None:
        self._m.llm_fallbacks.labels(from_model, to_model, reason).inc()

    def interrupted(self, model: str, reason: str) -> None:
        self._m.llm_interrupted.labels(model, reason).inc()
