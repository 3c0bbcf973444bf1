"""Blue/green rollouts of the API end to end: kwok makes pods ready; a color is made unready by
patching its pods' Ready condition. Every scenario checks, at every poll, that the API Service
selects a color with ready pods."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes.dynamic.exceptions import NotFoundError
from prometheus_client import Counter, Histogram

from ragops_devcluster.kubectl import Kubectl
from ragops_devcluster.waiting import Pending
from ragops_operator.builders.labels import Owner
from ragops_operator.builders.monitoring import Jobs
from ragops_operator.control.prometheus import color_queries
from tests.support.cluster import Kube, Obj, Waits, conditions
from tests.support.operator import RAGD, ragdeployment, wait_ready
from tests.support.prometheus import (
    Exporter,
    Prometheus,
    running_exporter,
    running_prometheus,
    steady_traffic,
)

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("ragops_operator")]

FAST = {"observeSeconds": 6, "retireDelaySeconds": 2, "progressDeadlineSeconds": 20}


class Traffic:
    """Watches what the API Service selects; fails if it ever selects a color without ready pods."""

    def __init__(self, kube: Kube, namespace: str, name: str) -> None:
        self.kube, self.namespace, self.name = kube, namespace, name
        self.seen: list[str] = []
        self.broken: set[str] = (
            set()
        )  # colors the test itself made unready: the operator has to react first

    def check(self) -> str:
        selector = self.kube.get("v1", "Service", f"{self.name}-api", self.namespace)["spec"][
            "selector"
        ]
        color = selector["ragops.dev/color"]
        labels = ",".join(f"{k}={v}" for k, v in selector.items())
        pods = self.kube.list("v1", "Pod", self.namespace, labels)
        ready = [p for p in pods if conditions(p).get("Ready") == "True"]
        assert ready or color in self.broken, (
            f"the API Service selects {color}, which has no ready pod"
        )
        if not self.seen or self.seen[-1] != color:
            self.seen.append(color)
        return str(color)


def _rollout(kube: Kube, namespace: str, name: str) -> dict[str, Any]:
    return dict(
        kube.get(*RAGD, name, namespace).get("status", {}).get("api", {}).get("rollout") or {}
    )


def _until(
    waits: Waits,
    traffic: Traffic,
    check: Callable[[], str | None],
    *,
    what: str,
    timeout: float = 90,
) -> None:
    def probe() -> bool | Pending:
        traffic.check()
        seen = check()
        return True if seen is None else Pending(seen)

    waits.until(probe, timeout=timeout, what=what, interval=0.3)


def _patch(kubectl: Kubectl, namespace: str, name: str, patch: dict[str, Any]) -> None:
    kubectl.run(
        ["patch", "ragd", name, "-n", namespace, "--type", "merge", "-p", json.dumps(patch)]
    )


def _phase_is(
    kube: Kube, namespace: str, name: str, phase: str, reason: str | None = None
) -> Callable[[], str | None]:
    def check() -> str | None:
        state = _rollout(kube, namespace, name)
        ok = state.get("phase") == phase and (reason is None or state.get("reason") == reason)
        return (
            None
            if ok
            else f"phase={state.get('phase')} reason={state.get('reason')} {state.get('message')}"
        )

    return check


def _make_unready(kube: Kube, kubectl: Kubectl, namespace: str, color: str) -> None:
    for pod in kube.list("v1", "Pod", namespace, f"ragops.dev/color={color}"):
        index = [c["type"] for c in pod["status"]["conditions"]].index("Ready")
        patch = [{"op": "replace", "path": f"/status/conditions/{index}/status", "value": "False"}]
        kubectl.run(
            [
                "patch",
                "pod",
                pod["metadata"]["name"],
                "-n",
                namespace,
                "--subresource=status",
                "--type=json",
                "-p",
                json.dumps(patch),
            ]
        )


def _worker_image(kube: Kube, namespace: str) -> str:
    worker = kube.get("apps/v1", "Deployment", "rag-worker", namespace)
    return str(worker["spec"]["template"]["spec"]["containers"][0]["image"])


def _deployment_exists(kube: Kube, namespace: str, name: str) -> bool:
    try:
        kube.get("apps/v1", "Deployment", name, namespace)
    except NotFoundError:
        return False
    return True


def _start(kube: Kube, waits: Waits, namespace: str, **rollout: Any) -> Traffic:
    kube.create(
        ragdeployment(
            "rag", namespace, api={"replicas": {"min": 2, "max": 4}, "rollout": {**FAST, **rollout}}
        ),
        namespace,
    )
    wait_ready(waits, namespace, "rag")
    traffic = Traffic(kube, namespace, "rag")
    assert traffic.check() == "blue"
    return traffic


def test_a_template_change_switches_colors_after_the_health_gate_and_retires_the_old(
    kube: Kube, kubectl: Kubectl, waits: Waits, namespace: str
) -> None:
    traffic = _start(kube, waits, namespace)
    _patch(kubectl, namespace, "rag", {"spec": {"image": "ragops/ragops:next"}})
    _until(waits, traffic, _phase_is(kube, namespace, "rag", "Observing"), what="green promoted")
    assert traffic.check() == "green"
    green = kube.get("apps/v1", "Deployment", "rag-api-green", namespace)
    assert green["spec"]["template"]["spec"]["containers"][0]["image"] == "ragops/ragops:next"
    assert green["status"]["readyReplicas"] == 2, "the preview started at full size"
    assert _deployment_exists(kube, namespace, "rag-api-blue"), (
        "blue is kept while green is observed"
    )
    _until(
        waits,
        traffic,
        _phase_is(kube, namespace, "rag", "Stable", "RolloutComplete"),
        what="rollout complete",
    )
    _until(
        waits,
        traffic,
        lambda: (
            None if not _deployment_exists(kube, namespace, "rag-api-blue") else "blue still there"
        ),
        what="blue retired",
    )
    obj = wait_ready(waits, namespace, "rag")
    assert (
        obj["status"]["api"]["activeColor"] == "green"
        and obj["status"]["api"]["activeImage"] == "ragops/ragops:next"
    )
    assert _worker_image(kube, namespace) == "ragops/ragops:next", "the worker follows the API"
    assert traffic.seen == ["blue", "green"]


def test_a_preview_that_never_gets_ready_is_aborted_and_blue_keeps_serving(
    kube: Kube, kubectl: Kubectl, waits: Waits, namespace: str
) -> None:
    traffic = _start(kube, waits, namespace)
    huge = {"requests": {"cpu": "500", "memory": "1Gi"}, "limits": {"cpu": "500", "memory": "2Gi"}}
    _patch(kubectl, namespace, "rag", {"spec": {"api": {"resources": huge}}})
    _until(
        waits,
        traffic,
        _phase_is(kube, namespace, "rag", "Progressing", "PreviewNotReady"),
        what="preview waiting",
    )
    assert _rollout(kube, namespace, "rag")["previewColor"] == "green"
    _until(
        waits,
        traffic,
        _phase_is(kube, namespace, "rag", "Aborted", "PreviewNotHealthy"),
        what="rollout aborted",
        timeout=60,
    )
    _until(
        waits,
        traffic,
        lambda: (
            None
            if not _deployment_exists(kube, namespace, "rag-api-green")
            else "green still there"
        ),
        what="green removed",
    )
    obj = kube.get(*RAGD, "rag", namespace)
    assert conditions(obj)["Degraded"] == "True" and conditions(obj)["Ready"] == "True"
    assert traffic.seen == ["blue"]
    blue = kube.get("apps/v1", "Deployment", "rag-api-blue", namespace)
    assert (
        blue["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] != "500"
    ), "the failed template reached blue"


def test_readiness_lost_while_observed_rolls_back_to_blue(
    kube: Kube, kubectl: Kubectl, waits: Waits, namespace: str
) -> None:
    traffic = _start(kube, waits, namespace, observeSeconds=120)
    _patch(kubectl, namespace, "rag", {"spec": {"image": "ragops/ragops:broken"}})
    _until(waits, traffic, _phase_is(kube, namespace, "rag", "Observing"), what="green promoted")
    traffic.broken.add("green")
    _make_unready(kube, kubectl, namespace, "green")
    _until(waits, traffic, _phase_is(kube, namespace, "rag", "RolledBack"), what="rolled back")
    assert traffic.check() == "blue"
    _until(
        waits,
        traffic,
        lambda: (
            None
            if not _deployment_exists(kube, namespace, "rag-api-green")
            else "green still there"
        ),
        what="green removed",
    )
    events = kube.list("v1", "Event", namespace)
    assert any(e["reason"] == "RolledBack" and "readiness lost" in e["message"] for e in events)
    assert traffic.seen == ["blue", "green", "blue"]
    # The worker rolls with the API, behind the same gate: it never ran the failed image.
    assert _worker_image(kube, namespace) == "ragops/ragops:test"


def test_manual_promotion_and_abort(
    kube: Kube, kubectl: Kubectl, waits: Waits, namespace: str
) -> None:
    traffic = _start(kube, waits, namespace, autoPromote=False)
    _patch(kubectl, namespace, "rag", {"spec": {"image": "ragops/ragops:v2"}})
    _until(
        waits,
        traffic,
        _phase_is(kube, namespace, "rag", "Progressing", "AwaitingPromotion"),
        what="awaiting promotion",
    )
    preview = kube.get("v1", "Service", "rag-api-preview", namespace)["spec"]["selector"][
        "ragops.dev/color"
    ]
    assert (traffic.check(), preview) == ("blue", "green")
    kubectl.run(["annotate", "ragd", "rag", "-n", namespace, "ragops.dev/rollout=promote"])
    _until(waits, traffic, _phase_is(kube, namespace, "rag", "Observing"), what="promoted by hand")
    annotations: dict[str, str] = (
        kube.get(*RAGD, "rag", namespace)["metadata"].get("annotations") or {}
    )
    assert "ragops.dev/rollout" not in annotations, "the one-shot request was not consumed"
    _until(waits, traffic, _phase_is(kube, namespace, "rag", "Stable"), what="v2 settled")

    _patch(kubectl, namespace, "rag", {"spec": {"image": "ragops/ragops:v3"}})
    _until(
        waits,
        traffic,
        _phase_is(kube, namespace, "rag", "Progressing", "AwaitingPromotion"),
        what="v3 awaiting promotion",
    )
    kubectl.run(["annotate", "ragd", "rag", "-n", namespace, "ragops.dev/rollout=abort"])
    _until(
        waits,
        traffic,
        _phase_is(kube, namespace, "rag", "Aborted", "AbortedByUser"),
        what="aborted by hand",
    )
    _until(
        waits,
        traffic,
        lambda: (
            None
            if not _deployment_exists(kube, namespace, "rag-api-blue")
            else "blue (v3 preview) still there"
        ),
        what="preview removed",
    )
    obj: Obj = kube.get(*RAGD, "rag", namespace)
    assert (
        obj["status"]["api"]["activeColor"] == "green"
        and obj["status"]["api"]["activeImage"] == "ragops/ragops:v2"
    )
    assert traffic.seen == ["blue", "green"]


# The gate's thresholds from a real Prometheus ------------------------------------------------
# kwok's API pods serve nothing, so each color's series come from an exporter in the test,
# scraped with the labels the API's ServiceMonitor gives real pods (job, namespace, color).

WATCHED = {
    "observeSeconds": 60,
    "retireDelaySeconds": 1,
    "progressDeadlineSeconds": 20,
    "analysisWindowSeconds": 10,
    "analysisIntervalSeconds": 5,
}


@dataclass
class ColorTraffic:
    """What one color's API pods report: requests by status and their latency."""

    exporter: Exporter
    error_share: float = 0.0
    latency_seconds: float = 0.05

    def __post_init__(self) -> None:
        registry = self.exporter.registry
        self.requests = Counter(
            "ragops_http_requests", "Requests.", ["method", "route", "status"], registry=registry
        )
        self.latency = Histogram(
            "ragops_http_request_duration_seconds",
            "Latency.",
            ["method", "route"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10),
            registry=registry,
        )
        self._served = 0

    def step(self) -> None:
        self._served += 1
        # Spread evenly, so any window holds about error_share of failures.
        failed = int(self._served * self.error_share) != int((self._served - 1) * self.error_share)
        self.requests.labels("POST", "/api/ask", "500" if failed else "200").inc()
        self.latency.labels("POST", "/api/ask").observe(self.latency_seconds)


