"""Status as a pure function of what a reconcile saw: conditions, reasons, transition times."""

from __future__ import annotations

from typing import Any

from ragops_operator.planning import conditions
from ragops_operator.planning.status import Observation, compute
from tests.support.builder_specs import OWNER


def _deployment(
    replicas: int, ready: int, *, generation: int = 1, observed: int = 1, updated: int | None = None
) -> dict[str, Any]:
    return {
        "metadata": {"generation": generation},
        "spec": {"replicas": replicas},
        "status": {
            "observedGeneration": observed,
            "updatedReplicas": replicas if updated is None else updated,
            "readyReplicas": ready,
            "availableReplicas": ready,
        },
    }


def _statefulset(replicas: int, ready: int) -> dict[str, Any]:
    return {
        "metadata": {"generation": 1},
        "spec": {"replicas": replicas},
        "status": {
            "observedGeneration": 1,
            "readyReplicas": ready,
            "currentRevision": "r1",
            "updateRevision": "r1",
        },
    }


def _observe(
    api: dict[str, Any] | None,
    worker: dict[str, Any] | None,
    qdrant: dict[str, Any] | None,
    **extra: Any,
) -> Observation:
    children = {}
    for key, obj in (
        (("Deployment", "demo-api-blue"), api),
        (("Deployment", "demo-worker"), worker),
        (("StatefulSet", "demo-qdrant"), qdrant),
    ):
        if obj is not None:
            children[key] = obj
    return Observation(
        owner=OWNER, generation=3, active_color="blue", api_image="img", children=children, **extra
    )


def _reasons(status: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}


def test_all_components_serving_is_ready() -> None:
    status = compute(
        _observe(_deployment(2, 2), _deployment(1, 1), _statefulset(1, 1)), {}, now="t1"
    )
    assert _reasons(status)[conditions.READY] == ("True", "AllComponentsReady")
    assert _reasons(status)[conditions.PROGRESSING] == ("False", "ReconcileComplete")
    assert status["observedGeneration"] == 3 and status["api"]["readyReplicas"] == 2
    assert all(c["observedGeneration"] == 3 for c in status["conditions"])


def test_missing_component_is_named_in_the_message() -> None:
    status = compute(_observe(_deployment(2, 2), None, _statefulset(1, 1)), {}, now="t1")
    ready = next(c for c in status["conditions"] if c["type"] == conditions.READY)
    assert (ready["status"], ready["reason"]) == ("False", "ComponentsNotReady")
    assert "worker 0/1" in ready["message"]


def test_hpa_below_the_spec_minimum_is_still_progressing() -> None:
    observed = _observe(
        _deployment(1, 1), _deployment(1, 1), _statefulset(1, 1), minimum_replicas=(3, 1, 1)
    )
    reasons = _reasons(compute(observed, {}, now="t1"))
    assert reasons[conditions.READY] == ("False", "ComponentsNotReady")
    assert reasons[conditions.PROGRESSING] == ("True", "RollingOut")


def test_lost_pods_after_a_rollout_are_degraded() -> None:
    reasons = _reasons(
        compute(_observe(_deployment(3, 1), _deployment(1, 1), _statefulset(1, 1)), {}, now="t1")
    )
    assert reasons[conditions.DEGRADED] == ("True", "ReplicasUnavailable")


def test_apply_errors_are_degraded_and_paused_is_not_progressing() -> None:
    observed = _observe(
        _deployment(1, 1),
        _deployment(1, 1),
        _statefulset(1, 1),
        errors=["StatefulSet demo-qdrant: 422 forbidden"],
        paused=True,
    )
    reasons = _reasons(compute(observed, {}, now="t1"))
    assert reasons[conditions.DEGRADED] == ("True", "ApplyFailed")
    assert reasons[conditions.PROGRESSING] == ("False", "Paused")


def test_transition_time_moves_only_when_the_status_changes() -> None:
    ready = _observe(_deployment(1, 1), _deployment(1, 1), _statefulset(1, 1))
    first = compute(ready, {}, now="t1")
    again = compute(ready, first, now="t2")
    assert [c["lastTransitionTime"] for c in again["conditions"]] == ["t1"] * 4
    broken = compute(
        _observe(_deployment(1, 0, updated=0), _deployment(1, 1), _statefulset(1, 1)),
        again,
        now="t3",
    )
    times = {c["type"]: c["lastTransitionTime"] for c in broken["conditions"]}
    assert times[conditions.READY] == "t3" and times[conditions.MONITORING] == "t1"


def test_monitoring_condition_says_why() -> None:
    healthy = (_deployment(1, 1), _deployment(1, 1), _statefulset(1, 1))
    assert _reasons(compute(_observe(*healthy, prometheus_operator=True), {}, now="t"))[
        conditions.MONITORING
    ] == ("True", "PrometheusOperatorFound")
    assert _reasons(compute(_observe(*healthy), {}, now="t"))[conditions.MONITORING] == (
        "False",
        "PrometheusOperatorMissing",
    )
    assert _reasons(compute(_observe(*healthy, monitoring_wanted=False), {}, now="t"))[
        conditions.MONITORING
    ] == ("False", "Disabled")
