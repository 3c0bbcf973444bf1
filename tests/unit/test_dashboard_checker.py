"""The dashboards' checker itself (tests/support/dashboards.py), on small scrapes: what it must
catch, so that the real-scrape test (tests/cluster/test_dashboards.py) passing means something.
Also: the chart's four dashboards are there, parse, and are valid Grafana JSON basics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.dashboards import Scrape, parse_scrape, problems, references

REPO = Path(__file__).resolve().parents[2]
CHART_DASHBOARDS = REPO / "charts" / "ragops-operator" / "dashboards"

API_TEXT = """\
# HELP ragops_http_requests_total HTTP requests.
# TYPE ragops_http_requests_total counter
ragops_http_requests_total{method="GET",route="/healthz",status="200"} 3.0
# HELP ragops_http_request_duration_seconds Latency.
# TYPE ragops_http_request_duration_seconds histogram
ragops_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="0.1"} 3.0
ragops_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="+Inf"} 3.0
ragops_http_request_duration_seconds_sum{method="GET",route="/healthz"} 0.01
ragops_http_request_duration_seconds_count{method="GET",route="/healthz"} 3.0
# HELP ragops_feedback_total Feedback.
# TYPE ragops_feedback_total counter
"""
WORKER_TEXT = """\
# HELP ragops_queue_depth Waiting.
# TYPE ragops_queue_depth gauge
ragops_queue_depth 0.0
"""


def board(*exprs: str) -> dict[str, Any]:
    return {
        "title": "t",
        "panels": [{"type": "row", "panels": [{"targets": [{"expr": e} for e in exprs]}]}],
    }


@pytest.fixture
def scrapes() -> dict[str, Scrape]:
    return {"api": parse_scrape("api", API_TEXT), "worker": parse_scrape("worker", WORKER_TEXT)}


def test_metrics_labels_and_suffixes_that_exist_pass(scrapes: dict[str, Scrape]) -> None:
    assert (
        problems(
            board(
                'sum by (route) (rate(ragops_http_requests_total{job=~"$stack-api"}[5m]))',
                "histogram_quantile(0.9, sum by (le) "
                '(rate(ragops_http_request_duration_seconds_bucket{job="x-api"}[$__rate_interval])))',
                'max(ragops_queue_depth{namespace=~"$namespace", job="x-worker"})',
                'sum(up{job="x-qdrant"})',
            ),
            scrapes,
        )
        == []
    )


@pytest.mark.parametrize(
    ("expr", "complaint"),
    [
        ('sum(rate(ragops_http_requests{job="x-api"}[5m]))', "not exported by api"),
        ('max(ragops_queue_depth{job="x-api"})', "not exported by api"),
        ("sum(rate(ragops_nothing_total[5m]))", "exported by no process"),
        ('sum by (tenant) (rate(ragops_http_requests_total{job="x-api"}[5m]))', "no label"),
        ('ragops_http_requests_total{job="x-api", user="u"}', "no label"),
        ('sum by (rating) (rate(ragops_feedback_total{job="x-api"}[5m]))', "no samples"),
        ('sum(rate(ragops_http_requests_total{job="x-api"}[5m]) by', "does not parse"),
        ('sum(ragops_queue_depth{job="x-frontend"})', "names no scraped process"),
    ],
)
def test_what_the_scrapes_do_not_have_is_reported(
    scrapes: dict[str, Scrape], expr: str, complaint: str
) -> None:
    found = problems(board(expr), scrapes)
    assert len(found) == 1 and complaint in found[0], found


def test_label_values_variables_are_checked(scrapes: dict[str, Scrape]) -> None:
    variable = {"type": "query", "query": {"query": "label_values(ragops_http_requests_total, x)"}}
    dashboard = {"title": "t", "panels": [], "templating": {"list": [variable]}}
    assert "no label ['x']" in problems(dashboard, scrapes)[0]


def test_the_charts_four_dashboards_parse_and_select_ragops_series() -> None:
    files = sorted(path.name for path in CHART_DASHBOARDS.glob("*.json"))
    assert files == ["api-performance.json", "business.json", "cost.json", "vector-db.json"]
    uids = set()
    for path in CHART_DASHBOARDS.glob("*.json"):
        dashboard = json.loads(path.read_text())
        uids.add(dashboard["uid"])
        assert len(dashboard["uid"]) <= 40, "Grafana's uid limit"
        panels = [p for p in dashboard["panels"] if p["type"] != "row"]
        assert panels and all(p["targets"] for p in panels), path.name
        for panel in panels:
            assert panel["datasource"]["uid"] == "${datasource}"
            for target in panel["targets"]:
                assert references(target["expr"]), target["expr"]
    assert len(uids) == 4
