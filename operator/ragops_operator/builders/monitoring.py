"""Monitoring: ServiceMonitors and a PrometheusRule (when the Prometheus Operator's CRDs exist)
and a Grafana dashboard as a ConfigMap for the Grafana sidecar.

Prometheus Operator names the `job` of a ServiceMonitor target after the Service, and adds
`namespace` and `service`; every query here selects one stack by `namespace` and `job`, so two
RAGDeployments never mix. Metric names are those the services export (ragops_core/metrics.py;
a unit test fails when one goes missing) plus Qdrant's own.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from ragops_operator.api import v1alpha1 as api
from ragops_operator.builders import api as api_builder
from ragops_operator.builders import qdrant
from ragops_operator.builders.labels import (
    COMPONENT_API,
    COMPONENT_QDRANT,
    COMPONENT_STACK,
    COMPONENT_WORKER,
    Owner,
    metadata,
    selector_labels,
)
from ragops_operator.objects import Obj

MONITORING_API_VERSION = "monitoring.coreos.com/v1"
DASHBOARD_LABEL = "grafana_dashboard"

HTTP_REQUESTS = "ragops_http_requests_total"
HTTP_LATENCY_BUCKET = "ragops_http_request_duration_seconds_bucket"
CACHE_REQUESTS = "ragops_cache_requests_total"
SEARCH_LATENCY_BUCKET = "ragops_search_duration_seconds_bucket"
QUEUE_DEPTH = "ragops_queue_depth"
INGEST_PAGES = "ragops_ingest_pages_total"
INGEST_CHUNKS = "ragops_ingest_chunks_total"
INGEST_FAILURES = "ragops_ingest_failures_total"
LLM_TOKENS = "ragops_llm_tokens_total"
LLM_COST = "ragops_llm_cost_usd_total"
FEEDBACK = "ragops_feedback_total"
ACTIVE_USERS = "ragops_active_users"
CACHE_SAVED_USD = "ragops_cache_saved_usd_total"
CACHE_SAVED_TOKENS = "ragops_cache_saved_tokens_total"
INDEX_POINTS = "ragops_index_points"
QDRANT_VECTORS = "collections_vector_total"
SERVER_ERRORS = 'status=~"5.."'
# Prometheus' name for the pods' ragops.dev/color label (podTargetLabels of the API's
# ServiceMonitor).
COLOR_TARGET_LABEL = "ragops_dev_color"
CACHE_HIT = 'result="hit"'
BACKUP_FAILURE = 'result="failure"'
# SSE answers stay open for the whole generation; their duration is not request latency.
STREAMING_ROUTES = ("/api/ask/stream",)


@dataclass(frozen=True)
class BackupMetrics:
    """What the backup job (a later issue) must export, and under which `job` label, for the
    BackupFailed alert to work: `ragops_backup_last_success_timestamp_seconds` (Unix seconds of
    the last good snapshot) and `ragops_backup_last_result{result="success"|"failure"}` (1 for the
    latest result), with `job="{name}-backup"` in the RAGDeployment's namespace."""

    last_success_timestamp: str = "ragops_backup_last_success_timestamp_seconds"
    last_result: str = "ragops_backup_last_result"
    job_suffix: str = "backup"
    # A daily schedule plus two hours of slack for a slow snapshot upload.
    max_age_seconds: int = 26 * 3600


BACKUP_METRICS = BackupMetrics()


@dataclass(frozen=True)
class Jobs:
    """Prometheus `job` labels of one stack: the Service names."""

    namespace: str
    api: str
    worker: str
    qdrant: str
    backup: str

    @classmethod
    def of(cls, owner: Owner) -> Jobs:
        return cls(
            namespace=owner.namespace,
            api=owner.child_name("api"),
            worker=owner.child_name("worker"),
            qdrant=qdrant.name(owner),
            backup=owner.child_name(BACKUP_METRICS.job_suffix),
        )

    def select(self, job: str, *matchers: str) -> str:
        """A PromQL label selector for one job of this stack, plus extra matchers."""
        return "{" + ",".join([f'namespace="{self.namespace}"', f'job="{job}"', *matchers]) + "}"

    def select_any(self, *jobs: str) -> str:
        """A selector matching any of `jobs` (series both the API and the worker export)."""
        return "{" + ",".join([f'namespace="{self.namespace}"', f'job=~"{"|".join(jobs)}"']) + "}"


