"""The operator's own Prometheus metrics, in prometheus_client's default registry.

`ragops operator --metrics-port` serves that registry (start_http_server, as prometheus_client
ships it), so other operator modules register theirs there too. The reconcile path calls the
few hooks below; everything else (per-stack conditions and rollout phases) is read from a small
table of the last status each stack was given, at scrape time, so a stack's series disappear
when the stack does (`forget`) instead of lingering as stale gauges.

Labels stay small: results, event reasons and kinds come from fixed sets in this code; the
per-stack gauges carry the RAGDeployment's namespace and name, as kube-state-metrics does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from functools import wraps
from typing import Any, ParamSpec, Protocol, TypeVar

import aiohttp
from prometheus_client import REGISTRY, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from ragops_operator.control.kube import RetryLater
from ragops_operator.objects import Obj

P = ParamSpec("P")
T = TypeVar("T")

# A reconcile takes milliseconds when nothing changes and seconds when a stack is created or a
# volume grows (an orphaning StatefulSet delete).
RECONCILE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
# Not `namespace`: Prometheus attaches the operator pod's own as a target label, and would rename
# ours to exported_namespace. The PrometheusRule's alerts use `ragdeployment` too.
STACK_LABELS = ("ragdeployment_namespace", "ragdeployment")
RESULTS = ("ready", "not_ready", "retry", "error")

# The rollout planner's Events (planning/rollout.py) and what each says about a rollout.
ROLLOUT_EVENTS = {
    "RolloutStarted": "started",
    "Promoted": "promoted",
    "RolloutObserved": "observed",
    "Retired": "completed",
    "RolledBack": "rolled_back",
    "RollbackImpossible": "rollback_impossible",
    "RolloutAborted": "aborted",
    "RolloutCancelled": "cancelled",
    "RolloutSuperseded": "superseded",
}

RECONCILES = Counter(
    "ragops_operator_reconciles_total",
    "RAGDeployment reconciles, by result (ready, not_ready, retry: a transient API error, "
    "error: anything else).",
    ["result"],
)
RECONCILE_SECONDS = Histogram(
    "ragops_operator_reconcile_duration_seconds",
    "Time of one RAGDeployment reconcile (gather, decide, write, status).",
    buckets=RECONCILE_BUCKETS,
)
EVENTS = Counter(
    "ragops_operator_events_total",
    "Events the operator recorded on RAGDeployments, by type and reason.",
    ["type", "reason"],
)
ROLLOUTS = Counter(
    "ragops_operator_rollouts_total",
    "Blue/green rollout steps and outcomes of the API, by result (started, promoted, observed, "
    "completed, rolled_back, rollback_impossible, aborted, cancelled, superseded).",
    ["result"],
)
DRIFT_REPAIRS = Counter(
    "ragops_operator_drift_repairs_total",
    "Children changed or deleted by someone else and put back by a re-apply, by kind.",
    ["kind"],
)
for _label in RESULTS:  # every series exists from the start: rate() sees the first one
    RECONCILES.labels(_label)
for _label in ROLLOUT_EVENTS.values():
    ROLLOUTS.labels(_label)


def _result(outcome: Any) -> str:
    return "ready" if getattr(outcome, "ready", False) else "not_ready"


def timed_reconcile(
    reconcile: Callable[P, Awaitable[T]],
) -> Callable[P, Awaitable[T]]:
    """Decorates Reconciler.reconcile: its duration, and its result from the returned Outcome's
    `ready` or the exception it raised (re-raised unchanged)."""

    @wraps(reconcile)
    async def timed(*args: P.args, **kwargs: P.kwargs) -> T:
        started = time.perf_counter()
        try:
            outcome = await reconcile(*args, **kwargs)
        except (RetryLater, aiohttp.ClientError, TimeoutError):
            RECONCILES.labels("retry").inc()
            raise
        except Exception:
            RECONCILES.labels("error").inc()
            raise
        finally:
            RECONCILE_SECONDS.observe(time.perf_counter() - started)
        RECONCILES.labels(_result(outcome)).inc()
        return outcome

    return timed


def event_recorded(type_: str, reason: str) -> None:
    EVENTS.labels(type_, reason).inc()
    rollout = ROLLOUT_EVENTS.get(reason)
    if rollout is not None:
        ROLLOUTS.labels(rollout).inc()


def is_repair(*, applied_before: bool, live: Obj | None, result: Obj) -> bool:
    """An apply of the very manifest applied last time that changed the object (or recreated
    it) undid someone else's change; a first apply or a changed spec is not drift."""
    if not applied_before:
        return False
    if live is None:
        return True
    version = live.get("metadata", {}).get("resourceVersion")
    return bool(version != result.get("metadata", {}).get("resourceVersion"))


def child_applied(manifest: Obj, *, applied_before: bool, live: Obj | None, result: Obj) -> None:
    if is_repair(applied_before=applied_before, live=live, result=result):
        DRIFT_REPAIRS.labels(str(manifest.get("kind"))).inc()


class _Stacks(Collector):
    """The last status each RAGDeployment was given, as gauges built on each scrape."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # the exposition server scrapes from its own thread
        self._status: dict[tuple[str, str], Obj] = {}

    def record(self, namespace: str, name: str, status: Obj) -> None:
        with self._lock:
            self._status[(namespace, name)] = status

    def forget(self, namespace: str, name: str) -> None:
        with self._lock:
            self._status.pop((namespace, name), None)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._lock:
            snapshot = dict(self._status)
        yield from stack_families(snapshot)


def stack_families(statuses: dict[tuple[str, str], Obj]) -> list[GaugeMetricFamily]:
    """Pure: the per-stack gauges for a table of statuses."""
    stacks = GaugeMetricFamily(
        "ragops_operator_stacks", "RAGDeployments this operator replica reconciles."
    )
    stacks.add_metric([], len(statuses))
    condition = GaugeMetricFamily(
        "ragops_operator_stack_condition",
        "1 for each RAGDeployment condition's current status (True, False, Unknown).",
        labels=[*STACK_LABELS, "condition", "status"],
    )
    phase = GaugeMetricFamily(
        "ragops_operator_stack_rollout_phase",
        "1 for each RAGDeployment's blue/green rollout phase (Stable, Progressing, Observing, "
        "Retiring, RolledBack, Aborted).",
        labels=[*STACK_LABELS, "phase"],
    )
    for (namespace, name), status in sorted(statuses.items()):
        for cond in status.get("conditions") or []:
            condition.add_metric(
                [namespace, name, str(cond.get("type")), str(cond.get("status"))], 1
            )
        rollout = (status.get("api") or {}).get("rollout") or {}
        phase.add_metric([namespace, name, str(rollout.get("phase") or "Stable")], 1)
    return [stacks, condition, phase]


STACKS = _Stacks()
REGISTRY.register(STACKS)


def status_written(body: Obj, status: Obj) -> None:
    meta = body["metadata"]
    STACKS.record(meta["namespace"], meta["name"], status)


def forget(namespace: str, name: str) -> None:
    """The stack is gone (or another replica works on it): its gauges go with it."""
    STACKS.forget(namespace, name)


class _Server(Protocol):
    def shutdown(self) -> None: ...


def serve(port: int, address: str = "0.0.0.0") -> _Server | None:
    """prometheus_client's exposition server for the default registry, on its own thread;
    port 0 turns it off."""
    if port == 0:
        return None
    server, _thread = start_http_server(port, addr=address)
    return server
