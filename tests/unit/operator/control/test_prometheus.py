"""The rollout gate's Prometheus queries and how their answers are read."""

from __future__ import annotations

import math

import pytest

from ragops_operator.builders.labels import Owner
from ragops_operator.builders.monitoring import Jobs
from ragops_operator.control.prometheus import UnusableAnswer, color_queries, scalar_of
from ragops_operator.planning import blue_green
from ragops_operator.planning.rollout import RolloutState

JOBS = Jobs.of(Owner(name="demo", namespace="tenant-a", uid="u1"))


def test_queries_select_one_color_of_one_stack_over_the_rollout_window() -> None:
    queries = color_queries(JOBS, "green", 90)
    assert queries.error_rate_percent == (
        "100 * sum(rate(ragops_http_requests_total"
        '{namespace="tenant-a",job="demo-api",status=~"5..",ragops_dev_color="green"}[90s]))'
        " / sum(rate(ragops_http_requests_total"
        '{namespace="tenant-a",job="demo-api",ragops_dev_color="green"}[90s]))'
    )
    assert queries.p95_seconds == (
        "histogram_quantile(0.95, sum by (le) (rate(ragops_http_request_duration_seconds_bucket"
        '{namespace="tenant-a",job="demo-api",route!~"/api/ask/stream",ragops_dev_color="green"}[90s])))'
    )


def _vector(*values: str) -> dict[str, object]:
    return {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [{"metric": {}, "value": [1.0, v]} for v in values],
        },
    }


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (_vector("12.5"), 12.5),
        (_vector(), None),
        (_vector("NaN"), None),
        (_vector("NaN", "3"), 3.0),
        (_vector("+Inf"), math.inf),
    ],
)
def test_an_answer_is_one_value_or_unknown(
    answer: dict[str, object], expected: float | None
) -> None:
    assert scalar_of(answer) == expected


@pytest.mark.parametrize(
    "answer",
    [
        {"status": "error", "error": "parse error"},
        {"status": "success", "data": {"resultType": "matrix", "result": []}},
    ],
)
def test_an_error_or_a_range_answer_is_unusable(answer: dict[str, object]) -> None:
    with pytest.raises(UnusableAnswer):
        scalar_of(answer)


def test_the_gate_watches_the_preview_before_the_switch_and_the_new_color_after() -> None:
    assert blue_green.colors_under_watch(RolloutState(phase="Stable")) == ()
    assert blue_green.colors_under_watch(
        RolloutState(phase="Progressing", preview_color="green")
    ) == ("green",)
    assert blue_green.colors_under_watch(RolloutState(phase="Observing", active_color="green")) == (
        "green",
    )
    assert (
        blue_green.colors_under_watch(RolloutState(phase="RolledBack", active_color="blue")) == ()
    )
