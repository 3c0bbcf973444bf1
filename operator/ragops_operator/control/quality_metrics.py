"""The quality gate's metrics, in prometheus_client's default registry (served at the operator's
/metrics): each evaluated color's answer quality, and how many gates passed or failed.

Values come from the status the reconcile just computed (status.api.rollout.quality, and
status.lastQualityCheck for the scheduled evaluation of the active color), so a restarted
operator reports the same numbers again; the gate counter counts the planner's Events, which
are emitted once per verdict.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import Counter, Gauge

from ragops_operator.control.metrics import STACK_LABELS
from ragops_operator.objects import Obj

# The same stack labels as the operator's other metrics (control/metrics.py says why not
# `namespace`): Prometheus would rename ours to exported_namespace.
_LABELS = (*STACK_LABELS, "color")
# metric name in the eval summary -> (gauge, scale to the gauge's unit)
GAUGES: dict[str, tuple[Gauge, float]] = {
    "answer_hit": (
        Gauge("ragops_quality_answer_hit", "Share of golden questions answered right.", _LABELS),
        1.0,
    ),
    "source_hit@1": (
        Gauge(
            "ragops_quality_source_hit_at_1",
            "Share of golden questions whose first citation is the expected source.",
            _LABELS,
        ),
        1.0,
    ),
    "page_hit": (
        Gauge("ragops_quality_page_hit", "Share citing the expected page.", _LABELS),
        1.0,
    ),
    "answered": (
        Gauge("ragops_quality_answered", "Share of golden questions not abstained.", _LABELS),
        1.0,
    ),
    "latency_p95_ms": (
        Gauge(
            "ragops_quality_latency_p95_seconds",
            "95th percentile answer latency during the evaluation.",
            _LABELS,
        ),
        0.001,
    ),
}
GATES = Counter(
    "ragops_quality_gate",
    "Quality gate verdicts of blue/green rollouts (result: passed, failed, error).",
    (*STACK_LABELS, "result"),
)
DEGRADED = Gauge(
    "ragops_quality_degraded",
    "1 when the newest scheduled evaluation of the active color is below a threshold.",
    STACK_LABELS,
)
_GATE_RESULTS = {
    "QualityGatePassed": "passed",
    "QualityGateFailed": "failed",
    "QualityGateError": "error",
}


def _set(namespace: str, name: str, color: Any, metrics: Any) -> None:
    if color not in ("blue", "green") or not isinstance(metrics, Mapping):
        return
    for metric, (gauge, scale) in GAUGES.items():
        value = metrics.get(metric)
        child = gauge.labels(namespace, name, color)
        # A metric without data is NaN rather than a stale or invented number.
        child.set(float(value) * scale if isinstance(value, int | float) else float("nan"))


def observe(namespace: str, name: str, status: Obj, events: Iterable[tuple[str, str, str]]) -> None:
    """Record one reconcile's quality results and gate verdicts."""
    for _, reason, _ in events:
        if reason in _GATE_RESULTS:
            GATES.labels(namespace, name, _GATE_RESULTS[reason]).inc()
    quality = ((status.get("api") or {}).get("rollout") or {}).get("quality") or {}
    if quality or status.get("lastQualityCheck"):
        # Every result from zero once a stack is evaluated, so increase() and rate() see the
        # first verdict of each kind.
        for result in _GATE_RESULTS.values():
            GATES.labels(namespace, name, result)
    _set(namespace, name, quality.get("color"), quality.get("metrics"))
    _set(namespace, name, quality.get("baselineColor"), quality.get("baselineMetrics"))
    check = status.get("lastQualityCheck") or {}
    if check:
        _set(namespace, name, check.get("color"), check.get("metrics"))
        DEGRADED.labels(namespace, name).set(1.0 if check.get("result") == "failed" else 0.0)


def forget(namespace: str, name: str) -> None:
    """Drop a deleted (or no longer ours) stack's series, as control/metrics.py does."""
    for gauge, _ in GAUGES.values():
        for color in ("blue", "green"):
            _remove(gauge, namespace, name, color)
    _remove(DEGRADED, namespace, name)
    for result in _GATE_RESULTS.values():
        _remove(GATES, namespace, name, result)


def _remove(metric: Gauge | Counter, *labels: str) -> None:
    with contextlib.suppress(KeyError):  # never observed
        metric.remove(*labels)
