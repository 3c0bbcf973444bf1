"""The quality gate's metrics as prometheus_client's default registry exposes them (the
operator's /metrics serves that registry)."""

from __future__ import annotations

import math

from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from ragops_operator.control import quality_metrics

FAMILIES = {
    "ragops_quality_answer_hit",
    "ragops_quality_source_hit_at_1",
    "ragops_quality_page_hit",
    "ragops_quality_answered",
    "ragops_quality_latency_p95_seconds",
    "ragops_quality_gate",
    "ragops_quality_degraded",
}


def _samples() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(REGISTRY).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name.startswith("ragops_quality")
    }


def test_every_quality_family_is_in_the_default_registry() -> None:
    names = {f.name for f in text_string_to_metric_families(generate_latest(REGISTRY).decode())}
    assert names >= FAMILIES


def test_a_gate_verdict_sets_both_colors_and_counts_the_result() -> None:
    status = {
        "api": {
            "rollout": {
                "quality": {
                    "color": "green",
                    "baselineColor": "blue",
                    "metrics": {"answer_hit": 0.6, "latency_p95_ms": 1500.0, "page_hit": None},
                    "baselineMetrics": {"answer_hit": 0.9},
                }
            }
        }
    }
    events = [("Warning", "QualityGateFailed", "answer_hit ..."), ("Normal", "Other", "")]
    quality_metrics.observe("ns-m", "rag", status, events)
    samples = _samples()

    def value(name: str, color: str) -> float:
        return samples[
            (
                name,
                (("color", color), ("ragdeployment", "rag"), ("ragdeployment_namespace", "ns-m")),
            )
        ]

    assert value("ragops_quality_answer_hit", "green") == 0.6
    assert value("ragops_quality_answer_hit", "blue") == 0.9
    assert value("ragops_quality_latency_p95_seconds", "green") == 1.5
    assert math.isnan(value("ragops_quality_page_hit", "green")), "no data is not a number"
    gate = (("ragdeployment", "rag"), ("ragdeployment_namespace", "ns-m"), ("result", "failed"))
    assert samples[("ragops_quality_gate_total", gate)] == 1.0


def test_a_failed_scheduled_check_sets_degraded() -> None:
    check = {"color": "blue", "result": "failed", "metrics": {"answer_hit": 0.5}}
    quality_metrics.observe("ns-d", "rag", {"lastQualityCheck": check}, [])
    assert (
        _samples()[
            (
                "ragops_quality_degraded",
                (("ragdeployment", "rag"), ("ragdeployment_namespace", "ns-d")),
            )
        ]
        == 1
    )
    quality_metrics.observe("ns-d", "rag", {"lastQualityCheck": {**check, "result": "passed"}}, [])
    assert (
        _samples()[
            (
                "ragops_quality_degraded",
                (("ragdeployment", "rag"), ("ragdeployment_namespace", "ns-d")),
            )
        ]
        == 0
    )


def test_a_forgotten_stack_leaves_no_quality_series() -> None:
    check = {"color": "blue", "result": "failed", "metrics": {"answer_hit": 0.5}}
    quality_metrics.observe("ns-f", "gone", {"lastQualityCheck": check}, [])
    quality_metrics.forget("ns-f", "gone")
    assert not [key for key in _samples() if ("ragdeployment_namespace", "ns-f") in key[1]]


def test_an_evaluated_stack_counts_every_gate_result_from_zero() -> None:
    check = {"color": "blue", "result": "passed", "metrics": {"answer_hit": 0.9}}
    quality_metrics.observe("ns-z", "rag", {"lastQualityCheck": check}, [])
    samples = _samples()
    for result in ("passed", "failed", "error"):
        key = (("ragdeployment", "rag"), ("ragdeployment_namespace", "ns-z"), ("result", result))
        assert samples[("ragops_quality_gate_total", key)] == 0.0
