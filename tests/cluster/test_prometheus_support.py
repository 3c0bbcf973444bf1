"""The real Prometheus from `ragops dev-cluster build` scrapes exporters of the API's own metrics.

Two exporters stand for the API pods of two colors; each carries the API's real Metrics registry
(same names, labels and buckets as the service) and is scraped with the pod's labels, as the
blue/green rollout gate will see them. Traffic moves in fixed proportions inside
Exporter.atomically(), so the error ratio and p95 are exact; the request rates are
paced by the clock and checked with a tolerance.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ragops_core.metrics import LATENCY_BUCKETS, Metrics
from tests.support.prometheus import (
    Sample,
    running_exporter,
    running_prometheus,
    steady_traffic,
    values_by,
)

# Needs no cluster, only a binary of the dev-cluster build: marked so that `pytest -m "not cluster"`
# still runs without a Go build. Its fixtures are not used, so no control plane is started.
pytestmark = pytest.mark.cluster

STEPS_PER_SECOND = 10.0
ROUTE = "/api/query"
BY_COLOR = "ragops_dev_color"
FAST, SLOW = 0.02, 0.3  # seconds; in different buckets of the API's histogram


def _api_metrics() -> Metrics:
    """The API's metrics with every series the test drives created at 0 before the first scrape."""
    metrics = Metrics()
    for status in ("200", "500"):
        metrics.http_requests.labels("POST", ROUTE, status)
    metrics.http_latency.labels("POST", ROUTE)
    return metrics


def _requests(metrics: Metrics, status: str, count: int, seconds: float) -> None:
    for _ in range(count):
        metrics.http_requests.labels("POST", ROUTE, status).inc()
        metrics.http_latency.labels("POST", ROUTE).observe(seconds)


def _pod(color: str) -> dict[str, str]:
    return {"namespace": "rag-prod", "pod": f"rag-api-{color}-0", BY_COLOR: color}


def _interpolated_quantile(q: float, observations: dict[float, int]) -> float:
    """What histogram_quantile() answers for these observations in the API's buckets: linear
    interpolation inside the bucket where the q-th observation falls."""
    bounds = sorted(LATENCY_BUCKETS)
    cumulative = [sum(n for value, n in observations.items() if value <= bound) for bound in bounds]
    rank = q * sum(observations.values())
    index = next(i for i, count in enumerate(cumulative) if count >= rank)
    lower = bounds[index - 1] if index else 0.0
    below = cumulative[index - 1] if index else 0
    return lower + (bounds[index] - lower) * (rank - below) / (cumulative[index] - below)


def _full_window(samples: list[Sample]) -> bool:
    """Both targets have a full 10s window of 1s scrapes, so rate() needs no extrapolation."""
    return len(samples) == 2 and all(sample.value >= 10 for sample in samples)


def test_rate_and_p95_by_color_from_scraped_api_metrics(tmp_path: Path) -> None:
    blue_metrics, green_metrics = _api_metrics(), _api_metrics()

    def one_step_of_traffic() -> None:
        # Blue, the new color: 4 requests, one of them a 500, one slow. Green: 2 fast successes.
        _requests(blue_metrics, "200", 3, FAST)
        _requests(blue_metrics, "500", 1, SLOW)
        _requests(green_metrics, "200", 2, FAST)

    with (
        running_exporter(blue_metrics.registry) as blue,
        running_exporter(green_metrics.registry) as green,
        # One driver for both: a scrape of either sees whole steps. Traffic runs before the first
        # scrape, so every window Prometheus sees is one of steady traffic.
        steady_traffic([blue, green], one_step_of_traffic, per_second=STEPS_PER_SECOND),
        running_prometheus(
            tmp_path,
            [blue.target(**_pod("blue")), green.target(**_pod("green"))],
            scrape_interval="1s",
        ) as prom,
    ):
        prom.wait_for_targets_up()
        labelled = prom.wait_for(
            "count by (namespace, pod, ragops_dev_color) (ragops_http_requests_total)",
            until=lambda samples: len(samples) == 2,
        )
        assert sorted((s.labels["pod"], s.labels["namespace"], s.value) for s in labelled) == [
            ("rag-api-blue-0", "rag-prod", 2.0),
            ("rag-api-green-0", "rag-prod", 2.0),
        ]

        prom.wait_for(
            'count_over_time(ragops_http_requests_total{status="200"}[10s])',
            until=_full_window,
        )
        rates = values_by(
            prom.query(f"sum by ({BY_COLOR}) (rate(ragops_http_requests_total[10s]))"), BY_COLOR
        )
        assert rates == {
            "blue": pytest.approx(4 * STEPS_PER_SECOND, rel=0.25),
            "green": pytest.approx(2 * STEPS_PER_SECOND, rel=0.25),
        }

        error_ratio = values_by(
            prom.query(
                f'sum by ({BY_COLOR}) (rate(ragops_http_requests_total{{status=~"5.."}}[10s]))'
                f" / sum by ({BY_COLOR}) (rate(ragops_http_requests_total[10s]))"
            ),
            BY_COLOR,
        )
        assert error_ratio == {"blue": pytest.approx(0.25), "green": 0.0}

        p95 = values_by(
            prom.query(
                f"histogram_quantile(0.95, sum by (le, {BY_COLOR}) "
                "(rate(ragops_http_request_duration_seconds_bucket[10s])))"
            ),
            BY_COLOR,
        )
        # Blue's 95th percentile is 0.8 into SLOW's bucket (3.8th of every 4 observations),
        # green's 0.95 into FAST's (1.9th of 2).
        assert p95 == {
            "blue": pytest.approx(_interpolated_quantile(0.95, {FAST: 3, SLOW: 1})),
            "green": pytest.approx(_interpolated_quantile(0.95, {FAST: 2})),
        }
        assert p95["blue"] > FAST * 2, "the slow 500s must dominate blue's p95"
        assert blue.scrapes >= 10 and green.scrapes >= 10