def _number(value: float) -> str:
    return f"{value:g}"


# ServiceMonitors -----------------------------------------------------------------------------


def service_monitor(
    spec: api.RAGDeploymentSpec,
    owner: Owner,
    *,
    component: str,
    service: str,
    port: str,
    also: tuple[str, ...] = (),
    pod_labels: tuple[str, ...] = (),
) -> Obj:
    """Selects the component's Services by label, then keeps only `service` (and `also`):
    Qdrant's headless Service carries the same labels as its client Service and would
    double-scrape. Targets found through `also` are labelled with `service`'s job, so a pod
    keeps its series when it moves from one Service to the other."""
    names = (service, *also)
    relabelings: list[dict[str, Any]] = [
        {
            "action": "keep",
            "sourceLabels": ["__meta_kubernetes_service_name"],
            "regex": "|".join(names),
        }
    ]
    if also:
        relabelings.append({"action": "replace", "targetLabel": "job", "replacement": service})
    endpoint: dict[str, Any] = {
        "port": port,
        "path": "/metrics",
        "interval": f"{spec.monitoring.interval_seconds}s",
        "relabelings": relabelings,
    }
    key_ref = spec.vector_store.qdrant.api_key_secret_ref
    if component == COMPONENT_QDRANT and key_ref is not None:
        # Qdrant guards /metrics with the API key; it accepts it as a bearer token.
        endpoint["authorization"] = {
            "type": "Bearer",
            "credentials": {"name": key_ref.name, "key": key_ref.key},
        }
    monitor_spec: dict[str, Any] = {
        "selector": {"matchLabels": selector_labels(owner, component)},
        "namespaceSelector": {"matchNames": [owner.namespace]},
        "endpoints": [endpoint],
    }
    if pod_labels:
        monitor_spec["podTargetLabels"] = list(pod_labels)
    return {
        "apiVersion": MONITORING_API_VERSION,
        "kind": "ServiceMonitor",
        "metadata": metadata(owner, service, component, extra_labels=spec.monitoring.labels),
        "spec": monitor_spec,
    }


def service_monitors(spec: api.RAGDeploymentSpec, owner: Owner) -> list[Obj]:
    jobs = Jobs.of(owner)
    return [
        # The preview Service exists only during a rollout and selects the other color than the
        # API Service, so both are scraped without duplicates: the rollout gate needs the new
        # color's series before it serves. The color becomes the `ragops_dev_color` label.
        service_monitor(
            spec,
            owner,
            component=COMPONENT_API,
            service=jobs.api,
            port="http",
            also=(api_builder.preview_service_name(owner),),
            pod_labels=(api_builder.COLOR_LABEL,),
        ),
        service_monitor(
            spec, owner, component=COMPONENT_WORKER, service=jobs.worker, port="metrics"
        ),
        service_monitor(spec, owner, component=COMPONENT_QDRANT, service=jobs.qdrant, port="http"),
    ]


# PrometheusRule ------------------------------------------------------------------------------


def _alert(
    name: str, expr: str, *, for_: str, severity: str, owner: Owner, summary: str, description: str
) -> dict[str, Any]:
    return {
        "alert": name,
        "expr": expr,
        "for": for_,
        "labels": {"severity": severity, "namespace": owner.namespace, "ragdeployment": owner.name},
        "annotations": {"summary": summary, "description": description},
    }