@contextmanager
def _api_metrics(
    tmp_path: Path, namespace: str
) -> Iterator[tuple[Prometheus, dict[str, ColorTraffic]]]:
    with running_exporter() as blue, running_exporter() as green:
        colors = {"blue": ColorTraffic(blue), "green": ColorTraffic(green)}
        targets = [
            e.target(namespace=namespace, ragops_dev_color=c)
            for c, e in (("blue", blue), ("green", green))
        ]
        with (
            running_prometheus(tmp_path, targets, job="rag-api") as prometheus,
            steady_traffic(
                [blue, green], lambda: [t.step() for t in colors.values()], per_second=20
            ),
        ):
            yield prometheus, colors


def _gate_sees(
    prometheus: Prometheus,
    namespace: str,
    color: str,
    *,
    error_rate: bool = False,
    p95: float | None = None,
) -> None:
    """Wait until the operator's own queries would see what the test set up."""
    queries = color_queries(
        Jobs.of(Owner("rag", namespace, "")), color, WATCHED["analysisWindowSeconds"]
    )  # type: ignore[arg-type]
    if error_rate:
        prometheus.wait_for(
            queries.error_rate_percent, until=lambda r: bool(r) and r[0].value > 5, timeout=30
        )
    if p95 is not None:
        prometheus.wait_for(
            queries.p95_seconds, until=lambda r: bool(r) and r[0].value > p95, timeout=30
        )


