"""One reconcile pass of a quality-gated rollout, from plain fixtures: the evaluation Job is
desired while the verdict is pending, its pod's summary decides, status carries the result; a
scheduled check's summary sets QualityDegraded."""

from __future__ import annotations

from typing import Any

from ragops_operator.api import v1alpha1 as api
from ragops_operator.builders import quality as quality_builder
from ragops_operator.builders.api import template_hash
from ragops_operator.builders.labels import COMPONENT_LABEL
from ragops_operator.objects import Obj
from ragops_operator.planning import conditions, last_backup
from ragops_operator.planning.decide import final_status
from ragops_operator.planning.observed import quality_jobs_to_read
from tests.support.builder_specs import OWNER
from tests.unit.operator.planning.test_decide import (
    _time,
    api_deployment,
    body,
    children,
    keys,
    owned,
    pass_over,
    reasons,
    report,
    rollout_status,
)
from tests.unit.operator.planning.test_quality_gate import MIN_OK, REGRESSED, pod, summary

GATE: dict[str, Any] = {
    "questions": {"configMapKeyRef": {"name": "golden", "key": "q.jsonl"}},
    "minimums": {"answer_hit": 0.8},
    "maxRegression": {"answer_hit": 0.05},
}
SPEC = {"api": {"rollout": {"qualityGate": GATE}}}


def _hash() -> str:
    return template_hash(api.RAGDeployment.model_validate(body(SPEC)).spec, OWNER)


def _progressing(**extra: Any) -> Obj:
    return rollout_status(
        phase="Progressing",
        activeHash="h-old",
        previewColor="green",
        previewHash=_hash(),
        startedAt=_time(100),
        **extra,
    )


def _colors() -> dict[tuple[str, str], Obj]:
    return children(
        api_deployment("blue", "h-old", ready=2), api_deployment("green", _hash(), ready=2)
    )


def _gate_job(condition: str, **fields: str) -> Obj:
    job = owned(
        "Job",
        quality_builder.gate_job_name(OWNER, _hash()),
        status={"conditions": [{"type": condition, "status": "True", **fields}]},
    )
    job["metadata"]["labels"] = {COMPONENT_LABEL: quality_builder.COMPONENT_GATE}
    return job


def _pod_of(job: Obj, message: str) -> Obj:
    p = pod(message)
    p["metadata"]["labels"] = {last_backup.JOB_NAME_LABEL: job["metadata"]["name"]}
    return p


def test_a_ready_preview_gets_its_evaluation_job_and_is_not_promoted() -> None:
    decision = pass_over(body(SPEC, status=_progressing()), children=_colors())
    job_name = quality_builder.gate_job_name(OWNER, _hash())
    assert ("Job", job_name) in keys(decision)
    assert report(decision).active_color == "blue"
    assert [r for _, r, _ in decision.events] == ["QualityGateStarted"]
    assert report(decision).rollout["reason"] == "QualityGatePending"


def test_a_failed_summary_aborts_the_rollout_and_lands_in_status() -> None:
    state = _progressing(qualityStartedAt=_time(50))
    job = _gate_job("Failed", reason="BackoffLimitExceeded")
    live = {**_colors(), **children(job)}
    resource = body(SPEC, status=state)
    pods = (_pod_of(job, summary(False, [MIN_OK, REGRESSED])),)
    spec = api.RAGDeployment.model_validate(resource).spec
    assert quality_jobs_to_read(spec, state, (job,)) == (job,), (
        "the gate Job's pods are read while a verdict is awaited"
    )
    decision = pass_over(resource, children=live, jobs=(job,), quality_pods=pods)
    assert report(decision).active_color == "blue"
    assert ("Job", job["metadata"]["name"]) not in keys(decision)
    warning = [m for t, r, m in decision.events if (t, r) == ("Warning", "QualityGateFailed")]
    assert warning and "answer_hit 0.6 on green vs 0.9 on blue" in warning[0]
    status = final_status(decision, resource["status"], children=live, errors=(), now="t1")
    rollout = status["api"]["rollout"]
    assert (rollout["phase"], rollout["reason"]) == ("Aborted", "QualityGateFailed")
    assert rollout["quality"]["result"] == "failed"
    assert rollout["quality"]["metrics"]["answer_hit"] == 0.6
    assert rollout["quality"]["baselineMetrics"] == {"answer_hit": 0.9}
    degraded = reasons(status)[conditions.DEGRADED]
    assert degraded == ("True", "RolloutAborted")


def test_a_scheduled_check_below_a_minimum_sets_quality_degraded() -> None:
    spec = {"api": {"rollout": {"qualityGate": {**GATE, "schedule": "@hourly"}}}}
    resource = body(spec, status=rollout_status(phase="Stable", activeHash="h-old"))
    run = owned(
        "Job",
        "demo-quality-check-29000000",
        status={
            "completionTime": "2026-12-05T01:00:00Z",
            "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}],
        },
    )
    run["metadata"]["labels"] = {COMPONENT_LABEL: quality_builder.COMPONENT_CHECK}
    run["metadata"]["ownerReferences"] = []  # the CronJob's, not the stack's
    low = dict(MIN_OK, value=0.5, passed=False)
    pods = (_pod_of(run, summary(False, [low])),)
    live = children(api_deployment("blue", "h-old", ready=2))
    decision = pass_over(resource, children=live, jobs=(run,), quality_pods=pods)
    assert ("CronJob", "demo-quality-check") in keys(decision)
    status = final_status(decision, resource["status"], children=live, errors=(), now="t1")
    assert reasons(status)["QualityDegraded"] == ("True", "BelowThresholds")
    assert status["lastQualityCheck"]["job"] == "demo-quality-check-29000000"
    assert "answer_hit 0.5 on blue: minimum 0.8" in status["lastQualityCheck"]["message"]
    # Without a schedule there is no such condition at all.
    plain = pass_over(body(SPEC, status=rollout_status(phase="Stable", activeHash="h-old")))
    after = final_status(plain, {}, children={}, errors=(), now="t1")
    assert "QualityDegraded" not in reasons(after)