def api_error_percent(jobs: Jobs, *matchers: str, window: str = "5m") -> str:
    """Percent of the API's requests answered with a 5xx (the alert, the dashboard and the
    rollout gate, which adds a color matcher and its own window)."""
    errors = (
        f"sum(rate({HTTP_REQUESTS}{jobs.select(jobs.api, SERVER_ERRORS, *matchers)}[{window}]))"
    )
    return (
        f"100 * {errors} / sum(rate({HTTP_REQUESTS}{jobs.select(jobs.api, *matchers)}[{window}]))"
    )


def api_p95_seconds(jobs: Jobs, *matchers: str, window: str = "5m") -> str:
    """p95 latency of the API's requests, streamed answers excluded (they stay open for the
    whole generation; their duration is not request latency)."""
    not_streaming = 'route!~"' + "|".join(STREAMING_ROUTES) + '"'
    buckets = (
        f"rate({HTTP_LATENCY_BUCKET}{jobs.select(jobs.api, not_streaming, *matchers)}[{window}])"
    )
    return f"histogram_quantile(0.95, sum by (le) ({buckets}))"


def api_error_rate_expr(spec: api.RAGDeploymentSpec, jobs: Jobs) -> str:
    return f"{api_error_percent(jobs)} > {_number(spec.monitoring.max_error_rate_percent)}"


def api_latency_expr(spec: api.RAGDeploymentSpec, jobs: Jobs) -> str:
    return f"{api_p95_seconds(jobs)} > {_number(spec.monitoring.max_p95_latency_seconds)}"


def queue_depth_expr(spec: api.RAGDeploymentSpec, jobs: Jobs) -> str:
    return f"max({QUEUE_DEPTH}{jobs.select(jobs.worker)}) > {spec.monitoring.max_queue_depth}"


def qdrant_down_expr(spec: api.RAGDeploymentSpec, jobs: Jobs) -> str:
    """`absent` only when our ServiceMonitor scrapes Qdrant: otherwise the series never exists
    and the alert would fire forever."""
    up = f"up{jobs.select(jobs.qdrant)}"
    if spec.monitoring.service_monitor:
        return f"{up} == 0 or absent({up})"
    return f"{up} == 0"


def backup_failed_expr(jobs: Jobs) -> str:
    m = BACKUP_METRICS
    stale = (
        f"time() - max({m.last_success_timestamp}{jobs.select(jobs.backup)}) > {m.max_age_seconds}"
    )
    failed = f"max({m.last_result}{jobs.select(jobs.backup, BACKUP_FAILURE)}) == 1"
    return f"({stale}) or ({failed})"


def _alerts(spec: api.RAGDeploymentSpec, owner: Owner) -> list[dict[str, Any]]:
    jobs, m, who = Jobs.of(owner), spec.monitoring, f"{owner.namespace}/{owner.name}"
    value = "{{ $value | humanize }}"
    return [
        _alert(
            "RAGOpsAPIErrorRateHigh",
            api_error_rate_expr(spec, jobs),
            for_="5m",
            severity="critical",
            owner=owner,
            summary=f"RAGOps API {who} answers too many 5xx",
            description=(
                f"{value}% of requests failed over 5 minutes "
                f"(limit {_number(m.max_error_rate_percent)}%)."
            ),
        ),
        _alert(
            "RAGOpsAPILatencyHigh",
            api_latency_expr(spec, jobs),
            for_="10m",
            severity="warning",
            owner=owner,
            summary=f"RAGOps API {who} is slow",
            description=(
                f"p95 latency is {value}s (limit {_number(m.max_p95_latency_seconds)}s), "
                "streaming excluded."
            ),
        ),
        _alert(
            "RAGOpsQueueBacklog",
            queue_depth_expr(spec, jobs),
            for_="15m",
            severity="warning",
            owner=owner,
            summary=f"RAGOps ingestion queue of {who} is backing up",
            description=(
                f"{value} documents wait (limit {m.max_queue_depth}); "
                "check the workers and their HPA."
            ),
        ),
        _alert(
            "RAGOpsQdrantDown",
            qdrant_down_expr(spec, jobs),
            for_="5m",
            severity="critical",
            owner=owner,
            summary=f"Qdrant of {who} is down",
            description="A Qdrant peer is not scraped successfully, or no peer is scraped at all.",
        ),
        _alert(
            "RAGOpsBackupFailed",
            backup_failed_expr(jobs),
            for_="5m",
            severity="critical",
            owner=owner,
            summary=f"Qdrant backup of {who} failed",
            description=(
                "The last backup failed, or none succeeded for "
                f"{BACKUP_METRICS.max_age_seconds // 3600} hours."
            ),
        ),
        *_quality_alerts(spec, owner),
    ]


