"""Monitoring: ServiceMonitors and alerts only with the Prometheus Operator, queries that select
one stack by namespace and job, metric names the services really export, and a deterministic
Grafana dashboard."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from ragops_core.metrics import Metrics
from ragops_operator.builders import monitoring
from ragops_operator.builders.labels import selector_labels
from ragops_operator.objects import Obj
from tests.support.builder_specs import OWNER, by_kind, make_spec, one

RAGOPS_METRIC = re.compile(r"\bragops_[a-z_]+\b")
SELECTOR = re.compile(r"\b([a-z_]+)\{([^}]*)\}")
BACKUP_NAMES = {
    monitoring.BACKUP_METRICS.last_success_timestamp,
    monitoring.BACKUP_METRICS.last_result,
}
# Qdrant's own series (documented at qdrant.tech/documentation/guides/monitoring) and
# Prometheus' `up`.
FOREIGN_NAMES = {"up", monitoring.QDRANT_VECTORS}


def exported_names() -> set[str]:
    """Sample names the services' registry can expose, by metric type."""
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"], "gauge": [""]}
    return {
        family.name + suffix
        for family in Metrics().registry.collect()
        for suffix in suffixes[family.type]
    }


def build(**overrides: Any) -> list[Obj]:
    return monitoring.build(make_spec(**overrides), OWNER, prometheus_operator=True)


def rules(**overrides: Any) -> dict[str, dict[str, Any]]:
    rule = one(build(**overrides), "PrometheusRule", "demo")
    (group,) = rule["spec"]["groups"]
    return {r["alert"]: r for r in group["rules"]}


def dashboard_exprs(manifests: list[Obj]) -> list[str]:
    (data,) = one(manifests, "ConfigMap", "demo-dashboards")["data"].values()
    return [t["expr"] for panel in json.loads(data)["panels"] for t in panel["targets"]]


def test_without_prometheus_operator_only_the_dashboards_remain() -> None:
    manifests = monitoring.build(make_spec(), OWNER, prometheus_operator=False)
    assert [(m["kind"], m["metadata"]["name"]) for m in manifests] == [
        ("ConfigMap", "demo-dashboards")
    ]
    assert (
        monitoring.build(
            make_spec(monitoring={"dashboards": False}), OWNER, prometheus_operator=False
        )
        == []
    )


def test_with_prometheus_operator_everything_is_rendered_and_owned() -> None:
    manifests = build()
    assert {(m["kind"], m["metadata"]["name"]) for m in manifests} == {
        ("ServiceMonitor", "demo-api"),
        ("ServiceMonitor", "demo-worker"),
        ("ServiceMonitor", "demo-qdrant"),
        ("PrometheusRule", "demo"),
        ("ConfigMap", "demo-dashboards"),
    }
    for m in manifests:
        assert m["metadata"]["ownerReferences"][0]["uid"] == OWNER.uid
        assert m["metadata"]["namespace"] == "tenant-a"


def test_labels_for_a_prometheus_that_selects_by_label_reach_monitors_and_rules_only() -> None:
    manifests = build(monitoring={"labels": {"release": "kube-prometheus-stack"}})
    for m in [*by_kind(manifests, "ServiceMonitor"), *by_kind(manifests, "PrometheusRule")]:
        assert m["metadata"]["labels"]["release"] == "kube-prometheus-stack", m["metadata"]["name"]
        assert m["metadata"]["labels"]["app.kubernetes.io/instance"] == "demo"
    assert "release" not in one(manifests, "ConfigMap")["metadata"]["labels"]


def test_spec_switches_are_honoured() -> None:
    assert by_kind(build(monitoring={"serviceMonitor": False}), "ServiceMonitor") == []
    assert by_kind(build(monitoring={"prometheusRule": False}), "PrometheusRule") == []
    assert by_kind(build(monitoring={"dashboards": False}), "ConfigMap") == []