def _start_watched(kube: Kube, waits: Waits, namespace: str, url: str) -> Traffic:
    spec = {
        "api": {"replicas": {"min": 2, "max": 4}, "rollout": WATCHED},
        "monitoring": {"prometheusUrl": url},
    }
    kube.create(ragdeployment("rag", namespace, **spec), namespace)
    wait_ready(waits, namespace, "rag")
    traffic = Traffic(kube, namespace, "rag")
    assert traffic.check() == "blue"
    return traffic


def test_a_preview_over_the_error_rate_threshold_is_never_promoted(
    kube: Kube, kubectl: Kubectl, waits: Waits, namespace: str, tmp_path: Path
) -> None:
    with _api_metrics(tmp_path, namespace) as (prometheus, colors):
        colors["green"].error_share = 0.4
        _gate_sees(prometheus, namespace, "green", error_rate=True)
        traffic = _start_watched(kube, waits, namespace, prometheus.url)
        _patch(kubectl, namespace, "rag", {"spec": {"image": "ragops/ragops:erroring"}})

        def held_back_by_the_error_rate() -> str | None:
            state = _rollout(kube, namespace, "rag")
            green = (
                kube.get("apps/v1", "Deployment", "rag-api-green", namespace)
                if _deployment_exists(kube, namespace, "rag-api-green")
                else {}
            )
            ready = (green.get("status") or {}).get("readyReplicas") == 2
            if (
                state.get("phase") == "Progressing"
                and ready
                and "error rate" in str(state.get("message"))
            ):
                return None
            return f"phase={state.get('phase')} green ready={ready} {state.get('message')}"

        _until(
            waits,
            traffic,
            held_back_by_the_error_rate,
            what="every green pod ready, the switch held by the error rate",
        )
        _until(
            waits,
            traffic,
            _phase_is(kube, namespace, "rag", "Aborted", "PreviewNotHealthy"),
            what="rollout aborted",
            timeout=60,
        )
        message = _rollout(kube, namespace, "rag")["message"]
        found = re.search(r"error rate ([0-9.]+)% over 5%", message)
        assert found is not None and 35 <= float(found.group(1)) <= 45, message
        assert traffic.seen == ["blue"], "the Service never selected the erroring color"