def quality_degraded_expr(owner: Owner) -> str:
    """The operator's gauge (control/quality_metrics.py), labelled with the stack it is about."""
    stack = f'ragdeployment_namespace="{owner.namespace}",ragdeployment="{owner.name}"'
    return f"max(ragops_quality_degraded{{{stack}}}) == 1"


def _quality_alerts(spec: api.RAGDeploymentSpec, owner: Owner) -> list[dict[str, Any]]:
    """Only with a scheduled evaluation (spec.api.rollout.qualityGate.schedule)."""
    gate = spec.api.rollout.quality_gate
    if gate is None or gate.schedule is None:
        return []
    return [
        _alert(
            "RAGOpsQualityDegraded",
            quality_degraded_expr(owner),
            for_="0m",
            severity="warning",
            owner=owner,
            summary=f"Answer quality of RAGOps {owner.namespace}/{owner.name} is below its gate",
            description=(
                "The scheduled evaluation of the active color failed a threshold: see the "
                "QualityDegraded condition and status.lastQualityCheck."
            ),
        )
    ]


def prometheus_rule(spec: api.RAGDeploymentSpec, owner: Owner) -> Obj:
    return {
        "apiVersion": MONITORING_API_VERSION,
        "kind": "PrometheusRule",
        "metadata": metadata(
            owner, owner.name, COMPONENT_STACK, extra_labels=spec.monitoring.labels
        ),
        "spec": {
            "groups": [
                {"name": f"ragops.{owner.namespace}.{owner.name}", "rules": _alerts(spec, owner)}
            ]
        },
    }


# Grafana dashboard ---------------------------------------------------------------------------


def _panel(index: int, title: str, unit: str, targets: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "id": index + 1,
        "type": "timeseries",
        "title": title,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": 8, "w": 12, "x": (index % 2) * 12, "y": (index // 2) * 8},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [
            {"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend}
            for i, (expr, legend) in enumerate(targets)
        ],
    }


def _quantile(q: float, bucket: str, selector: str, by: str = "le") -> str:
    return f"histogram_quantile({q}, sum by ({by}) (rate({bucket}{selector}[5m])))"