@pytest.mark.parametrize(
    ("name", "component", "port"),
    [("demo-worker", "worker", "metrics"), ("demo-qdrant", "qdrant", "http")],
)
def test_service_monitor_scrapes_exactly_one_service(name: str, component: str, port: str) -> None:
    spec = one(build(monitoring={"intervalSeconds": 15}), "ServiceMonitor", name)["spec"]
    assert spec["selector"] == {"matchLabels": selector_labels(OWNER, component)}
    assert spec["namespaceSelector"] == {"matchNames": ["tenant-a"]}
    (endpoint,) = spec["endpoints"]
    assert (endpoint["port"], endpoint["path"], endpoint["interval"]) == (port, "/metrics", "15s")
    # Preview and headless Services share the labels; only the named Service is kept.
    assert endpoint["relabelings"] == [
        {"action": "keep", "sourceLabels": ["__meta_kubernetes_service_name"], "regex": name}
    ]


def test_api_monitor_scrapes_both_colors_under_one_job_with_their_color() -> None:
    """The rollout gate reads the preview color's series before the switch (through the preview
    Service), and a pod's series must not change job when the switch moves it to the API Service."""
    spec = one(build(), "ServiceMonitor", "demo-api")["spec"]
    assert spec["selector"] == {"matchLabels": selector_labels(OWNER, "api")}
    assert spec["podTargetLabels"] == ["ragops.dev/color"]
    (endpoint,) = spec["endpoints"]
    assert endpoint["relabelings"] == [
        {
            "action": "keep",
            "sourceLabels": ["__meta_kubernetes_service_name"],
            "regex": "demo-api|demo-api-preview",
        },
        {"action": "replace", "targetLabel": "job", "replacement": "demo-api"},
    ]


def test_qdrant_scrape_authenticates_with_the_secret_reference_only() -> None:
    assert (
        "authorization" not in one(build(), "ServiceMonitor", "demo-qdrant")["spec"]["endpoints"][0]
    )
    keyed = build(vectorStore={"qdrant": {"apiKeySecretRef": {"name": "qdrant", "key": "api-key"}}})
    endpoint = one(keyed, "ServiceMonitor", "demo-qdrant")["spec"]["endpoints"][0]
    assert endpoint["authorization"] == {
        "type": "Bearer",
        "credentials": {"name": "qdrant", "key": "api-key"},
    }


def test_alerts_cover_the_required_conditions() -> None:
    assert set(rules()) == {
        "RAGOpsAPIErrorRateHigh",
        "RAGOpsAPILatencyHigh",
        "RAGOpsQueueBacklog",
        "RAGOpsQdrantDown",
        "RAGOpsBackupFailed",
    }
    assert rules()["RAGOpsQueueBacklog"]["for"] == "15m"


def test_alert_thresholds_come_from_the_spec() -> None:
    r = rules(
        monitoring={"maxErrorRatePercent": 2.5, "maxP95LatencySeconds": 1.5, "maxQueueDepth": 1234}
    )
    assert r["RAGOpsAPIErrorRateHigh"]["expr"].endswith("> 2.5")
    assert 'status=~"5.."' in r["RAGOpsAPIErrorRateHigh"]["expr"]
    assert r["RAGOpsAPILatencyHigh"]["expr"].startswith("histogram_quantile(0.95,")
    assert r["RAGOpsAPILatencyHigh"]["expr"].endswith("> 1.5")
    assert r["RAGOpsQueueBacklog"]["expr"].endswith("> 1234")


def test_qdrant_down_fires_on_failed_or_missing_scrapes() -> None:
    expr = rules()["RAGOpsQdrantDown"]["expr"]
    assert 'up{namespace="tenant-a",job="demo-qdrant"} == 0' in expr
    assert 'absent(up{namespace="tenant-a",job="demo-qdrant"})' in expr
    # Without our ServiceMonitor the series never exists; `absent` would fire forever.
    assert "absent" not in rules(monitoring={"serviceMonitor": False})["RAGOpsQdrantDown"]["expr"]


