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
    # QualityDegraded is reported only with a scheduled evaluation, which this stack has not.
    always = len(conditions.ORDER) - 1
    assert [c["lastTransitionTime"] for c in again["conditions"]] == ["t1"] * always
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


def test_available_stays_true_while_a_rolling_worker_and_the_old_api_color_serve() -> None:
    # A normal rollout: the worker rolls (one old pod ready, the new one not yet), the API's
    # old color serves. Ready goes False (not on the current template); Available does not.
    rolling_worker = _deployment(2, 1, generation=2, observed=2, updated=1)
    observed = _observe(_deployment(2, 2), rolling_worker, _statefulset(1, 1))
    reasons = _reasons(compute(observed, {}, now="t1"))
    assert reasons[conditions.READY] == ("False", "ComponentsNotReady")
    assert reasons[conditions.AVAILABLE] == ("True", "Serving")


def test_available_is_false_when_nothing_answers_and_names_what() -> None:
    status = compute(
        _observe(_deployment(2, 0), _deployment(1, 1), _statefulset(1, 1)), {}, now="t"
    )
    available = next(c for c in status["conditions"] if c["type"] == conditions.AVAILABLE)
    assert (available["status"], available["reason"]) == ("False", "NotServing")
    assert "api 0/2 ready" in available["message"]


def test_available_tolerates_as_many_lost_qdrant_peers_as_shards_have_extra_copies() -> None:
    healthy = (_deployment(1, 1), _deployment(1, 1))
    one_down = _statefulset(3, 2)
    with_copies = _observe(*healthy, one_down, qdrant_tolerated=1)  # replicationFactor 2
    without = _observe(*healthy, one_down)  # replicationFactor 1: a shard is gone
    assert _reasons(compute(with_copies, {}, now="t"))[conditions.AVAILABLE][0] == "True"
    assert _reasons(compute(without, {}, now="t"))[conditions.AVAILABLE] == ("False", "NotServing")


def test_a_stack_restoring_its_index_is_not_available_even_with_every_pod_ready() -> None:
    from ragops_operator.planning.restore import Restore

    healthy = (_deployment(1, 1), _deployment(1, 1), _statefulset(1, 1))
    for phase, reason in (("Running", "Restoring"), ("Failed", "RestoreFailed")):
        observed = _observe(*healthy, restore=Restore("latest", phase, "restoring latest"))
        assert _reasons(compute(observed, {}, now="t"))[conditions.AVAILABLE] == ("False", reason)
    done = _observe(*healthy, restore=Restore("latest", "Completed"))
    assert _reasons(compute(done, {}, now="t"))[conditions.AVAILABLE] == ("True", "Serving")
