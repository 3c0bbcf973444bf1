"""One pass's decisions from plain fixtures: an Observed built by hand, no cluster, no clock."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from ragops_operator.api import v1alpha1 as api
from ragops_operator.builders.api import TEMPLATE_ANNOTATION, template_hash
from ragops_operator.builders.labels import COMPONENT_LABEL
from ragops_operator.objects import Obj, key_of
from ragops_operator.planning import conditions, last_backup
from ragops_operator.planning.blue_green import ACTION_ANNOTATION
from ragops_operator.planning.decide import Decision, Report, decide, final_status, invalid, ready
from ragops_operator.planning.observed import Observed, colors_to_read
from ragops_operator.planning.rollout import Signals
from tests.support.builder_specs import MINIMAL, OWNER, make_spec

NOW = 1_800_000_000.0  # the clock `decide` is given, in seconds


def _time(seconds_ago: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(NOW - seconds_ago, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def body(
    spec: dict[str, Any] | None = None,
    *,
    status: Obj | None = None,
    annotations: dict[str, str] | None = None,
) -> Obj:
    metadata: Obj = {
        "name": OWNER.name,
        "namespace": OWNER.namespace,
        "uid": OWNER.uid,
        "generation": 4,
    }
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": f"{api.GROUP}/{api.VERSION}",
        "kind": api.KIND,
        "metadata": metadata,
        "spec": {**MINIMAL, **(spec or {})},
        "status": status or {},
    }


def pass_over(resource_body: Obj, **observed: Any) -> Decision:
    resource = api.RAGDeployment.model_validate(resource_body)
    return decide(
        resource, dict(resource_body["status"]), Observed(body=resource_body, **observed), now=NOW
    )


def owned(kind: str, name: str, **fields: Any) -> Obj:
    meta = {
        "name": name,
        "namespace": OWNER.namespace,
        "uid": f"uid-{name}",
        "ownerReferences": [{"uid": OWNER.uid}],
    }
    return {"apiVersion": "v1", "kind": kind, "metadata": meta, **fields}


def api_deployment(
    color: str, template: str, *, ready: int, image: str = "ragops/ragops:0.0.9"
) -> Obj:
    obj = owned(
        "Deployment",
        f"demo-api-{color}",
        spec={
            "replicas": 2,
            "template": {"metadata": {}, "spec": {"containers": [{"image": image}]}},
        },
        status={
            "observedGeneration": 1,
            "updatedReplicas": 2,
            "readyReplicas": ready,
            "availableReplicas": ready,
        },
    )
    obj["metadata"].update(generation=1, annotations={TEMPLATE_ANNOTATION: template})
    return obj


def children(*objs: Obj) -> dict[tuple[str, str], Obj]:
    return {key_of(obj): obj for obj in objs}


def rollout_status(**rollout: Any) -> Obj:
    active = rollout.pop("activeColor", "blue")
    return {"api": {"activeColor": active, "rollout": rollout}}


def keys(decision: Decision) -> list[tuple[str, str]]:
    return [key_of(manifest) for manifest in decision.desired]


def report(decision: Decision) -> Report:
    assert isinstance(decision.status, Report)
    return decision.status


def reasons(status: Obj) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}


HASH = template_hash(make_spec(), OWNER)  # the template the minimal spec renders


def test_a_new_stack_desires_the_whole_stack_config_first_and_prunes_nothing() -> None:
    decision = pass_over(body())
    desired = keys(decision)
    assert desired[0] == ("ConfigMap", "demo-config"), "pods read the ConfigMap when they start"
    assert {
        ("StatefulSet", "demo-qdrant"),
        ("Deployment", "demo-api-blue"),
        ("HorizontalPodAutoscaler", "demo-api-blue"),
        ("Service", "demo-api"),
        ("Deployment", "demo-worker"),
        ("NetworkPolicy", "demo-default-deny"),
    } <= set(desired)
    assert not [
        key
        for key in desired
        if "green" in key[1] or key[0] in ("ServiceMonitor", "PrometheusRule", "Job")
    ]
    assert (decision.prune, decision.keep, decision.events, decision.consume_action) == (
        (),
        frozenset(),
        (),
        False,
    )
    first = report(decision)
    assert (first.active_color, first.preview_color, first.generation) == ("blue", None, 4)
    assert first.rollout["phase"] == "Stable" and first.rollout["activeHash"] == HASH


def test_monitors_are_desired_only_where_the_prometheus_operator_is_served() -> None:
    decision = pass_over(body(), prometheus_operator=True)
    assert {("ServiceMonitor", "demo-api"), ("PrometheusRule", "demo")} <= set(keys(decision))
    assert report(decision).prometheus_operator is True


def test_a_paused_stack_changes_nothing_and_still_gets_a_status() -> None:
    running = rollout_status(phase="Stable", activeHash="h-old")
    live = children(api_deployment("blue", "h-old", ready=2), owned("ConfigMap", "demo-leftover"))
    paused = body(
        {"paused": True, "image": "ragops/ragops:0.2.0"},
        status=running,
        annotations={ACTION_ANNOTATION: "promote"},
    )
    decision = pass_over(paused, children=live)
    assert decision.desired == () and decision.prune == () and decision.events == ()
    assert decision.requeue_after is None and decision.consume_action is False
    status = final_status(decision, paused["status"], children=live, errors=(), now="t1")
    assert reasons(status)[conditions.PROGRESSING] == ("False", "Paused")
    assert status["api"]["activeImage"] == "ragops/ragops:0.0.9", (
        "the image that runs, not the paused spec's"
    )


def test_a_rollout_in_progress_renders_the_preview_and_keeps_the_serving_color() -> None:
    progressing = rollout_status(
        phase="Progressing",
        activeHash="h-old",
        previewColor="green",
        previewHash=HASH,
        startedAt=_time(100),
    )
    stale = owned("ConfigMap", "demo-leftover")
    live = children(
        api_deployment("blue", "h-old", ready=2),
        owned("HorizontalPodAutoscaler", "demo-api-blue"),
        api_deployment("green", HASH, ready=1),
        stale,
    )
    decision = pass_over(body(status=progressing), children=live)
    desired = keys(decision)
    assert ("Deployment", "demo-api-green") in desired and (
        "Deployment",
        "demo-api-blue",
    ) not in desired
    assert decision.keep == {
        ("Deployment", "demo-api-blue"),
        ("HorizontalPodAutoscaler", "demo-api-blue"),
    }
    assert decision.prune == (stale,), "only the child neither desired nor kept goes"
    assert decision.requeue_after is not None and decision.requeue_after <= 500, (
        "the progress deadline"
    )
    assert (report(decision).active_color, report(decision).preview_color) == ("blue", "green")


def test_signals_of_the_observed_color_roll_it_back() -> None:
    observing = rollout_status(
        activeColor="green",
        phase="Observing",
        activeHash=HASH,
        previousColor="blue",
        previousHash="h-old",
        switchedAt=_time(60),
    )
    live = children(
        api_deployment("blue", "h-old", ready=2), api_deployment("green", HASH, ready=2)
    )
    healthy = pass_over(body(status=observing), children=live)
    assert healthy.events == () and report(healthy).active_color == "green"
    failing = pass_over(
        body(status=observing), children=live, signals={"green": Signals(error_rate_percent=40.0)}
    )
    assert [reason for _, reason, _ in failing.events] == ["RolledBack"]
    assert report(failing).active_color == "blue"


def test_a_promote_annotation_is_consumed_once_acted_on() -> None:
    progressing = rollout_status(
        phase="Progressing",
        activeHash="h-old",
        previewColor="green",
        previewHash=HASH,
        startedAt=_time(30),
    )
    live = children(
        api_deployment("blue", "h-old", ready=2), api_deployment("green", HASH, ready=2)
    )
    decision = pass_over(
        body(status=progressing, annotations={ACTION_ANNOTATION: "promote"}), children=live
    )
    assert decision.consume_action is True
    assert ("Normal", "Promoted") in {(type_, reason) for type_, reason, _ in decision.events}


def backup_job(name: str, finished: str) -> Obj:
    job = owned(
        "Job",
        name,
        status={"conditions": [{"type": "Complete", "status": "True"}], "completionTime": finished},
    )
    job["metadata"].update(
        labels={COMPONENT_LABEL: "backup"}, ownerReferences=[{"uid": "uid-of-the-cronjob"}]
    )
    return job


REPORTED = {
    "time": "2026-11-29T03:04:05Z",
    "snapshot": "s3://b/x/",
    "result": "success",
    "points": 12,
}
POD = {
    "metadata": {"name": "p"},
    "status": {"containerStatuses": [{"state": {"terminated": {"message": json.dumps(REPORTED)}}}]},
}
BACKUPS = {"backup": {"enabled": True, "bucket": "backups-bucket"}}


def test_last_backup_comes_from_the_pods_of_an_unreported_job() -> None:
    jobs = (
        backup_job("demo-backup-1", "2026-11-28T03:05:00Z"),
        backup_job("demo-backup-2", "2026-11-29T03:05:00Z"),
    )
    assert last_backup.unreported(list(jobs), None) == jobs[1], "the gather reads this Job's pods"
    decision = pass_over(body(BACKUPS), jobs=jobs, backup_pods=(POD,))
    assert report(decision).last_backup == {**REPORTED, "job": "demo-backup-2"}


def test_a_reported_backup_is_kept_without_reading_pods() -> None:
    saved = {**REPORTED, "job": "demo-backup-2"}
    jobs = (backup_job("demo-backup-2", "2026-11-29T03:05:00Z"),)
    assert last_backup.unreported(list(jobs), saved) is None
    assert (
        report(pass_over(body(BACKUPS, status={"lastBackup": saved}), jobs=jobs)).last_backup
        == saved
    )


def _invalid(resource_body: Obj) -> Decision:
    with pytest.raises(ValidationError) as caught:
        api.RAGDeployment.model_validate(resource_body)
    return invalid(resource_body, caught.value, now="t1")


def test_an_invalid_spec_changes_nothing_says_why_and_warns_once() -> None:
    broken = body()
    del broken["spec"]["documents"]
    decision = _invalid(broken)
    assert decision.desired == () and decision.prune == () and decision.requeue_after is None
    status = final_status(decision, {}, children={}, errors=(), now="t2")
    assert reasons(status)[conditions.READY] == ("False", "InvalidSpec") and not ready(status)
    assert [(type_, reason) for type_, reason, _ in decision.events] == [("Warning", "InvalidSpec")]
    assert "spec.documents" in decision.events[0][2]
    broken["status"] = status
    assert _invalid(broken).events == (), "no new Warning while nothing changed"


def test_status_reports_the_image_the_write_returned() -> None:
    decision = pass_over(body())
    applied = children(api_deployment("blue", HASH, ready=2, image="ragops/ragops:0.1.0-applied"))
    assert (
        final_status(decision, {}, children=applied, errors=(), now="t")["api"]["activeImage"]
        == "ragops/ragops:0.1.0-applied"
    )
    assert (
        final_status(decision, {}, children={}, errors=(), now="t")["api"]["activeImage"]
        == MINIMAL["image"]
    )
    failed = final_status(
        decision, {}, children={}, errors=("Deployment demo-worker: 422 nope",), now="t"
    )
    assert reasons(failed)[conditions.DEGRADED] == ("True", "ApplyFailed")


@pytest.mark.parametrize(
    ("spec", "saved", "colors"),
    [
        (
            {},
            rollout_status(phase="Progressing", activeHash="a", previewColor="green"),
            (),
        ),  # no Prometheus
        (
            {"monitoring": {"prometheusUrl": "http://p:9090"}},
            rollout_status(phase="Progressing", activeHash="a", previewColor="green"),
            ("green",),
        ),
        (
            {"monitoring": {"prometheusUrl": "http://p:9090"}},
            rollout_status(activeColor="green", phase="Observing", activeHash="a"),
            ("green",),
        ),
        (
            {"monitoring": {"prometheusUrl": "http://p:9090"}},
            rollout_status(phase="Stable", activeHash="a"),
            (),
        ),
        (
            {"monitoring": {"prometheusUrl": "http://p:9090"}, "paused": True},
            rollout_status(phase="Progressing", activeHash="a", previewColor="green"),
            (),
        ),
    ],
)
def test_prometheus_is_read_only_for_the_colors_under_watch(
    spec: Obj, saved: Obj, colors: tuple[str, ...]
) -> None:
    assert colors_to_read(make_spec(**spec), saved) == colors


VERIFIED = {
    "kind": "verification",
    "time": "2026-11-29T05:10:00Z",
    "backup": "s3://b/x/",
    "result": "failed",
    "reason": "ragops-v1: 3 points restored, the manifest says 4",
}


def verify_job(name: str, finished: str) -> Obj:
    job = backup_job(name, finished)
    job["metadata"]["labels"] = {COMPONENT_LABEL: "backup-verify"}
    return job


def test_last_verification_comes_from_the_verify_jobs_pods_not_the_backups() -> None:
    spec = {"backup": {**BACKUPS["backup"], "verify": {"enabled": True}}}
    jobs = (
        backup_job("demo-backup-2", "2026-11-29T03:05:00Z"),
        verify_job("demo-backup-verify-1", "2026-11-29T05:10:01Z"),
        backup_job("demo-backup-3", "2026-11-29T06:05:00Z"),
    )
    assert last_backup.unreported(list(jobs), None, component="backup-verify") == jobs[1]
    verify_pod = {
        "metadata": {"name": "v"},
        "status": {
            "containerStatuses": [{"state": {"terminated": {"message": json.dumps(VERIFIED)}}}]
        },
    }
    decision = pass_over(body(spec), jobs=jobs, backup_pods=(POD,), verify_pods=(verify_pod,))
    expected = {k: v for k, v in VERIFIED.items() if k != "kind"} | {"job": "demo-backup-verify-1"}
    assert report(decision).last_verification == expected
    assert report(decision).last_backup == {**REPORTED, "job": "demo-backup-3"}
    status = final_status(decision, {}, children={}, errors=(), now="t2")
    assert status["lastBackupVerification"] == expected
    api.RAGDeploymentStatus.model_validate(status)  # what the CRD's status schema accepts

    saved = pass_over(body(spec, status={"lastBackupVerification": expected}), jobs=jobs)
    assert report(saved).last_verification == expected, "a reported Job's pods are not read again"


WORKER = ("Deployment", "demo-worker")


def _worker_on(image: str) -> Obj:
    return owned(
        "Deployment",
        "demo-worker",
        spec={"template": {"metadata": {}, "spec": {"containers": [{"image": image}]}}},
    )


@pytest.mark.parametrize(
    "rollout",
    [
        {"phase": "Progressing", "activeHash": "h-old", "previewColor": "green",
         "previewHash": HASH, "startedAt": _time(100)},
        {"activeColor": "green", "phase": "Observing", "activeHash": HASH,
         "previousColor": "blue", "previousHash": "h-old", "switchedAt": _time(60)},
        {"phase": "RolledBack", "activeHash": "h-old", "failedHash": HASH},
        {"phase": "Aborted", "activeHash": "h-old", "failedHash": HASH},
    ],
    ids=["progressing", "observing", "rolled-back", "aborted"],
)  # fmt: skip
def test_the_worker_waits_for_the_api_gate_and_stays_put_when_it_fails(
    rollout: dict[str, Any],
) -> None:
    live = children(
        api_deployment("blue", "h-old", ready=2),
        api_deployment("green", HASH, ready=2),
        _worker_on("ragops/ragops:0.0.9"),
    )
    # The spec's template is HASH (a new image, say); the worker runs the old one.
    decision = pass_over(body(status=rollout_status(**rollout)), children=live)
    assert WORKER not in keys(decision), "the worker must not move to an ungated template"
    assert WORKER in decision.keep and WORKER not in {key_of(o) for o in decision.prune}


@pytest.mark.parametrize("phase", ["Stable", "Retiring"])
def test_the_worker_rolls_once_the_api_passed_its_observation(phase: str) -> None:
    live = children(api_deployment("blue", HASH, ready=2), _worker_on("ragops/ragops:0.0.9"))
    settled = rollout_status(phase=phase, activeHash=HASH)
    decision = pass_over(body(status=settled), children=live)
    assert WORKER in keys(decision) and WORKER not in decision.keep


def test_a_missing_worker_is_created_even_during_a_rollout() -> None:
    progressing = rollout_status(
        phase="Progressing", activeHash="h-old", previewColor="green", previewHash=HASH,
        startedAt=_time(100),
    )  # fmt: skip
    live = children(api_deployment("blue", "h-old", ready=2))
    assert WORKER in keys(pass_over(body(status=progressing), children=live))
