"""The quality gate in the blue/green planner and the verdict read from the evaluation Job: a
preview is promoted only on a passed summary, never on missing evidence."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from ragops_operator.objects import Obj
from ragops_operator.planning.quality import Verdict, parse_summary, verdict
from ragops_operator.planning.rollout import (
    ColorHealth,
    Observation,
    Plan,
    Policy,
    RolloutState,
    plan,
)

GATED = Policy(
    observe_seconds=900,
    retire_delay_seconds=60,
    progress_deadline_seconds=600,
    quality_gate=True,
    quality_timeout_seconds=660,
)
STABLE = RolloutState(phase="Stable", active_color="blue", active_hash="v1")


def ready(template: str) -> ColorHealth:
    return ColorHealth(exists=True, ready=2, desired=2, updated=True, template=template)


def _obs(quality: Verdict | None = None, **extra: Any) -> Observation:
    return Observation(
        desired_hash="v2",
        health={"blue": ready("v1"), "green": ready("v2")},
        quality=quality,
        **extra,
    )


def _reasons(result: Plan) -> list[str]:
    return [reason for _, reason, _ in result.events]


def _gate_started(now: float = 100) -> Plan:
    return plan(STABLE, _obs(), GATED, now=now)


def test_a_ready_preview_is_not_promoted_while_its_evaluation_is_pending() -> None:
    started = _gate_started()
    assert started.service == "blue" and started.evaluate, "the evaluation Job is wanted"
    assert started.state.reason == "QualityGatePending"
    assert _reasons(started) == ["RolloutStarted", "QualityGateStarted"]
    running = plan(started.state, _obs(Verdict("running", "evaluating green")), GATED, now=200)
    assert running.service == "blue" and running.evaluate and running.preview_service == "green"
    assert running.events == (), "the gate's start is announced once"
    assert running.requeue_after is not None and running.requeue_after <= 560


def test_a_passed_evaluation_promotes_and_is_kept_in_status() -> None:
    report = {"result": "passed", "color": "green", "metrics": {"answer_hit": 0.9}}
    passed = plan(
        _gate_started().state, _obs(Verdict("passed", "green passed", report)), GATED, now=300
    )
    assert passed.service == "green" and passed.state.phase == "Observing"
    assert _reasons(passed) == ["QualityGatePassed", "Promoted"]
    assert passed.state.quality == report and not passed.evaluate


def test_without_a_gate_a_ready_preview_is_promoted_at_once() -> None:
    ungated = replace(GATED, quality_gate=False)
    assert plan(STABLE, _obs(), ungated, now=100).service == "green"


def test_a_failed_evaluation_aborts_with_the_metric_values_and_threshold() -> None:
    why = "answer_hit 0.6 on green vs 0.9 on blue: regression allowed 0.05"
    failed = plan(
        _gate_started().state,
        _obs(Verdict("failed", why, {"result": "failed", "message": why})),
        GATED,
        now=300,
    )
    assert failed.service == "blue" and failed.state.phase == "Aborted"
    assert failed.state.reason == "QualityGateFailed" and why in failed.state.message
    assert failed.retired == ("green",) and failed.state.failed_hash == "v2"
    assert [(t, r) for t, r, _ in failed.events] == [("Warning", "QualityGateFailed")]
    assert why in failed.events[0][2] and "blue keeps serving" in failed.events[0][2]
    again = plan(failed.state, _obs(), GATED, now=400)
    assert again.state.phase == "Aborted" and again.render == (), "not retried"


@pytest.mark.parametrize(
    "why",
    [
        "evaluation Job demo-quality-v2 gave no usable result: BackoffLimitExceeded",
        "evaluation Job demo-quality-v2 gave no usable result: timed out (DeadlineExceeded)",
        "the summary of demo-quality-v2 has no check for min answer_hit",
    ],
)
def test_an_evaluation_without_a_usable_result_aborts_and_never_promotes(why: str) -> None:
    errored = plan(
        _gate_started().state, _obs(Verdict("error", why, {"result": "error"})), GATED, now=300
    )
    assert errored.service == "blue" and errored.state.phase == "Aborted"
    assert errored.state.reason == "QualityGateError" and why in errored.state.message


def test_no_result_within_the_timeout_aborts() -> None:
    started = _gate_started(now=100)
    late = plan(started.state, _obs(Verdict("running", "evaluating")), GATED, now=100 + 660)
    assert late.service == "blue" and late.state.reason == "QualityGateError"
    assert "no evaluation result after 660s" in late.state.message


def test_a_manual_promote_does_not_bypass_a_pending_gate() -> None:
    pending = plan(
        _gate_started().state,
        _obs(Verdict("running", "evaluating"), action="promote"),
        GATED,
        now=200,
    )
    assert pending.service == "blue" and not pending.consume_action


def test_with_manual_promotion_a_passed_gate_waits_for_the_annotation() -> None:
    manual = replace(GATED, auto_promote=False)
    started = plan(STABLE, _obs(), manual, now=100)
    passed = plan(started.state, _obs(Verdict("passed", "ok", {"result": "passed"})), manual, 200)
    assert passed.service == "blue" and passed.state.reason == "AwaitingPromotion"
    # The Job is pruned once passed; the verdict in status is what counts from then on.
    promoted = plan(passed.state, _obs(action="promote"), manual, now=300)
    assert promoted.service == "green" and _reasons(promoted) == ["Promoted"]


def test_a_newer_template_starts_a_new_evaluation() -> None:
    started = _gate_started()
    newer = plan(
        started.state,
        Observation(desired_hash="v3", health={"blue": ready("v1"), "green": ready("v3")}),
        GATED,
        now=200,
    )
    assert newer.state.preview_hash == "v3" and newer.state.quality_started_at == 200
    assert newer.service == "blue" and newer.evaluate


# --- the verdict of an evaluation Job ---------------------------------------------------------

NOW = "2026-12-05T02:00:00Z"


def summary(passed: bool, checks: list[Obj], **extra: Any) -> str:
    return json.dumps(
        {
            "kind": "ragops-eval-summary",
            "url": "http://demo-api-preview.ns.svc:80",
            "questions": 40,
            "errors": 0,
            "metrics": {"answer_hit": 0.6, "source_hit@1": 0.5, "page_hit": None},
            "baseline": {"url": "http://demo-api.ns.svc:80", "metrics": {"answer_hit": 0.9}},
            "checks": checks,
            "passed": passed,
            **extra,
        }
    )


def job(name: str = "demo-quality-v2", condition: str | None = "Complete", **why: str) -> Obj:
    conditions = [{"type": condition, "status": "True", **why}] if condition else []
    return {"kind": "Job", "metadata": {"name": name}, "status": {"conditions": conditions}}


def pod(message: str | None) -> Obj:
    terminated = {"exitCode": 1, **({"message": message} if message is not None else {})}
    return {
        "metadata": {"name": "p", "creationTimestamp": "2026-12-05T01:59:00Z"},
        "status": {"containerStatuses": [{"state": {"terminated": terminated}}]},
    }


MIN_OK = {"metric": "answer_hit", "kind": "min", "value": 0.9, "threshold": 0.8, "passed": True}
REGRESSED = {
    "metric": "answer_hit",
    "kind": "regression",
    "value": 0.6,
    "baseline": 0.9,
    "allowed": 0.05,
    "passed": False,
}


def judge(job_: Obj | None, pods: list[Obj], wanted: list[tuple[str, str]]) -> Verdict:
    return verdict(job_, pods, color="green", baseline_color="blue", wanted=wanted, now=NOW)


def test_a_passed_summary_with_every_wanted_check_passes() -> None:
    result = judge(job(), [pod(summary(True, [MIN_OK]))], [("min", "answer_hit")])
    assert result.result == "passed" and result.report is not None
    assert result.report["metrics"]["answer_hit"] == 0.6 and result.report["questions"] == 40
    assert result.report["baselineMetrics"] == {"answer_hit": 0.9}


def test_a_failed_check_is_named_with_both_colors_values_and_the_threshold() -> None:
    failed_job = job(condition="Failed", reason="BackoffLimitExceeded")
    result = judge(failed_job, [pod(summary(False, [REGRESSED]))], [])
    assert result.result == "failed"
    assert result.message == "answer_hit 0.6 on green vs 0.9 on blue: regression allowed 0.05"


def test_a_running_or_missing_job_is_pending() -> None:
    assert judge(None, [], []).result == "running"
    assert judge(job(condition=None), [], []).result == "running"


@pytest.mark.parametrize(
    ("job_", "message", "expected"),
    [
        (job(condition="Failed", reason="DeadlineExceeded"), None, "timed out"),
        (job(condition="Failed", reason="BackoffLimitExceeded"), "Traceback ...", "no usable"),
        (job(), "not json", "no usable"),
        (job(), json.dumps({"kind": "other", "passed": True}), "no usable"),
        (job(), "x" * 5000, "no usable"),
    ],
)
def test_no_summary_is_an_error_never_a_pass(job_: Obj, message: str | None, expected: str) -> None:
    result = judge(job_, [pod(message)], [])
    assert result.result == "error" and expected in result.message


def test_a_summary_claiming_a_pass_without_a_wanted_check_is_an_error() -> None:
    result = judge(job(), [pod(summary(True, [MIN_OK]))], [("regression", "answer_hit")])
    assert result.result == "error" and "no check for regression answer_hit" in result.message


def test_a_summary_that_did_not_pass_without_a_failed_check_is_an_error() -> None:
    result = judge(job(), [pod(summary(False, [MIN_OK], errors=3))], [("min", "answer_hit")])
    assert result.result == "error" and "errors: 3" in result.message


def test_the_summary_is_found_as_the_last_line_of_a_log_tail() -> None:
    lines = '{"question": "q1", "hit": true}\n' + summary(True, [MIN_OK])
    assert parse_summary(lines) is not None
    assert parse_summary(None) is None and parse_summary("") is None


def test_a_failed_errors_check_is_a_failure_named_without_a_baseline_value() -> None:
    errors = {"metric": "errors", "kind": "max", "value": 3, "threshold": 0, "passed": False}
    result = judge(job(), [pod(summary(False, [MIN_OK, errors], errors=3))], [])
    assert result.result == "failed" and result.message == "errors 3 on green: max 0"