def test_backup_alert_uses_the_shared_metric_names() -> None:
    expr = rules()["RAGOpsBackupFailed"]["expr"]
    m = monitoring.BACKUP_METRICS
    assert f"{m.last_success_timestamp}{{" in expr and f"> {26 * 3600}" in expr
    assert (
        f'{m.last_result}{{namespace="tenant-a",job="demo-backup",result="failure"}}) == 1' in expr
    )


def test_every_query_selects_this_stack_by_namespace_and_job() -> None:
    manifests = build()
    exprs = [r["expr"] for r in rules().values()] + dashboard_exprs(manifests)
    jobs = {"demo-api", "demo-worker", "demo-qdrant", "demo-backup"}
    for expr in exprs:
        selectors = SELECTOR.findall(expr)
        assert selectors, expr
        for _, matchers in selectors:
            assert 'namespace="tenant-a"' in matchers, expr
            job = re.search(r'job=~?"([^"]+)"', matchers)
            assert job is not None and set(job.group(1).split("|")) <= jobs, expr


def test_queries_use_metrics_the_services_export() -> None:
    exported = exported_names()
    manifests = build()
    exprs = [r["expr"] for r in rules().values()] + dashboard_exprs(manifests)
    used = {name for expr in exprs for name, _ in SELECTOR.findall(expr)}
    assert used - exported - BACKUP_NAMES - FOREIGN_NAMES == set()
    assert {
        n for expr in exprs for n in RAGOPS_METRIC.findall(expr)
    } - exported - BACKUP_NAMES == set()


def test_queries_are_balanced() -> None:
    for expr in [r["expr"] for r in rules().values()] + dashboard_exprs(build()):
        for open_, close in ("()", "{}", "[]"):
            assert expr.count(open_) == expr.count(close), expr


def test_dashboard_config_map_is_labelled_and_shows_the_required_panels() -> None:
    cm = one(build(), "ConfigMap", "demo-dashboards")
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    (key,) = cm["data"]
    assert key == "ragops-tenant-a-demo.json"
    board = json.loads(cm["data"][key])
    assert len(board["uid"]) <= 40
    titles = " | ".join(p["title"] for p in board["panels"]).lower()
    for topic in (
        "requests",
        "latency",
        "error",
        "cache hit",
        "search",
        "vectors",
        "queue",
        "ingestion",
        "tokens",
        "cost",
        "feedback",
        "active users",
        "cache savings",
        "index points",
    ):
        assert topic in titles, topic
    legends = [
        t["legendFormat"]
        for p in board["panels"]
        if p["title"] == "API latency"
        for t in p["targets"]
    ]
    assert legends == ["p50", "p95", "p99"]
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))


def test_dashboard_metrics_cover_ingestion_tokens_cost_and_feedback() -> None:
    used = set(RAGOPS_METRIC.findall(" ".join(dashboard_exprs(build()))))
    for name in (
        "ragops_ingest_pages_total",
        "ragops_ingest_chunks_total",
        "ragops_ingest_failures_total",
        "ragops_llm_tokens_total",
        "ragops_llm_cost_usd_total",
        "ragops_feedback_total",
        "ragops_cache_requests_total",
        "ragops_search_duration_seconds_bucket",
        "ragops_queue_depth",
        "ragops_active_users",
        "ragops_cache_saved_usd_total",
        "ragops_index_points",
    ):
        assert name in used, name


def test_dashboards_are_deterministic_and_distinct_per_stack() -> None:
    first, second = build(), build()
    assert one(first, "ConfigMap")["data"] == one(second, "ConfigMap")["data"]
    other = monitoring.build(
        make_spec(), OWNER.__class__("demo", "tenant-b", OWNER.uid), prometheus_operator=True
    )
    uid = json.loads(next(iter(one(first, "ConfigMap")["data"].values())))["uid"]
    assert uid != json.loads(next(iter(one(other, "ConfigMap")["data"].values())))["uid"]