def test_latency_over_the_threshold_while_observed_rolls_back(
    kube: Kube, kubectl: Kubectl, waits: Waits, namespace: str, tmp_path: Path
) -> None:
    with _api_metrics(tmp_path, namespace) as (prometheus, colors):
        prometheus.wait_for_targets_up()
        traffic = _start_watched(kube, waits, namespace, prometheus.url)
        _patch(kubectl, namespace, "rag", {"spec": {"image": "ragops/ragops:slow"}})
        _until(
            waits,
            traffic,
            _phase_is(kube, namespace, "rag", "Observing"),
            what="healthy green promoted",
        )
        assert traffic.check() == "green"
        colors["green"].latency_seconds = 5.0
        _gate_sees(prometheus, namespace, "green", p95=2.0)
        _until(
            waits,
            traffic,
            _phase_is(kube, namespace, "rag", "RolledBack"),
            what="rolled back on latency",
            timeout=60,
        )
        assert traffic.check() == "blue" and traffic.seen == ["blue", "green", "blue"]
        events = kube.list("v1", "Event", namespace)
        assert any(e["reason"] == "RolledBack" and "p95 latency" in e["message"] for e in events)


def test_an_unreachable_prometheus_leaves_the_gate_to_readiness(
    kube: Kube, kubectl: Kubectl, waits: Waits, namespace: str
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    traffic = _start_watched(kube, waits, namespace, f"http://127.0.0.1:{port}")
    _patch(kubectl, namespace, "rag", {"spec": {"image": "ragops/ragops:next"}})
    _until(
        waits,
        traffic,
        _phase_is(kube, namespace, "rag", "Observing"),
        what="green promoted without metrics",
    )
    assert traffic.check() == "green"