def _panel_specs(jobs: Jobs) -> list[tuple[str, str, list[tuple[str, str]]]]:
    api_, worker, both = (
        jobs.select(jobs.api),
        jobs.select(jobs.worker),
        jobs.select_any(jobs.api, jobs.worker),
    )
    return [
        (
            "Requests per second",
            "reqps",
            [(f"sum by (route) (rate({HTTP_REQUESTS}{api_}[5m]))", "{{route}}")],
        ),
        (
            "API latency",
            "s",
            [
                (_quantile(q, HTTP_LATENCY_BUCKET, api_), f"p{int(q * 100)}")
                for q in (0.5, 0.95, 0.99)
            ],
        ),
        ("API error rate (5xx)", "percent", [(api_error_percent(jobs), "5xx")]),
        (
            "Cache hit rate",
            "percentunit",
            [
                (
                    f"sum by (kind) (rate({CACHE_REQUESTS}{jobs.select(jobs.api, CACHE_HIT)}[5m]))"
                    f" / sum by (kind) (rate({CACHE_REQUESTS}{api_}[5m]))",
                    "{{kind}}",
                )
            ],
        ),
        (
            "Search latency p95",
            "s",
            [(_quantile(0.95, SEARCH_LATENCY_BUCKET, api_, "le, mode"), "{{mode}}")],
        ),
        (
            "Vectors stored (all replicas)",
            "short",
            [(f"sum({QDRANT_VECTORS}{jobs.select(jobs.qdrant)})", "vectors")],
        ),
        ("Ingestion queue depth", "short", [(f"max({QUEUE_DEPTH}{worker})", "queued")]),
        (
            "Ingestion per second",
            "short",
            [
                (f"sum(rate({INGEST_PAGES}{worker}[5m]))", "pages"),
                (f"sum(rate({INGEST_CHUNKS}{worker}[5m]))", "chunks"),
                (f"sum by (reason) (rate({INGEST_FAILURES}{worker}[5m]))", "failures {{reason}}"),
            ],
        ),
        (
            "LLM tokens per second",
            "short",
            [(f"sum by (model, kind) (rate({LLM_TOKENS}{both}[5m]))", "{{model}} {{kind}}")],
        ),
        (
            "LLM cost per hour",
            "currencyUSD",
            [(f"sum by (model) (increase({LLM_COST}{both}[1h]))", "{{model}}")],
        ),
        (
            "Answer feedback per hour",
            "short",
            [(f"sum by (rating) (increase({FEEDBACK}{api_}[1h]))", "{{rating}}")],
        ),
        # Each API replica counts the users it served: max, a lower bound of the stack's users.
        ("Active users", "short", [(f"max by (window) ({ACTIVE_USERS}{api_})", "{{window}}")]),
        (
            "Cache savings per hour",
            "short",
            [
                (f"sum(increase({CACHE_SAVED_USD}{api_}[1h]))", "USD"),
                (f"sum(increase({CACHE_SAVED_TOKENS}{api_}[1h]))", "tokens"),
            ],
        ),
        # Every process reads the same collection: max, not sum.
        ("Index points", "short", [(f"max({INDEX_POINTS}{both})", "points")]),
    ]


def dashboard(owner: Owner) -> dict[str, Any]:
    # Grafana uids are at most 40 characters and global to the Grafana instance.
    uid = "ragops-" + hashlib.sha256(f"{owner.namespace}/{owner.name}".encode()).hexdigest()[:16]
    return {
        "uid": uid,
        "title": f"RAGOps {owner.namespace}/{owner.name}",
        "tags": ["ragops"],
        "timezone": "browser",
        "schemaVersion": 39,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "label": "Data source",
                    "type": "datasource",
                    "query": "prometheus",
                }
            ]
        },
        "panels": [_panel(i, *panel) for i, panel in enumerate(_panel_specs(Jobs.of(owner)))],
    }


def dashboards_config_map(owner: Owner) -> Obj:
    """The key is unique per stack: the Grafana sidecar writes all dashboards into one folder."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(
            owner,
            owner.child_name("dashboards"),
            COMPONENT_STACK,
            extra_labels={DASHBOARD_LABEL: "1"},
        ),
        "data": {
            f"ragops-{owner.namespace}-{owner.name}.json": json.dumps(
                dashboard(owner), sort_keys=True, indent=2
            )
        },
    }


def build(spec: api.RAGDeploymentSpec, owner: Owner, *, prometheus_operator: bool) -> list[Obj]:
    """Without the Prometheus Operator's CRDs only the dashboards remain (the reconciler reports
    monitoring as unavailable in a condition)."""
    m = spec.monitoring
    manifests: list[Obj] = []
    if prometheus_operator and m.service_monitor:
        manifests.extend(service_monitors(spec, owner))
    if prometheus_operator and m.prometheus_rule:
        manifests.append(prometheus_rule(spec, owner))
    if m.dashboards:
        manifests.append(dashboards_config_map(owner))
    return manifests
